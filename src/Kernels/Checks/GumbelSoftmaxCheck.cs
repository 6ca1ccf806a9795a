using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class GumbelSoftmaxCheck : IOpCheck
{
    // Both sides form z with the same float32 roundings; the vectorised exp and 1/Σ against a double
    // softmax leave a few ulps of values in [0, 1]. The mask is y_hard up to such ulps, and an argmax
    // that disagreed would show as an error of 1.
    private static readonly Tolerance Soft = new(2e-6, 1e-5);

    // dO = (scale/τ)·y⊙(dm − Σ dm⊙y): scale 100 magnifies the few-ulp error of the float dot product.
    private static readonly Tolerance Backward = new(1e-4, 1e-5);

    private const ulong Stream = 3;

    public Type Op => typeof(GumbelSoftmax);

    /// <summary>rows x C; 441x20 is a VOC step (B·N = 441, spec §13), 1024x150 an ADE one.</summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x5", "441x20", "1024x150"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        (int rows, int classes) = CaseSize.Two(testCase);
        var random = new RandomTensors(seed);
        // Logits of ±0.05 at scale 100 keep z within a few units of the noise, so the soft part is not
        // saturated and the gradient is non-trivial (BN-scaled logits would give an almost exact one-hot).
        float[] logits = random.Uniform(rows * classes, -0.05f, 0.05f), dMask = random.Uniform(rows * classes);
        float[] noise = new float[rows * classes], mask = new float[rows * classes], ySoft = new float[rows * classes], dLogits = new float[rows * classes];
        GumbelSoftmax.Noise((ulong)seed, Stream, 0, noise);
        GumbelSoftmax.Reference(logits, noise, mask, ySoft, classes);
        GumbelSoftmax.BackwardReference(dMask, ySoft, dLogits, classes);

        var outputs = new CheckOutputs("gumbel_softmax", testCase);
        using Tensor to = RandomTensors.On(device, logits, rows, classes), tn = RandomTensors.On(device, noise, rows, classes);
        using Tensor tm = Tensor.Empty([rows, classes], DType.F32, device), ty = Tensor.Empty([rows, classes], DType.F32, device);
        outputs.Time(() => GumbelSoftmax.Forward(to, (ulong)seed, Stream, tm, ty));
        outputs.Compare("mask (Philox noise)", tm, mask, Soft);
        outputs.Compare("y_soft (Philox noise)", ty, ySoft, Soft);
        // The stream read from device memory (a replayed training step), the argument deliberately another.
        using (Tensor streamAt = GumbelSoftmax.StreamTensor(Stream, device))
        {
            outputs.Time(() => GumbelSoftmax.Forward(to, (ulong)seed, Stream + 1, tm, ty, streamAt: streamAt));
            outputs.Compare("mask (Philox noise, stream on the device)", tm, mask, Soft);
        }
        outputs.Time(() => GumbelSoftmax.Forward(to, tn, tm, ty));
        outputs.Compare("mask (given noise)", tm, mask, Soft);
        outputs.Compare("y_soft (given noise)", ty, ySoft, Soft);

        using Tensor tg = RandomTensors.On(device, dMask, rows, classes), td = Tensor.Empty([rows, classes], DType.F32, device);
        outputs.Time(() => GumbelSoftmax.Backward(tg, ty, td));
        outputs.Compare("dlogits", td, dLogits, Backward);
        return outputs.Results;
    }
}
