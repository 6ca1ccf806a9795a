using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class BicubicResizeCheck : IOpCheck
{
    // 16 taps with weights in [−0.14, 1.1] on O(1) values, summed in float32 in two passes: a few ulps.
    private static readonly Tolerance Forward = new(2e-6, 1e-5);

    public Type Op => typeof(BicubicResize);

    /// <summary>C x h x w x H x W: mixed up/down, to 1×1, the 14×14 PE grid to the 336² and 448×336 grids, identity.</summary>
    public IReadOnlyList<string> Cases { get; } = ["3x5x7x9x4", "5x3x4x1x1", "768x14x14x21x21", "768x14x14x21x28", "17x14x14x14x14"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] sizes = CaseSize.Parse(testCase);
        (int channels, int h, int w, int outH, int outW) = (sizes[0], sizes[1], sizes[2], sizes[3], sizes[4]);
        var random = new RandomTensors(seed);
        float[] x = random.Uniform(channels * h * w), y = new float[channels * outH * outW];
        BicubicResize.Reference(x, h, w, y, outH, outW);

        var outputs = new CheckOutputs("bicubicresize", testCase);
        using Tensor tx = RandomTensors.On(device, x, channels, h, w), ty = Tensor.Empty([channels, outH, outW], DType.F32, device);
        outputs.Time(() => BicubicResize.Forward(tx, ty));
        outputs.Compare("y", ty, y, Forward);

        // Channels last: the same grid as [h, w, C]; the result is compared in [H, W, C] order.
        using Tensor tl = RandomTensors.On(device, ChannelsLast(x, channels, h * w), h, w, channels);
        using Tensor tyl = Tensor.Empty([outH, outW, channels], DType.F32, device);
        outputs.Time(() => BicubicResize.ForwardChannelsLast(tl, tyl));
        outputs.Compare("y channels-last", tyl, ChannelsLast(y, channels, outH * outW), Forward);
        return outputs.Results;
    }

    private static float[] ChannelsLast(float[] planes, int channels, int pixels)
    {
        float[] result = new float[planes.Length];
        for (int c = 0; c < channels; c++)
            for (int p = 0; p < pixels; p++)
                result[p * channels + c] = planes[c * pixels + p];
        return result;
    }
}
