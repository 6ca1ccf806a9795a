using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class ArgmaxTests
{
    private static IEnumerable<string> Cases() => OpFixture.CasesOf("argmax");

    /// <summary>Exact indices, including the "edges" case: ties, −0 vs +0, NaN, all −∞, all −100 (spec §10.3).</summary>
    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string testCase)
    {
        using var fixture = new OpFixture("argmax");
        using Tensor x = fixture.Load(testCase, "x"), indices = Tensor.Empty([x.Size(0)], DType.I32);
        Argmax.Forward(x, indices);
        int[] want = Array.ConvertAll(fixture.Values(testCase, "indices"), v => (int)v);
        Assert.That(indices.AsSpan<int>().ToArray(), Is.EqualTo(want));
    }

    [Test]
    public void ReferenceAgreesWithPyTorchOnTheEdges()
    {
        using var fixture = new OpFixture("argmax");
        float[] x = fixture.Values("edges", "x");
        int[] got = new int[fixture.Shape("edges", "x")[0]];
        Argmax.Reference(x, got);
        Assert.That(got, Is.EqualTo(Array.ConvertAll(fixture.Values("edges", "indices"), v => (int)v)));
    }

    /// <summary>The maximum in the vector part, in the scalar tail, and tied between both.</summary>
    [TestCase(new float[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5 }, 10)]
    [TestCase(new float[] { 0, 0, 7, 0, 0, 0, 0, 0, 0, 7, 0 }, 2)]
    [TestCase(new float[] { 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2 }, 8)]
    public void FindsTheFirstMaximumAcrossVectorAndTail(float[] row, int want)
    {
        using Tensor x = Tensor.FromSpan<float>(row, [1, row.Length]), indices = Tensor.Empty([1], DType.I32);
        Argmax.Forward(x, indices);
        Assert.That(indices.AsSpan<int>()[0], Is.EqualTo(want));
    }

    [Test]
    public void KeepsTheLeadingShape()
    {
        float[] values = new float[2 * 3 * 4];
        for (int i = 0; i < values.Length; i++) values[i] = (i * 7) % 5;
        using Tensor x = Tensor.FromSpan<float>(values, [2, 3, 4]), indices = Tensor.Empty([2, 3], DType.I32);
        Argmax.Forward(x, indices);
        int[] want = new int[6];
        Argmax.Reference(values, want);
        Assert.That(indices.AsSpan<int>().ToArray(), Is.EqualTo(want));
    }

    [Test]
    public void WrongIndexShapeOrTypeIsAnError()
    {
        using Tensor x = Tensor.Zeros([4, 3]), wrongShape = Tensor.Zeros([3], DType.I32), wrongType = Tensor.Zeros([4]);
        Assert.Multiple(() =>
        {
            Assert.That(() => Argmax.Forward(x, wrongShape), Throws.TypeOf<TensorShapeException>().With.Message.Contain("Argmax").And.Message.Contain("[4]").And.Message.Contain("[3]"));
            Assert.That(() => Argmax.Forward(x, wrongType), Throws.ArgumentException.With.Message.Contain("Argmax indices").And.Message.Contain("i32"));
        });
    }

    /// <summary>The PyTorch edge cases (ties, −0 vs +0, NaN, all −∞) on cuda:0, where lanes combine candidates by shuffles; the catalog's random rows hold no NaN or ±0.</summary>
    [Test]
    public void CudaMatchesPyTorchOnTheEdges()
    {
        Requires.CudaDevice();
        using var fixture = new OpFixture("argmax");
        using Tensor host = fixture.Load("edges", "x");
        using Tensor x = host.ToDevice(Device.Cuda(0)), indices = Tensor.Empty([x.Size(0)], DType.I32, Device.Cuda(0));
        Argmax.Forward(x, indices);
        int[] want = Array.ConvertAll(fixture.Values("edges", "indices"), v => (int)v);
        Assert.That(Array.ConvertAll(indices.ToFloatArray(), v => (int)v), Is.EqualTo(want));
    }
}
