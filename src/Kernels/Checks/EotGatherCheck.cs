using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class EotGatherCheck : IOpCheck
{
    // Copies only: bit-identical. (The floor is not 0 only because Agreement divides the error by the
    // allowance; any real difference of O(1) values is ≥ 1e-8.)
    private static readonly Tolerance Exact = new(1e-30, 0);

    public Type Op => typeof(EotGather);

    /// <summary>C x L x W; 20x77x512 is VOC with ViT-B/16 (spec §13), 150x77x512 ADE.</summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1x1", "5x9x7", "20x77x512", "150x77x512"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] size = CaseSize.Parse(testCase);
        (int classes, int length, int width) = (size[0], size[1], size[2]);
        var random = new RandomTensors(seed);
        var positions = new System.Random(seed);
        float[] x = random.Uniform(classes * length * width), dy = random.Uniform(classes * width);
        int[] indices = Enumerable.Range(0, classes).Select(_ => positions.Next(length)).ToArray();
        float[] y = new float[classes * width], dx = new float[x.Length];
        EotGather.Reference(x, indices, y, length);
        EotGather.BackwardReference(dy, indices, dx, length);

        var outputs = new CheckOutputs("eot_gather", testCase);
        using Tensor tx = RandomTensors.On(device, x, classes, length, width), ty = Tensor.Empty([classes, width], DType.F32, device);
        outputs.Time(() => EotGather.Forward(tx, indices, ty));
        outputs.Compare("y", ty, y, Exact);

        using Tensor tdy = RandomTensors.On(device, dy, classes, width), tdx = Tensor.Empty([classes, length, width], DType.F32, device);
        outputs.Time(() => EotGather.Backward(tdy, indices, tdx));
        outputs.Compare("dx", tdx, dx, Exact);
        return outputs.Results;
    }
}
