using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// A Reference-prompt forward through the text tower kept for its backward (spec §2.2): each block's
/// <see cref="BlockActivations"/> for x [C, L, Dt], ln_final's input and statistics, the gather indices,
/// and the output <see cref="Features"/> [C, E].
/// </summary>
public sealed class PromptActivations : IDisposable
{
    internal PromptActivations(BlockActivations[] blocks, Tensor finalInput, Tensor finalMean, Tensor finalRstd, int[] indices, Tensor features, int contextCount)
    {
        ContextCount = contextCount;
        Blocks = blocks;
        FinalInput = finalInput;
        FinalMean = finalMean;
        FinalRstd = finalRstd;
        Indices = indices;
        Features = features;
    }

    /// <summary>M, the number of context vectors.</summary>
    public int ContextCount { get; }

    public IReadOnlyList<BlockActivations> Blocks { get; }

    /// <summary>The residual stream after the last block, [C, L, Dt].</summary>
    public Tensor FinalInput { get; }

    public Tensor FinalMean { get; }

    public Tensor FinalRstd { get; }

    /// <summary>The gathered position per class, M + 1 + argmax(slot ids).</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>The prompt features [C, E] (not normalised).</summary>
    public Tensor Features { get; }

    public void Dispose()
    {
        foreach (BlockActivations b in Blocks) b.Dispose();
        FinalInput.Dispose();
        FinalMean.Dispose();
        FinalRstd.Dispose();
        Features.Dispose();
    }
}
