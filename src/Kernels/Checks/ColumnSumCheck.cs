using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class ColumnSumCheck : IOpCheck
{
    // Both devices sum in double in row order and round once, as the reference does: the same floats (see
    // EotGatherCheck for why the floor is not 0).
    private static readonly Tolerance Exact = new(1e-30, 0);

    public Type Op => typeof(ColumnSum);

    /// <summary>R x C: one element; odd sizes; pe_proj's bias gradient at 336 and 448 px (441 and 784 patches × 512).</summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x33", "441x512", "784x512"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] size = CaseSize.Parse(testCase);
        (int rows, int columns) = (size[0], size[1]);
        float[] x = new RandomTensors(seed).Uniform(rows * columns), sums = new float[columns];
        ColumnSum.Reference(x, sums, rows);

        var outputs = new CheckOutputs("column_sum", testCase);
        using Tensor tx = RandomTensors.On(device, x, rows, columns), ty = Tensor.Empty([columns], DType.F32, device);
        outputs.Time(() => ColumnSum.Forward(tx, ty));
        outputs.Compare("y", ty, sums, Exact);
        return outputs.Results;
    }
}
