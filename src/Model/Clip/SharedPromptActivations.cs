using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// A shared-prefix Reference-prompt forward (spec §2.2/§14) kept for its backward: per block, the prefix's
/// activations (one sequence of P = M + 1 positions) and the last S positions' (C sequences, keys and values
/// over P + S rows), and the head's on the last positions only.
/// </summary>
public sealed class SharedPromptActivations(BlockActivations[] prefixBlocks, BlockActivations[] suffixBlocks, PromptHeadActivations head,
    int contextCount) : IDisposable
{
    /// <summary>M, the number of context vectors.</summary>
    public int ContextCount { get; } = contextCount;

    public IReadOnlyList<BlockActivations> PrefixBlocks { get; } = prefixBlocks;

    public IReadOnlyList<BlockActivations> SuffixBlocks { get; } = suffixBlocks;

    /// <summary>ln_final on the last S positions [C, S, Dt]; indices are argmax(slot ids) within them.</summary>
    public PromptHeadActivations Head { get; } = head;

    /// <summary>The prompt features [C, E] (not normalised).</summary>
    public Tensor Features => Head.Features;

    public void Dispose()
    {
        foreach (BlockActivations b in PrefixBlocks) b.Dispose();
        foreach (BlockActivations b in SuffixBlocks) b.Dispose();
        Head.Dispose();
    }
}
