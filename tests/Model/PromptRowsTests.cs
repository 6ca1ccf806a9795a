using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model;

/// <summary>The views of a shared-prefix prompt's stacked rows: which rows and statistics each part sees.</summary>
[TestFixture]
public sealed class PromptRowsTests
{
    private static readonly PromptRows Rows = new(Prefix: 4, Classes: 3, Suffix: 2);

    /// <summary>A stack whose element (row, column) holds 100·row + column.</summary>
    private static Tensor Numbered(int width)
    {
        float[] values = new float[Rows.Count * width];
        for (int i = 0; i < values.Length; i++) values[i] = 100 * (i / width) + i % width;
        return Tensor.FromSpan<float>(values, [1, Rows.Count, width]);
    }

    [Test]
    public void ThePrefixIsTheFirstRowsAndEachClassItsOwnAfterThem()
    {
        using Tensor stack = Numbered(3);
        using Tensor prefix = Rows.PrefixOf(stack), suffix = Rows.SuffixOf(stack);
        Assert.That(Rows.Count, Is.EqualTo(10));
        Assert.That(prefix.Shape.ToArray(), Is.EqualTo(new[] { 1, 4, 3 }));
        Assert.That(suffix.Shape.ToArray(), Is.EqualTo(new[] { 3, 2, 3 }));
        Assert.That(prefix.ToFloatArray(), Is.EqualTo(new float[] { 0, 1, 2, 100, 101, 102, 200, 201, 202, 300, 301, 302 }));
        // Class 1's two positions are stack rows 4 + 2·1 and 4 + 2·1 + 1.
        using (Tensor second = suffix.Slice(0, 1, 1))
            Assert.That(second.ToFloatArray(), Is.EqualTo(new float[] { 600, 601, 602, 700, 701, 702 }));
        // Views: a write through one is the stack's.
        suffix.AsSpan<float>()[0] = -1;
        Assert.That(stack.ToFloatArray()[4 * 3], Is.EqualTo(-1));
    }

    [Test]
    public void TheStatisticsPartsTileTheBufferInTheLayoutsAttentionWrites()
    {
        const int heads = 2;
        float[] values = Enumerable.Range(0, heads * Rows.Count).Select(i => (float)i).ToArray();
        using Tensor logsumexp = Tensor.FromSpan<float>(values, [1, heads, Rows.Count]);
        using Tensor prefix = Rows.PrefixStatisticsOf(logsumexp, heads), suffix = Rows.SuffixStatisticsOf(logsumexp, heads);
        Assert.That(prefix.Shape.ToArray(), Is.EqualTo(new[] { 1, heads, 4 }));
        Assert.That(suffix.Shape.ToArray(), Is.EqualTo(new[] { 3, heads, 2 }));
        Assert.That(prefix.ToFloatArray().Concat(suffix.ToFloatArray()), Is.EqualTo(values));
        using Tensor wrong = Tensor.Empty([1, heads, Rows.Count + 1]);
        Assert.That(() => Rows.PrefixStatisticsOf(wrong, heads), Throws.InstanceOf<TensorShapeException>());
    }
}
