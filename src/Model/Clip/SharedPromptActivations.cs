using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// A shared-prefix Reference-prompt forward (spec §2.2/§14) kept for its backward: per block, the prefix's
/// activations (one sequence of P = M + 1 positions) and the last S positions' (C sequences, keys and values
/// over P + S rows); ln_final's input and statistics on the last positions, the gather indices within them,
/// and the output <see cref="Features"/> [C, E].
/// </summary>
public sealed class SharedPromptActivations : IDisposable
{
    internal SharedPromptActivations(BlockActivations[] prefixBlocks, BlockActivations[] suffixBlocks, Tensor finalInput, Tensor finalMean,
        Tensor finalRstd, int[] indices, Tensor features, int contextCount)
    {
        PrefixBlocks = prefixBlocks;
        SuffixBlocks = suffixBlocks;
        FinalInput = finalInput;
        FinalMean = finalMean;
        FinalRstd = finalRstd;
        Indices = indices;
        Features = features;
        ContextCount = contextCount;
    }

    public int ContextCount { get; }

    public IReadOnlyList<BlockActivations> PrefixBlocks { get; }

    public IReadOnlyList<BlockActivations> SuffixBlocks { get; }

    /// <summary>The last S positions' residual stream after the last block, [C, S, Dt].</summary>
    public Tensor FinalInput { get; }

    public Tensor FinalMean { get; }

    public Tensor FinalRstd { get; }

    /// <summary>The gathered position per class within the last S positions: argmax(slot ids).</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>The prompt features [C, E] (not normalised).</summary>
    public Tensor Features { get; }

    public void Dispose()
    {
        foreach (BlockActivations b in PrefixBlocks) b.Dispose();
        foreach (BlockActivations b in SuffixBlocks) b.Dispose();
        FinalInput.Dispose();
        FinalMean.Dispose();
        FinalRstd.Dispose();
        Features.Dispose();
    }
}
