using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// A shared-prefix Reference-prompt forward (spec §2.2/§14) kept for its backward: per block, the activations of
/// the stacked rows (<see cref="PromptRows"/>: the prefix's P = M + 1 positions, then C classes' last S), and the
/// head's on the classes' rows only.
/// </summary>
public sealed class SharedPromptActivations(BlockActivations[] blocks, PromptRows rows, PromptHeadActivations head) : IDisposable
{
    /// <summary>M, the number of context vectors.</summary>
    public int ContextCount => Rows.Prefix - 1;

    public PromptRows Rows { get; } = rows;

    public IReadOnlyList<BlockActivations> Blocks { get; } = blocks;

    /// <summary>ln_final on the last S positions [C, S, Dt]; indices are argmax(slot ids) within them.</summary>
    public PromptHeadActivations Head { get; } = head;

    /// <summary>The prompt features [C, E] (not normalised).</summary>
    public Tensor Features => Head.Features;

    public void Dispose()
    {
        foreach (BlockActivations b in Blocks) b.Dispose();
        Head.Dispose();
    }
}
