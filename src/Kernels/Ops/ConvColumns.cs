using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// im2col and its adjoint col2im for one image of a stride-1 "same" convolution: the columns matrix
/// [Cin·k·k, H·W] has row (c, ky, kx) = the plane x[c] shifted by (ky − p, kx − p), zeros where the shift
/// leaves the image. Both work row segment by row segment (contiguous copies and adds) and split the
/// input channels over threads; each channel owns its k·k rows and its plane, so there are no races.
/// </summary>
internal static unsafe class ConvColumns
{
    /// <summary>columns [Cin·k·k, H·W] ← image [Cin, H, W].</summary>
    public static void Gather(float* image, float* columns, ConvSize size)
    {
        nint source = (nint)image, target = (nint)columns;
        int k = size.Kernel, height = size.Height, width = size.Width, plane = height * width;
        ParallelRows.For(size.InChannels, (long)k * k * plane, (start, end) =>
        {
            for (int c = start; c < end; c++)
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                    {
                        float* row = (float*)target + ((long)(c * k + ky) * k + kx) * plane;
                        (int first, int count, int shift) = ValidColumns(kx - size.Pad, width);
                        for (int y = 0; y < height; y++)
                        {
                            var destination = new Span<float>(row + (long)y * width, width);
                            int sy = y + ky - size.Pad;
                            if (sy < 0 || sy >= height || count <= 0)
                            {
                                destination.Clear();
                                continue;
                            }
                            destination[..first].Clear();
                            new ReadOnlySpan<float>((float*)source + (long)c * plane + (long)sy * width + first + shift, count).CopyTo(destination.Slice(first, count));
                            destination[(first + count)..].Clear();
                        }
                    }
        });
    }

    /// <summary>image [Cin, H, W] ← the sum of the columns [Cin·k·k, H·W] scattered back (the adjoint of Gather; overwrites).</summary>
    public static void Scatter(float* columns, float* image, ConvSize size)
    {
        nint source = (nint)columns, target = (nint)image;
        int k = size.Kernel, height = size.Height, width = size.Width, plane = height * width;
        ParallelRows.For(size.InChannels, (long)k * k * plane, (start, end) =>
        {
            for (int c = start; c < end; c++)
            {
                float* output = (float*)target + (long)c * plane;
                new Span<float>(output, plane).Clear();
                for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                    {
                        float* row = (float*)source + ((long)(c * k + ky) * k + kx) * plane;
                        (int first, int count, int shift) = ValidColumns(kx - size.Pad, width);
                        if (count <= 0) continue;
                        for (int y = 0; y < height; y++)
                        {
                            int sy = y + ky - size.Pad;
                            if (sy < 0 || sy >= height) continue;
                            var into = new Span<float>(output + (long)sy * width + first + shift, count);
                            TensorPrimitives.Add(into, new ReadOnlySpan<float>(row + (long)y * width + first, count), into);
                        }
                    }
            }
        });
    }

    /// <summary>For a horizontal shift: the output columns [first, first + count) whose source column first + shift.. lies inside.</summary>
    private static (int First, int Count, int Shift) ValidColumns(int shift, int width)
    {
        int first = Math.Max(0, -shift), last = Math.Min(width, width - shift);
        return (first, last - first, shift);
    }
}
