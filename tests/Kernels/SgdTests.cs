using System.Globalization;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class SgdTests
{
    // Element-wise float32 on both sides with O(1) values; the roundings may differ (FMA or not), a few ulps over three steps.
    private const double Tolerance = 1e-6;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("sgd");

    [TestCaseSource(nameof(Cases))]
    public void MatchesTorchOptimSgd(string testCase)
    {
        using var fixture = new OpFixture("sgd");
        float[] lrs = fixture.Describe(testCase).Split(' ')[1]["lrs=".Length..].Split(',').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        using Tensor parameter = fixture.Load(testCase, "param0");
        using var state = new SgdState();
        Assert.Multiple(() =>
        {
            for (int step = 1; step <= lrs.Length; step++)
            {
                using Tensor gradient = fixture.Load(testCase, $"grad{step}");
                Sgd.Step(parameter, gradient, state, lrs[step - 1]);
                Assert.That(parameter.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, $"param{step}")).Within(Tolerance), $"parameter after step {step}");
                Assert.That(state.Buffer!.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, $"buf{step}")).Within(Tolerance), $"buffer after step {step}");
            }
        });
    }

    [Test]
    public void FirstStepSetsTheBufferAndResetStartsOver()
    {
        using Tensor parameter = Tensor.FromSpan<float>([1, -2], [2]), gradient = Tensor.FromSpan<float>([0.5f, 0.25f], [2]);
        using var state = new SgdState();
        Assert.That(state.HasStepped, Is.False);
        Sgd.Step(parameter, gradient, state, lr: 0.1f, momentum: 0.9f, weightDecay: 0.5f);
        // d = g + 0.5·θ = [1, −0.75]; buf = d; θ = θ − 0.1·d.
        Assert.Multiple(() =>
        {
            Assert.That(state.HasStepped, Is.True);
            Assert.That(state.Buffer!.ToFloatArray(), Is.EqualTo(new[] { 1f, -0.75f }).Within(1e-7));
            Assert.That(parameter.ToFloatArray(), Is.EqualTo(new[] { 0.9f, -1.925f }).Within(1e-7));
        });
        Sgd.Step(parameter, gradient, state, lr: 0.1f, momentum: 0.9f, weightDecay: 0);
        // buf = 0.9·[1, −0.75] + [0.5, 0.25] = [1.4, −0.425].
        Assert.That(state.Buffer!.ToFloatArray(), Is.EqualTo(new[] { 1.4f, -0.425f }).Within(1e-6));
        state.Reset();
        Sgd.Step(parameter, gradient, state, lr: 0.1f, momentum: 0.9f, weightDecay: 0);
        Assert.That(state.Buffer!.ToFloatArray(), Is.EqualTo(new[] { 0.5f, 0.25f }));
    }

    [Test]
    public void FastPathMatchesTheReferenceAcrossChunkBoundaries()
    {
        const int count = 40_009;
        var random = new ReClip.Kernels.Checks.RandomTensors(12);
        float[] parameter = random.Uniform(count), buffer = new float[count];
        using Tensor tensor = Tensor.FromSpan<float>(parameter, [count]);
        using var state = new SgdState();
        for (int step = 0; step < 3; step++)
        {
            float[] gradient = random.Uniform(count);
            using Tensor tg = Tensor.FromSpan<float>(gradient, [count]);
            Sgd.Reference(parameter, gradient, buffer, step == 0, 0.02f);
            Sgd.Step(tensor, tg, state, 0.02f);
        }
        Assert.Multiple(() =>
        {
            Assert.That(tensor.ToFloatArray(), Is.EqualTo(parameter).Within(Tolerance));
            Assert.That(state.Buffer!.ToFloatArray(), Is.EqualTo(buffer).Within(Tolerance));
        });
    }

    [Test]
    public void ShapesMustAgree()
    {
        using Tensor parameter = Tensor.Zeros([2, 3]), gradient = Tensor.Zeros([3, 2]), other = Tensor.Zeros([6]);
        using var state = new SgdState();
        var error = Assert.Throws<TensorShapeException>(() => Sgd.Step(parameter, gradient, state, 0.1f));
        Assert.That(error!.Message, Does.Contain("Sgd").And.Contain("[3,2]").And.Contain("[2,3]"));
        using Tensor matching = Tensor.Zeros([2, 3]);
        Sgd.Step(parameter, matching, state, 0.1f);
        Assert.Throws<TensorShapeException>(() => Sgd.Step(other, other, state, 0.1f), "a state belongs to one parameter");
    }
}
