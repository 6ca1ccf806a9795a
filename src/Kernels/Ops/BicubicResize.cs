using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Bicubic resize as PyTorch's F.interpolate(mode="bicubic", align_corners=False), no antialias
/// (spec §4.1 step 4: the 14×14 CLIP positional grid to the patch grid h×w):
/// y[c, Y, X] = Σ_{i,j ∈ 0..3} K(ty − (i−1))·K(tx − (j−1))·x[c, clamp(⌊sy⌋−1+i), clamp(⌊sx⌋−1+j)],
/// with s = (dst + 0.5)·(in/out) − 0.5 (negative allowed), t = s − ⌊s⌋, K Keys' cubic kernel with
/// A = −0.75 and the source indices clamped to the border. Equal sizes give the identity exactly
/// (t = 0, weights 0, 1, 0, 0). Forward only: the positional grid is frozen.
/// </summary>
public static class BicubicResize
{
    /// <summary>The definition, in double where it sums. input [planes, h, w] → output [planes, H, W] (channels first).</summary>
    public static void Reference(ReadOnlySpan<float> input, int inHeight, int inWidth, Span<float> output, int outHeight, int outWidth)
    {
        int planes = input.Length / (inHeight * inWidth);
        for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                {
                    float sy = ResizeTaps.SourceCoordinate(oy, inHeight, outHeight), sx = ResizeTaps.SourceCoordinate(ox, inWidth, outWidth);
                    int y0 = (int)MathF.Floor(sy), x0 = (int)MathF.Floor(sx);
                    double sum = 0;
                    for (int i = 0; i < 4; i++)
                        for (int j = 0; j < 4; j++)
                        {
                            int y = Math.Clamp(y0 - 1 + i, 0, inHeight - 1), x = Math.Clamp(x0 - 1 + j, 0, inWidth - 1);
                            sum += ResizeTaps.CubicKernel(sy - y0 - (i - 1)) * ResizeTaps.CubicKernel(sx - x0 - (j - 1))
                                * input[(p * inHeight + y) * inWidth + x];
                        }
                    output[(p * outHeight + oy) * outWidth + ox] = (float)sum;
                }
    }

    /// <summary>input [..., h, w] → output [..., H, W], channels first (e.g. the PE grid as [768, 14, 14]).</summary>
    public static void Forward(Tensor input, Tensor output)
    {
        int planes = SeparableResize.Planes("BicubicResize", input, output);
        int inHeight = input.Size(-2), inWidth = input.Size(-1), outHeight = output.Size(-2), outWidth = output.Size(-1);
        if (!output.Device.IsCpu)
        {
            SeparableResizeCuda.Resize("BicubicResize", input, output, planes, ResizeTaps.Cubic(inHeight, outHeight), ResizeTaps.Cubic(inWidth, outWidth), channelsLast: false);
            return;
        }
        OpGuard.Cpu("BicubicResize", input, output);
        unsafe
        {
            if (inHeight == outHeight && inWidth == outWidth)
            {
                input.AsSpan<float>().CopyTo(output.AsSpan<float>());
                return;
            }
            SeparableResize.ChannelsFirst(input.Pointer<float>(), output.Pointer<float>(), planes, inHeight, inWidth,
                ResizeTaps.Cubic(inHeight, outHeight), ResizeTaps.Cubic(inWidth, outWidth));
        }
    }

    /// <summary>
    /// input [h, w, C] → output [H, W, C], channels last: the layout the positional embedding is stored
    /// in ([197, 768], rows 1..196 viewed as [14, 14, 768]) and the transformer adds it in, so no transposes.
    /// </summary>
    public static void ForwardChannelsLast(Tensor input, Tensor output)
    {
        const string op = "BicubicResize.ForwardChannelsLast";
        if (input.Rank != 3 || output.Rank != 3 || input.Size(2) != output.Size(2) || input.ElementCount == 0 || output.ElementCount == 0)
            throw new TensorShapeException($"{op}: input {Shape.Format(input.Shape)} and output {Shape.Format(output.Shape)} must be non-empty [h, w, C] and [H, W, C]");
        int inHeight = input.Size(0), inWidth = input.Size(1), outHeight = output.Size(0), outWidth = output.Size(1), channels = input.Size(2);
        if (!output.Device.IsCpu)
        {
            SeparableResizeCuda.Resize(op, input, output, channels, ResizeTaps.Cubic(inHeight, outHeight), ResizeTaps.Cubic(inWidth, outWidth), channelsLast: true);
            return;
        }
        OpGuard.Cpu(op, input, output);
        unsafe
        {
            if (inHeight == outHeight && inWidth == outWidth)
            {
                input.AsSpan<float>().CopyTo(output.AsSpan<float>());
                return;
            }
            SeparableResize.ChannelsLast(input.Pointer<float>(), output.Pointer<float>(), channels, inHeight, inWidth,
                ResizeTaps.Cubic(inHeight, outHeight), ResizeTaps.Cubic(inWidth, outWidth));
        }
    }
}
