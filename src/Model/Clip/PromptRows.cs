using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// A shared-prefix Reference prompt (spec §2.2/§14) as one stack of token rows: the prefix's P positions (SOT and the
/// context vectors, one causal sequence) first, then each of C classes' S own positions. Every step of a block but
/// attention treats a row on its own, so the stack takes each of them in one call (one GEMM of P + C·S rows where
/// there were two of P and C·S, which on a GPU are latency-bound); attention sees the parts through the views here.
/// </summary>
public readonly record struct PromptRows(int Prefix, int Classes, int Suffix)
{
    /// <summary>P + C·S.</summary>
    public int Count => Prefix + Classes * Suffix;

    /// <summary>The prefix's rows of a stacked tensor [1, P + C·S, n], as a view [1, P, n].</summary>
    public Tensor PrefixOf(Tensor stacked) => stacked.Slice(1, 0, Prefix);

    /// <summary>The classes' rows of a stacked tensor [1, P + C·S, n], as a view [C, S, n].</summary>
    public Tensor SuffixOf(Tensor stacked)
    {
        using Tensor rows = stacked.Slice(1, Prefix, Classes * Suffix);
        return rows.Reshape(Classes, Suffix, stacked.Size(2));
    }

    /// <summary>
    /// The prefix's part [1, H, P] of attention's logsumexp over the stack: a [1, H, P + C·S] buffer holds the prefix's
    /// H·P values first, then the classes' [C, H, S], the layouts their attention calls write.
    /// </summary>
    public Tensor PrefixStatisticsOf(Tensor logsumexp, int heads) => StatisticsPart(logsumexp, 0, [1, heads, Prefix]);

    /// <summary>The classes' part [C, H, S] of a logsumexp buffer over the stack (<see cref="PrefixStatisticsOf"/>).</summary>
    public Tensor SuffixStatisticsOf(Tensor logsumexp, int heads) => StatisticsPart(logsumexp, heads * Prefix, [Classes, heads, Suffix]);

    private Tensor StatisticsPart(Tensor logsumexp, int start, int[] shape)
    {
        Shape.Require("PromptRows logsumexp", [1, shape[1], Count], logsumexp.Shape);
        using Tensor flat = logsumexp.Reshape(-1);
        using Tensor part = flat.Slice(0, start, (int)Shape.ElementCount(shape));
        return part.Reshape(shape);
    }
}
