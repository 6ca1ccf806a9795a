using System.Buffers;
using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// 2-D convolution, stride 1, odd square kernel k, zero padding p = k/2 ("same"), NCHW, optional bias:
/// y[b, o, Y, X] = bias[o] + Σ_{c,ky,kx} weight[o, c, ky, kx]·x[b, c, Y + ky − p, X + kx − p] (zero outside).
/// ReCLIP++ uses k = 1 for pe_proj (768 → 512, spec §5) and k = 5 for decoder_conv2 (512 + C → C, spec §6),
/// both trainable, hence the backward (Conv2dBackward.cs). Per image it is one GEMM:
/// y_b [Cout, H·W] = weight [Cout, Cin·k·k] · columns_b [Cin·k·k, H·W] (im2col; for k = 1 the input itself).
/// The reference ran these convolutions in TF32 on GPU (spec §4.7); this CPU path is float32.
/// </summary>
public static partial class Conv2d
{
    /// <summary>
    /// The definition, in double. x [B, Cin, H, W]; weight [Cout, Cin, k, k]; bias [Cout] or empty for none;
    /// y [B, Cout, H, W].
    /// </summary>
    public static void Reference(ReadOnlySpan<float> x, int batch, int height, int width, ReadOnlySpan<float> weight, int kernel,
        ReadOnlySpan<float> bias, Span<float> y)
    {
        int inChannels = x.Length / (batch * height * width), outChannels = weight.Length / (inChannels * kernel * kernel);
        int pad = kernel / 2;
        for (int b = 0; b < batch; b++)
            for (int o = 0; o < outChannels; o++)
                for (int oy = 0; oy < height; oy++)
                    for (int ox = 0; ox < width; ox++)
                    {
                        double sum = bias.IsEmpty ? 0 : bias[o];
                        for (int c = 0; c < inChannels; c++)
                            for (int ky = 0; ky < kernel; ky++)
                                for (int kx = 0; kx < kernel; kx++)
                                {
                                    int sy = oy + ky - pad, sx = ox + kx - pad;
                                    if (sy >= 0 && sy < height && sx >= 0 && sx < width)
                                        sum += (double)weight[((o * inChannels + c) * kernel + ky) * kernel + kx]
                                            * x[((b * inChannels + c) * height + sy) * width + sx];
                                }
                        y[((b * outChannels + o) * height + oy) * width + ox] = (float)sum;
                    }
    }

    /// <summary>y [B, Cout, H, W] = conv(x [B, Cin, H, W], weight [Cout, Cin, k, k]) + bias [Cout] (when given), on the device of y.</summary>
    public static void Forward(Tensor x, Tensor weight, Tensor? bias, Tensor y)
    {
        var size = ConvSize.Of("Conv2d", x, weight, bias);
        Shape.Require("Conv2d y", [size.Batch, size.OutChannels, size.Height, size.Width], y.Shape);
        if (!y.Device.IsCpu)
        {
            ForwardCuda(x, weight, bias, y, size);
            return;
        }
        OpGuard.Cpu("Conv2d", [x, weight, y, .. new[] { bias }.OfType<Tensor>()]);
        int plane = size.Height * size.Width, depth = size.Depth;
        float[]? columns = size.Kernel == 1 ? null : ArrayPool<float>.Shared.Rent(depth * plane);
        try
        {
            unsafe
            {
                fixed (float* pColumns = columns)
                {
                    float* px = x.Pointer<float>(), pw = weight.Pointer<float>(), py = y.Pointer<float>();
                    for (int b = 0; b < size.Batch; b++)
                    {
                        float* input = px + (long)b * size.InChannels * plane, output = py + (long)b * size.OutChannels * plane;
                        if (columns is not null)
                            ConvColumns.Gather(input, pColumns, size);
                        // The bias is per output row of the GEMM, so it is written first and accumulated onto (beta = 1).
                        if (bias is not null)
                        {
                            ReadOnlySpan<float> shift = bias.AsSpan<float>();
                            for (int o = 0; o < size.OutChannels; o++)
                                new Span<float>(output + (long)o * plane, plane).Fill(shift[o]);
                        }
                        Sgemm.Multiply(size.OutChannels, plane, depth, 1, new GemmOperand(pw, depth, transposed: false),
                            new GemmOperand(columns is null ? input : pColumns, plane, transposed: false), bias is null ? 0 : 1, output, plane);
                    }
                }
            }
        }
        finally
        {
            if (columns is not null) ArrayPool<float>.Shared.Return(columns);
        }
    }
}

/// <summary>The sizes of one stride-1 "same" convolution, read from and checked against its tensors.</summary>
internal readonly record struct ConvSize(int Batch, int InChannels, int OutChannels, int Height, int Width, int Kernel)
{
    /// <summary>Rows of the im2col matrix: Cin·k·k.</summary>
    public int Depth => InChannels * Kernel * Kernel;

    public int Pad => Kernel / 2;

    /// <summary>The sizes, checked; the tensors' device is the caller's to check.</summary>
    public static ConvSize Of(string op, Tensor x, Tensor weight, Tensor? bias)
    {
        if (x.Rank != 4 || weight.Rank != 4 || weight.Size(1) != x.Size(1) || weight.Size(2) != weight.Size(3) || weight.Size(2) % 2 == 0)
            throw new TensorShapeException($"{op}: x {Shape.Format(x.Shape)} and weight {Shape.Format(weight.Shape)} must be [B, Cin, H, W] and [Cout, Cin, k, k] with k odd");
        if (bias is not null)
            Shape.Require(op + " bias", [weight.Size(0)], bias.Shape);
        return new ConvSize(x.Size(0), x.Size(1), weight.Size(0), x.Size(2), x.Size(3), weight.Size(2));
    }
}
