using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class BilinearResizeCheck : IOpCheck
{
    // 4 taps with weights in [0, 1] on O(1) values, summed in float32 in two passes: a few ulps.
    private static readonly Tolerance Forward = new(1e-6, 1e-5);

    public Type Op => typeof(BilinearResize);

    /// <summary>C x h x w x H x W: odd ratios up and down, and both VOC evaluation steps (grid → image → label size).</summary>
    public IReadOnlyList<string> Cases { get; } = ["3x7x9x20x30", "5x13x11x6x4", "20x21x28x336x448", "20x336x448x375x500"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] sizes = CaseSize.Parse(testCase);
        (int channels, int h, int w, int outH, int outW) = (sizes[0], sizes[1], sizes[2], sizes[3], sizes[4]);
        var random = new RandomTensors(seed);
        float[] x = random.Uniform(channels * h * w), y = new float[channels * outH * outW];
        BilinearResize.Reference(x, h, w, y, outH, outW);

        var outputs = new CheckOutputs("bilinearresize", testCase);
        using Tensor tx = RandomTensors.On(device, x, channels, h, w), ty = Tensor.Empty([channels, outH, outW], DType.F32, device);
        outputs.Time(() => BilinearResize.Forward(tx, ty));
        outputs.Compare("y", ty, y, Forward);
        return outputs.Results;
    }
}
