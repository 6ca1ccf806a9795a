using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class PlaneTransposeCheck : IOpCheck
{
    // Copies only: bit-identical (see EotGatherCheck for why the floor is not 0).
    private static readonly Tolerance Exact = new(1e-30, 0);

    /// <summary>Channels on either side of the window in the windowed outputs; their sentinel values must survive.</summary>
    private const int Margin = 3;

    private const float Sentinel = 7;

    public Type Op => typeof(PlaneTranspose);

    /// <summary>P x R x C: one element; odd sizes for the tile edges; a training batch's features at 336 px (8 × 441 patches × 512).</summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1x1", "3x33x65", "8x441x512"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] size = CaseSize.Parse(testCase);
        (int planes, int rows, int columns) = (size[0], size[1], size[2]);
        float[] source = new RandomTensors(seed).Uniform(planes * rows * columns), transposed = new float[source.Length];
        PlaneTranspose.Reference(source, transposed, planes, rows, columns);
        // The windowed form: the planes go into channels Margin..Margin + C of a [P, C + 2·Margin, R] tensor (as the
        // mask decoder's input takes F and Rect), the other channels keep their values.
        int wide = columns + 2 * Margin;
        float[] window = new float[planes * wide * rows];
        Array.Fill(window, Sentinel);
        for (int p = 0; p < planes; p++)
            Array.Copy(transposed, p * columns * rows, window, (p * wide + Margin) * rows, columns * rows);

        var outputs = new CheckOutputs("plane_transpose", testCase);
        using Tensor tx = RandomTensors.On(device, source, planes, rows, columns), ty = Tensor.Empty([planes, columns, rows], DType.F32, device);
        outputs.Time(() => PlaneTranspose.Forward(tx, ty));
        outputs.Compare("y", ty, transposed, Exact);

        float[] filled = new float[window.Length];
        Array.Fill(filled, Sentinel);
        using Tensor big = RandomTensors.On(device, filled, planes, wide, rows), channels = big.Slice(1, Margin, columns);
        outputs.Time(() => PlaneTranspose.Forward(tx, channels));
        outputs.Compare("y into channels", big, window, Exact);

        using Tensor back = Tensor.Empty([planes, rows, columns], DType.F32, device);
        outputs.Time(() => PlaneTranspose.Forward(channels, back));
        outputs.Compare("x from channels", back, source, Exact);
        return outputs.Results;
    }
}
