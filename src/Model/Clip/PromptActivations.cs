using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// A Reference-prompt forward through the text tower kept for its backward (spec §2.2): each block's
/// <see cref="BlockActivations"/> for x [C, L, Dt] and the head's (ln_final, gather, projection).
/// </summary>
public sealed class PromptActivations(BlockActivations[] blocks, PromptHeadActivations head, int contextCount) : IDisposable
{
    /// <summary>M, the number of context vectors.</summary>
    public int ContextCount { get; } = contextCount;

    public IReadOnlyList<BlockActivations> Blocks { get; } = blocks;

    /// <summary>ln_final on x [C, L, Dt]; indices are M + 1 + argmax(slot ids).</summary>
    public PromptHeadActivations Head { get; } = head;

    /// <summary>The prompt features [C, E] (not normalised).</summary>
    public Tensor Features => Head.Features;

    public void Dispose()
    {
        foreach (BlockActivations b in Blocks) b.Dispose();
        Head.Dispose();
    }
}
