using ReClip.Kernels.Ops;
using ReClip.Model.Eval;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model.Eval;

[TestFixture]
public sealed class UpsamplingTests
{
    /// <summary>The reference resize sums in double, the op in float32: a few float32 ulps of values ~1.</summary>
    private const float ResizeTolerance = 1e-5f;

    [TestCase(3, 4, 5, 7, 9, 6, 8)]
    [TestCase(2, 2, 2, 32, 32, 17, 15)]
    [TestCase(4, 3, 3, 3, 3, 3, 3)]
    public void TwoBilinearResizesThenArgmax(int classes, int h, int w, int resizedHeight, int resizedWidth, int labelHeight, int labelWidth)
    {
        var random = new Random(classes * 100 + h);
        float[] values = new float[classes * h * w];
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)(random.NextDouble() * 4 - 2);
        float[] resized = new float[classes * resizedHeight * resizedWidth], expected = new float[classes * labelHeight * labelWidth];
        BilinearResize.Reference(values, h, w, resized, resizedHeight, resizedWidth);
        BilinearResize.Reference(resized, resizedHeight, resizedWidth, expected, labelHeight, labelWidth);

        using Tensor logits = Tensor.FromSpan<float>(values, [1, classes, h, w]);
        using Tensor upsampled = Upsampling.Upsample(logits, resizedHeight, resizedWidth, labelHeight, labelWidth);
        using Tensor prediction = Upsampling.Predict(logits, resizedHeight, resizedWidth, labelHeight, labelWidth);
        int[] expectedIds = new int[labelHeight * labelWidth];
        for (int p = 0; p < expectedIds.Length; p++)
            for (int c = 1; c < classes; c++)
                if (expected[c * expectedIds.Length + p] > expected[expectedIds[p] * expectedIds.Length + p])
                    expectedIds[p] = c;
        Assert.Multiple(() =>
        {
            Assert.That(upsampled.Shape.ToArray(), Is.EqualTo(new[] { classes, labelHeight, labelWidth }));
            Assert.That(upsampled.AsSpan<float>().ToArray(), Is.EqualTo(expected).Within(ResizeTolerance));
            Assert.That(prediction.Shape.ToArray(), Is.EqualTo(new[] { labelHeight, labelWidth }));
            Assert.That(prediction.AsSpan<int>().ToArray(), Is.EqualTo(expectedIds));
        });
    }

    /// <summary>
    /// The CPU's one-pass argmax gives softmax-then-argmax's ids on pixels built to tie: logits on a coarse grid (exact
    /// ties), pairs a few ulps or 1e-4 apart around the maximum, NaN, all −∞, +∞ and large magnitudes.
    /// </summary>
    [TestCase(21, 37, 53, 11)]
    [TestCase(150, 9, 16, 12)]
    [TestCase(2, 64, 64, 13)]
    public void OnePassArgmaxGivesSoftmaxArgmaxIds(int classes, int height, int width, int seed)
    {
        var random = new Random(seed);
        int plane = height * width;
        float[] values = new float[classes * plane];
        for (int p = 0; p < plane; p++)
        {
            int kind = random.Next(8);
            float magnitude = kind == 7 ? 3e4f : 4f;
            for (int c = 0; c < classes; c++)
            {
                float v = (float)(random.NextDouble() * 2 - 1) * magnitude;
                values[c * plane + p] = kind switch
                {
                    0 => MathF.Round(v),                       // coarse grid: exact ties at the maximum are common
                    1 => c % 3 == 0 ? 1.5f : v - 8,            // the maximum shared by every third class
                    2 => c == 0 ? float.NaN : v,
                    3 => float.NegativeInfinity,
                    4 => c == classes - 1 ? float.PositiveInfinity : v,
                    _ => v,
                };
            }
            if (kind is 5 or 6)
            {
                // Two classes around the maximum, the higher id larger: a few ulps of 0.01 apart (5), whose exponentials
                // round to the same 1.0, so softmax ties them and picks the lower id; or about the threshold apart (6).
                int low = random.Next(classes - 1), high = low + 1 + random.Next(classes - low - 1);
                float top = kind == 5 ? 0.01f : 10f, gap = kind == 5 ? 3 * (MathF.BitIncrement(top) - top) : 1.0001e-4f * (random.Next(2) + 0.5f);
                for (int c = 0; c < classes; c++)
                    values[c * plane + p] = MathF.Min(values[c * plane + p], top - 1);
                values[low * plane + p] = top;
                values[high * plane + p] = top + gap;
            }
        }
        using Tensor logits = Tensor.FromSpan<float>(values, [classes, height, width]);
        using Tensor fast = Upsampling.Argmax(logits), reference = Upsampling.SoftmaxArgmax(logits);
        Assert.That(fast.AsSpan<int>().ToArray(), Is.EqualTo(reference.AsSpan<int>().ToArray()));
    }

    [Test]
    public void AStridedViewOfLogitsGivesTheIdsOfItsCopy()
    {
        var random = new Random(9);
        using Tensor whole = Tensor.FromSpan<float>([.. Enumerable.Range(0, 3 * 5 * 8).Select(_ => random.NextSingle())], [3, 5, 8]);
        using Tensor view = whole.Slice(2, 1, 6), copy = view.Contiguous();
        using Tensor fromView = Upsampling.Argmax(view), fromCopy = Upsampling.Argmax(copy);
        Assert.That(fromView.AsSpan<int>().ToArray(), Is.EqualTo(fromCopy.AsSpan<int>().ToArray()));
    }

    [Test]
    public void AClassWinningOneHalfOfTheGridWinsThatHalfOfTheImage()
    {
        // Class 1 high in the left column, class 0 in the right: the boundary lands in the middle.
        using Tensor logits = Tensor.FromSpan<float>([0, 1, 0, 1, 1, 0, 1, 0], [2, 2, 2]);
        using Tensor prediction = Upsampling.Predict(logits, 4, 4, 2, 6);
        Assert.That(prediction.AsSpan<int>().ToArray(), Is.EqualTo(new[] { 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0 }));
    }

    [Test]
    public void WrongShapeIsAnError()
    {
        using Tensor logits = Tensor.Zeros([4]), batched = Tensor.Zeros([1, 2, 2, 2]);
        Assert.Multiple(() =>
        {
            Assert.That(() => Upsampling.Predict(logits, 2, 2, 2, 2), Throws.TypeOf<TensorShapeException>().With.Message.Contain("[4]"));
            Assert.That(() => Upsampling.Argmax(batched), Throws.TypeOf<TensorShapeException>().With.Message.Contain("[1,2,2,2]"));
        });
    }
}
