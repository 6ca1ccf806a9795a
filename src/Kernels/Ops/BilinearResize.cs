using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Bilinear resize as PyTorch's F.interpolate(mode="bilinear", align_corners=False), no antialias, up or
/// down (spec §10 step 4: the logit map from the patch grid to the image, then to the label size):
/// y[c, Y, X] = Σ_{i,j ∈ 0..1} wy_i·wx_j·x[c, y_i, x_j], with s = max((dst + 0.5)·(in/out) − 0.5, 0),
/// taps ⌊s⌋ and ⌊s⌋ + 1 (the last source index repeated at the border) and weights 1 − λ, λ, λ = s − ⌊s⌋.
/// Downsampling reads only those 2 taps (no antialias), as PyTorch does. Forward only.
/// </summary>
public static class BilinearResize
{
    /// <summary>The definition, in double where it sums. input [planes, h, w] → output [planes, H, W].</summary>
    public static void Reference(ReadOnlySpan<float> input, int inHeight, int inWidth, Span<float> output, int outHeight, int outWidth)
    {
        int planes = input.Length / (inHeight * inWidth);
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                {
                    (int y0, int y1, double ly) = Taps(oy, inHeight, outHeight);
                    (int x0, int x1, double lx) = Taps(ox, inWidth, outWidth);
                    ReadOnlySpan<float> plane = input.Slice(p * inHeight * inWidth, inHeight * inWidth);
                    double top = (1 - lx) * plane[y0 * inWidth + x0] + lx * plane[y0 * inWidth + x1];
                    double bottom = (1 - lx) * plane[y1 * inWidth + x0] + lx * plane[y1 * inWidth + x1];
                    output[(p * outHeight + oy) * outWidth + ox] = (float)((1 - ly) * top + ly * bottom);
                }
    }

    /// <summary>input [..., h, w] → output [..., H, W] (e.g. the logits [C, h, w] or [1, C, h, w]).</summary>
    public static void Forward(Tensor input, Tensor output)
    {
        int planes = SeparableResize.Planes("BilinearResize", input, output);
        int inHeight = input.Size(-2), inWidth = input.Size(-1), outHeight = output.Size(-2), outWidth = output.Size(-1);
        if (!output.Device.IsCpu)
        {
            SeparableResizeCuda.Resize("BilinearResize", input, output, planes, ResizeTaps.Linear(inHeight, outHeight), ResizeTaps.Linear(inWidth, outWidth), channelsLast: false);
            return;
        }
        OpGuard.Cpu("BilinearResize", input, output);
        unsafe
        {
            if (inHeight == outHeight && inWidth == outWidth)
            {
                input.AsSpan<float>().CopyTo(output.AsSpan<float>());
                return;
            }
            SeparableResize.ChannelsFirst(input.Pointer<float>(), output.Pointer<float>(), planes, inHeight, inWidth,
                ResizeTaps.Linear(inHeight, outHeight), ResizeTaps.Linear(inWidth, outWidth));
        }
    }

    /// <summary>Both taps and the weight λ of the second, with the coordinate in float as PyTorch computes it.</summary>
    private static (int First, int Second, double Lambda) Taps(int destination, int inSize, int outSize)
    {
        float s = Math.Max(ResizeTaps.SourceCoordinate(destination, inSize, outSize), 0);
        int first = Math.Min((int)s, inSize - 1);
        return (first, Math.Min(first + 1, inSize - 1), Math.Clamp(s - first, 0, 1));
    }
}
