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
