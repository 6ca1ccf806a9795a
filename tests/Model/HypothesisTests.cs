using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Model;

/// <summary>
/// The multi-label hypothesis of spec §8: window enumeration, and every window's logits, top-1 class and the
/// image's hypothesis on the tiny CLIP against tools/reference/hypothesis_ref.py (PIL + float64 PyTorch).
/// </summary>
[TestFixture]
public sealed class HypothesisTests
{
    /// <summary>
    /// Logits are 100·cos of f32 features against float64 ones (measured 3e-5: ~3e-7 relative per feature, the
    /// PIL-resized input bytes being exact). The reference's smallest top-1 margin (0.2) is far above this.
    /// </summary>
    private const double LogitTolerance = 2e-4;

    private SafetensorsFile reference = null!;
    private ClipWeights weights = null!;
    private Tensor bank = null!;
    private RgbImage image = null!;

    [OneTimeSetUp]
    public void Open()
    {
        reference = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "fixtures", "hypothesis", "windows.safetensors"));
        weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        bank = reference.Load("bank");
        using Tensor pixels = reference.Load("image");
        image = new RgbImage(pixels.Size(1), pixels.Size(0));
        pixels.AsSpan<byte>().CopyTo(image.Pixels);
    }

    [OneTimeTearDown]
    public void Close()
    {
        bank.Dispose();
        weights.Dispose();
        reference.Dispose();
    }

    [TestCase(500, 375, 56, 28, 192)]
    [TestCase(500, 375, 85, 42, 70)]
    [TestCase(2048, 1024, 85, 42, 1081)]
    [TestCase(57, 57, 56, 28, 1)]
    [TestCase(56, 300, 56, 28, 0)]
    [TestCase(300, 56, 56, 28, 0)]
    [TestCase(20, 20, 56, 28, 0)]
    public void WindowCountFollowsPythonsExclusiveRange(int width, int height, int window, int stride, int expected) =>
        Assert.That(Hypothesis.Windows(width, height, window, stride), Has.Count.EqualTo(expected));

    [Test]
    public void WindowsGoInRasterOrderAndLeaveTheLastColumnsUncovered()
    {
        // range(0, 100 − 40, 25) = 0, 25, 50 and range(0, 70 − 40, 25) = 0, 25: the strip x ≥ 90 is never seen.
        Assert.That(Hypothesis.Windows(100, 70, 40, 25),
            Is.EqualTo(new[] { (0, 0), (25, 0), (50, 0), (0, 25), (25, 25), (50, 25) }));
    }

    [Test]
    public void FirstAppearanceKeepsEachClassOnceInOrder() =>
        Assert.That(Hypothesis.FirstAppearance([4, 4, 1, 4, 0, 1, 7]), Is.EqualTo(new[] { 4, 1, 0, 7 }));

    [TestCase(20)]
    [TestCase(30)]
    public void WindowsMatchThePyTorchReference(int window)
    {
        int[] setting = Ints($"w{window}.setting");
        // A batch smaller than the window count, so that batches of different sizes are stitched together.
        var hypothesis = new Hypothesis(weights, bank, setting[0], setting[1], batchSize: 5);
        WindowPredictions predictions = hypothesis.Predict(image);
        using Tensor logits = reference.Load($"w{window}.logits");
        Assert.That(predictions.Origins, Has.Count.EqualTo(logits.Size(0)));
        Assert.That(ClipFixture.MaxAbs(predictions.Logits, logits.AsSpan<float>()), Is.LessThan(LogitTolerance));
        Assert.That(predictions.Top, Is.EqualTo(Ints($"w{window}.top")));
        Assert.That(hypothesis.Of(image), Is.EqualTo(Ints($"w{window}.hypothesis")));
    }

    [Test]
    public void AnImageNoLargerThanTheWindowHasAnEmptyHypothesis()
    {
        var hypothesis = new Hypothesis(weights, bank, window: 45, stride: 9);
        Assert.That(hypothesis.Of(image), Is.Empty);
    }

    [Test]
    public void ABankOfTheWrongWidthIsRefused()
    {
        using Tensor wrong = Tensor.Zeros([3, weights.Config.EmbedDim + 1]);
        Assert.Throws<ArgumentException>(() => _ = new Hypothesis(weights, wrong, 20, 9));
    }

    private int[] Ints(string name)
    {
        using Tensor t = reference.Load(name);
        return [.. t.AsSpan<int>()];
    }
}
