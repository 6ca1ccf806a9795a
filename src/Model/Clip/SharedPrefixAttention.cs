using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// The attention step of a block over a shared-prefix prompt's stacked rows (<see cref="PromptRows"/>): the prefix
/// attends causally to itself; each class's own positions attend to the prefix's keys and values and causally to
/// their own (<see cref="Attention.ForwardAfterPrefix"/>, no per-class copy of the prefix). The backward pass writes
/// the prefix's gradients first, then the classes' attention adds what they send to the prefix's keys and values.
/// </summary>
internal sealed class SharedPrefixAttention(PromptRows rows, int heads)
{
    /// <summary><see cref="ResidualBlock.AttentionStep"/>: packed qkv [1, P + C·S, 3D] into o [1, P + C·S, D].</summary>
    public void Forward(Tensor qkv, Tensor o, Tensor? logsumexp)
    {
        int width = o.Size(2);
        using Tensor prefixQkv = rows.PrefixOf(qkv), ownQkv = rows.SuffixOf(qkv), prefixO = rows.PrefixOf(o), ownO = rows.SuffixOf(o);
        using Tensor? prefixStatistics = logsumexp is null ? null : rows.PrefixStatisticsOf(logsumexp, heads);
        using Tensor? ownStatistics = logsumexp is null ? null : rows.SuffixStatisticsOf(logsumexp, heads);
        using QkvViews prefix = new(prefixQkv, width), own = new(ownQkv, width);
        Attention.Forward(prefix.Q, prefix.K, prefix.V, prefixO, heads, causal: true, logsumexp: prefixStatistics);
        Attention.ForwardAfterPrefix(own.Q, own.K, own.V, prefix.K, prefix.V, ownO, heads, ownStatistics);
    }

    /// <summary><see cref="ResidualBlock.AttentionGradient"/>: dqkv [1, P + C·S, 3D] from dy, the saved qkv, logsumexp and o.</summary>
    public void Backward(Tensor dy, Tensor qkv, Tensor logsumexp, Tensor output, Tensor dqkv)
    {
        int width = dy.Size(2);
        using Tensor prefixDy = rows.PrefixOf(dy), ownDy = rows.SuffixOf(dy), prefixQkv = rows.PrefixOf(qkv), ownQkv = rows.SuffixOf(qkv);
        using Tensor prefixO = rows.PrefixOf(output), ownO = rows.SuffixOf(output);
        using Tensor prefixDqkv = rows.PrefixOf(dqkv), ownDqkv = rows.SuffixOf(dqkv);
        using Tensor prefixStatistics = rows.PrefixStatisticsOf(logsumexp, heads), ownStatistics = rows.SuffixStatisticsOf(logsumexp, heads);
        using QkvViews prefix = new(prefixQkv, width), own = new(ownQkv, width);
        using QkvViews prefixGradient = new(prefixDqkv, width), ownGradient = new(ownDqkv, width);
        Attention.Backward(prefixDy, prefix.Q, prefix.K, prefix.V, prefixStatistics, prefixGradient.Q, prefixGradient.K, prefixGradient.V,
            heads, causal: true, output: prefixO);
        Attention.BackwardAfterPrefix(ownDy, own.Q, own.K, own.V, prefix.K, prefix.V, ownStatistics, ownGradient.Q, ownGradient.K, ownGradient.V,
            prefixGradient.K, prefixGradient.V, heads, ownO);
    }
}
