using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class RowMeanCheck : IOpCheck
{
    // Both devices sum in double in row order, divide and round once, as the reference does: the same floats (see
    // EotGatherCheck for why the floor is not 0).
    private static readonly Tolerance Exact = new(1e-30, 0);

    public Type Op => typeof(RowMean);

    /// <summary>
    /// R x C: one element; odd sizes; the class-bias ablation's positional grid of ViT-B/16 at 336 px (441 patches × 768)
    /// and the space-bias ablation's Reference features of COCO-Stuff (171 classes × 512).
    /// </summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x33", "441x768", "171x512"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] size = CaseSize.Parse(testCase);
        (int rows, int columns) = (size[0], size[1]);
        float[] x = new RandomTensors(seed).Uniform(rows * columns), means = new float[rows * columns];
        RowMean.Reference(x, means, rows);

        var outputs = new CheckOutputs("row_mean", testCase);
        using Tensor tx = RandomTensors.On(device, x, rows, columns), ty = Tensor.Empty([rows, columns], DType.F32, device);
        outputs.Time(() => RowMean.Forward(tx, ty));
        outputs.Compare("y", ty, means, Exact);
        // In place, as the ablations' backward averages a gradient: the same floats.
        RowMean.Forward(tx, tx);
        outputs.Compare("y in place", tx, means, Exact);
        return outputs.Results;
    }
}
