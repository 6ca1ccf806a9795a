using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class RectifyCheck : IOpCheck
{
    // Inputs in [−1, 1]; the bias sums E ≤ 512 products in float32 (SGEMM) against a double reference:
    // the rounding error of such a sum stays well under 512·ε ≈ 3e-5 times the largest term (≤ 1).
    private static readonly Tolerance Forward = new(5e-5, 1e-5);

    // dP sums C products, dR sums B·N ≤ 882 products (SGEMM accumulating over the batch): same argument, more terms.
    private static readonly Tolerance Backward = new(1e-4, 1e-5);

    public Type Op => typeof(Rectify);

    /// <summary>B x N x C x E; 1x441x20x512 is a VOC training step (spec §13), 2x33x17x40 a batch with odd sizes.</summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1x1x1", "2x7x5x13", "2x33x17x40", "1x441x20x512", "2x441x20x512"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] size = CaseSize.Parse(testCase);
        (int batch, int patches, int classes, int width) = (size[0], size[1], size[2], size[3]);
        var random = new RandomTensors(seed);
        float[] q = random.Uniform(batch * patches * classes), p = random.Uniform(patches * width), r = random.Uniform(classes * width);
        float[] dRect = random.Uniform(batch * patches * classes);
        float[] rect = new float[q.Length], dp = new float[p.Length], dr = new float[r.Length];
        Rectify.Reference(q, p, r, rect, patches, classes);
        Rectify.BackwardReference(dRect, p, r, dp, dr, patches, classes);

        var outputs = new CheckOutputs("rectify", testCase);
        using Tensor tq = RandomTensors.On(device, q, batch, patches, classes), tp = RandomTensors.On(device, p, patches, width), tr = RandomTensors.On(device, r, classes, width);
        using Tensor trect = Tensor.Empty([batch, patches, classes], DType.F32, device);
        outputs.Time(() => Rectify.Forward(tq, tp, tr, trect));
        outputs.Compare("rect", trect, rect, Forward);

        using Tensor tg = RandomTensors.On(device, dRect, batch, patches, classes);
        using Tensor tdp = Tensor.Empty([patches, width], DType.F32, device), tdr = Tensor.Empty([classes, width], DType.F32, device);
        outputs.Time(() => Rectify.Backward(tg, tp, tr, tdp, tdr));
        outputs.Compare("dp", tdp, dp, Backward);
        outputs.Compare("dr", tdr, dr, Backward);
        return outputs.Results;
    }
}
