using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class BatchNorm2dTests
{
    // float32 on both sides, statistics over n ≤ 441 values of O(1): a few ulps of the O(1) outputs.
    private const double ForwardTolerance = 1e-5;

    // dx subtracts two channel means; dγ, dβ sum up to 441 terms of O(1) on top.
    private const double BackwardTolerance = 1e-4;

    // Finite differences at step 1e-2 of float32 forwards carry ~1e-4 error (see FiniteDifference).
    private const double FiniteDifferenceTolerance = 2e-3;

    private static IEnumerable<string> Cases() => OpFixture.CasesOf("batchnorm2d");

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("batchnorm2d");
        using Tensor x = fixture.Load(testCase, "x"), gamma = fixture.Load(testCase, "gamma"), beta = fixture.Load(testCase, "beta"), dy = fixture.Load(testCase, "dy");
        using Tensor runningMean = fixture.Load(testCase, "running_mean"), runningVar = fixture.Load(testCase, "running_var");
        int channels = gamma.Size(0);
        using Tensor y = Tensor.Empty(x.Shape), yEval = Tensor.Empty(x.Shape), mean = Tensor.Empty([channels]), rstd = Tensor.Empty([channels]);
        using Tensor dx = Tensor.Empty(x.Shape), dgamma = Tensor.Empty([channels]), dbeta = Tensor.Empty([channels]);
        BatchNorm2d.ForwardTraining(x, gamma, beta, runningMean, runningVar, y, mean, rstd);
        BatchNorm2d.ForwardEval(x, gamma, beta, runningMean, runningVar, yEval);
        BatchNorm2d.Backward(dy, x, gamma, mean, rstd, dx, dgamma, dbeta);
        Assert.Multiple(() =>
        {
            Assert.That(y.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "y")).Within(ForwardTolerance), "y");
            Assert.That(runningMean.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "new_running_mean")).Within(ForwardTolerance), "running mean");
            Assert.That(runningVar.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "new_running_var")).Within(ForwardTolerance), "running var");
            Assert.That(yEval.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "y_eval")).Within(ForwardTolerance), "y eval");
            Assert.That(dx.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dx")).Within(BackwardTolerance), "dx");
            Assert.That(dgamma.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dgamma")).Within(BackwardTolerance), "dgamma");
            Assert.That(dbeta.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dbeta")).Within(BackwardTolerance), "dbeta");
        });
    }

    [Test]
    public void BackwardMatchesFiniteDifferences()
    {
        const int batch = 2, channels = 3, spatial = 2 * 3;
        var random = new RandomTensors(8);
        float[] x = random.Uniform(batch * channels * spatial, -1, 3), gamma = random.Uniform(channels, 0.5f, 1.5f), beta = random.Uniform(channels);
        float[] dy = random.Uniform(x.Length), y = new float[x.Length], mean = new float[channels], rstd = new float[channels];
        double Loss(float[] input, float[] g, float[] b)
        {
            float[] runningMean = new float[channels], runningVar = new float[channels];
            BatchNorm2d.Reference(input, batch, g, b, y, mean, rstd, runningMean, runningVar, BatchNorm2d.DefaultMomentum, BatchNorm2d.DefaultEps);
            return FiniteDifference.Dot(y, dy);
        }
        Loss(x, gamma, beta);
        float[] dx = new float[x.Length], dgamma = new float[channels], dbeta = new float[channels];
        BatchNorm2d.BackwardReference(dy, x, batch, gamma, mean, rstd, dx, dgamma, dbeta);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(x.Length, 15))
                Assert.That(dx[i], Is.EqualTo(FiniteDifference.Derivative(x, i, v => Loss(v, gamma, beta), 1e-2f)).Within(FiniteDifferenceTolerance), $"dx[{i}]");
            for (int i = 0; i < channels; i++)
            {
                Assert.That(dgamma[i], Is.EqualTo(FiniteDifference.Derivative(gamma, i, v => Loss(x, v, beta), 1e-2f)).Within(FiniteDifferenceTolerance), $"dgamma[{i}]");
                Assert.That(dbeta[i], Is.EqualTo(FiniteDifference.Derivative(beta, i, v => Loss(x, gamma, v), 1e-2f)).Within(FiniteDifferenceTolerance), $"dbeta[{i}]");
            }
        });
    }

    [Test]
    public void EvalWithInitialStatisticsIsAffine()
    {
        // Running mean 0 and variance 1 (PyTorch's init): y = x/√(1 + eps)·γ + β.
        float[] values = new RandomTensors(2).Uniform(2 * 3 * 4);
        using Tensor x = Tensor.FromSpan<float>(values, [2, 3, 2, 2]), gamma = Tensor.FromSpan<float>([1f, 2f, 0.5f], [3]), beta = Tensor.FromSpan<float>([0f, 1f, -1f], [3]);
        using Tensor runningMean = Tensor.Zeros([3]), runningVar = Tensor.FromSpan<float>([1f, 1f, 1f], [3]), y = Tensor.Empty([2, 3, 2, 2]);
        BatchNorm2d.ForwardEval(x, gamma, beta, runningMean, runningVar, y);
        float[] gammas = [1f, 2f, 0.5f], betas = [0f, 1f, -1f];
        float[] expected = values.Select((v, i) => (float)(v / Math.Sqrt(1 + 1e-5) * gammas[i / 4 % 3] + betas[i / 4 % 3])).ToArray();
        Assert.That(y.ToFloatArray(), Is.EqualTo(expected).Within(ForwardTolerance));
    }

    [Test]
    public void TrainingNeedsTwoValuesPerChannel()
    {
        using Tensor x = Tensor.Zeros([1, 3, 1, 1]), gamma = Tensor.Zeros([3]), beta = Tensor.Zeros([3]), runningMean = Tensor.Zeros([3]), runningVar = Tensor.Zeros([3]);
        using Tensor y = Tensor.Zeros([1, 3, 1, 1]), mean = Tensor.Zeros([3]), rstd = Tensor.Zeros([3]);
        Assert.That(() => BatchNorm2d.ForwardTraining(x, gamma, beta, runningMean, runningVar, y, mean, rstd),
            Throws.ArgumentException.With.Message.Contains("at least 2"));
    }

    [Test]
    public void RejectsMismatchedShapes()
    {
        using Tensor x = Tensor.Zeros([2, 3, 4, 4]), gamma = Tensor.Zeros([3]), beta = Tensor.Zeros([4]), runningMean = Tensor.Zeros([3]), runningVar = Tensor.Zeros([3]);
        using Tensor y = Tensor.Zeros([2, 3, 4, 4]), mean = Tensor.Zeros([3]), rstd = Tensor.Zeros([3]), flat = Tensor.Zeros([2, 3, 16]);
        Assert.Multiple(() =>
        {
            Assert.That(() => BatchNorm2d.ForwardTraining(x, gamma, beta, runningMean, runningVar, y, mean, rstd),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("BatchNorm2d.ForwardTraining beta").And.Message.Contains("[4]").And.Message.Contains("[3]"));
            Assert.That(() => BatchNorm2d.ForwardEval(flat, gamma, gamma, runningMean, runningVar, flat),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("[2,3,16]"));
        });
    }
}
