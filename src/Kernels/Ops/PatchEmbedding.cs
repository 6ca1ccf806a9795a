using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// CLIP's patch embedding, conv1 (spec §4.1 steps 1–2): the image [B, Cin, H, W] (NCHW, Cin = 3) is
/// zero-padded at the bottom/right to P·⌈H/P⌉ × P·⌈W/P⌉, then a convolution with kernel = stride = P
/// and no bias maps each P×P patch to D channels:
/// tokens[b, py·w + px, d] = Σ_{c,ky,kx} weight[d, c, ky, kx]·image[b, c, py·P + ky, px·P + kx],
/// with h = ⌈H/P⌉, w = ⌈W/P⌉. The output is channels last, [B, h·w, D] in row-major patch order,
/// which is what the transformer consumes (no [B, D, h, w] intermediate). Forward only: CLIP is frozen.
/// </summary>
public static partial class PatchEmbedding
{
    /// <summary>The patch grid (h, w) of an H×W image: the padding rounds up.</summary>
    public static (int Rows, int Columns) Grid(int height, int width, int patch) =>
        ((height + patch - 1) / patch, (width + patch - 1) / patch);

    /// <summary>The definition, in double. image [B, Cin, H, W]; weight [D, Cin, P, P]; tokens [B, h·w, D].</summary>
    public static void Reference(ReadOnlySpan<float> image, int batch, int height, int width, ReadOnlySpan<float> weight, int dim, int patch,
        Span<float> tokens)
    {
        int channels = weight.Length / (dim * patch * patch);
        (int rows, int columns) = Grid(height, width, patch);
        for (int b = 0; b < batch; b++)
            for (int py = 0; py < rows; py++)
                for (int px = 0; px < columns; px++)
                    for (int d = 0; d < dim; d++)
                    {
                        double sum = 0;
                        for (int c = 0; c < channels; c++)
                            for (int ky = 0; ky < patch; ky++)
                                for (int kx = 0; kx < patch; kx++)
                                {
                                    int y = py * patch + ky, x = px * patch + kx;
                                    if (y < height && x < width) // outside: the zero padding
                                        sum += (double)weight[((d * channels + c) * patch + ky) * patch + kx]
                                            * image[((b * channels + c) * height + y) * width + x];
                                }
                        tokens[((b * rows + py) * columns + px) * dim + d] = (float)sum;
                    }
    }

    /// <summary>
    /// tokens [B, h·w, D] = patches [B·h·w, Cin·P·P] · weightᵀ, the weight [D, Cin, P, P] read as [D, Cin·P·P]: the
    /// patches are gathered (im2col, zeros for the padding), then go through
    /// <see cref="MatMul.Linear(Tensor, Tensor, Tensor?, Tensor)"/> as a linear without bias. The weight may be bfloat16
    /// (an image tower stored so on a GPU): the patches are then gathered in bfloat16 there (the pixels rounded as a
    /// bfloat16 convolution takes them) for the tensor cores, and the linear's reference form rounds them on the CPU.
    /// </summary>
    public static void Forward(Tensor image, Tensor weight, Tensor tokens)
    {
        const string op = "PatchEmbedding";
        if (image.Rank != 4 || weight.Rank != 4 || weight.Size(2) != weight.Size(3) || image.Size(1) != weight.Size(1))
            throw new TensorShapeException($"{op}: image {Shape.Format(image.Shape)} and weight {Shape.Format(weight.Shape)} must be [B, Cin, H, W] and [D, Cin, P, P]");
        int batch = image.Size(0), channels = image.Size(1), height = image.Size(2), width = image.Size(3);
        int dim = weight.Size(0), patch = weight.Size(2);
        (int rows, int columns) = Grid(height, width, patch);
        Shape.Require(op + " tokens", [batch, rows * columns, dim], tokens.Shape);
        int patches = batch * rows * columns, depth = channels * patch * patch;
        if (patches == 0 || dim == 0) return;
        if (weight.DType is not (DType.F32 or DType.BF16) || tokens.DType != DType.F32 || !weight.IsContiguous
            || image.Device != weight.Device || tokens.Device != weight.Device)
            throw new ArgumentException($"{op}: the weight {weight} (contiguous float32 or bfloat16), the float32 tokens {tokens} and the image {image} must share a device");
        DType patchType = weight.DType == DType.BF16 && !image.Device.IsCpu ? DType.BF16 : DType.F32;
        using Tensor gathered = Tensor.Empty([patches, depth], patchType, image.Device);
        if (image.Device.IsCpu)
        {
            OpGuard.Cpu(op, image);
            unsafe
            {
                Gather(image.Pointer<float>(), gathered.Pointer<float>(), batch, channels, height, width, patch);
            }
        }
        else
            GatherCuda(image, gathered, patch);
        using Tensor matrix = weight.Reshape(dim, depth), flat = tokens.Reshape(patches, dim);
        MatMul.Linear(gathered, matrix, null, flat);
    }

    /// <summary>im2col for non-overlapping patches: row (b, py, px) holds the patch in the weight's (c, ky, kx) order.</summary>
    private static unsafe void Gather(float* image, float* patches, int batch, int channels, int height, int width, int patch)
    {
        (int rows, int columns) = Grid(height, width, patch);
        int depth = channels * patch * patch;
        nint source = (nint)image, target = (nint)patches;
        ParallelRows.For(batch * rows * columns, depth, (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                int b = r / (rows * columns), py = r / columns % rows, px = r % columns;
                int x = px * patch, valid = Math.Clamp(width - x, 0, patch);
                for (int c = 0; c < channels; c++)
                    for (int ky = 0; ky < patch; ky++)
                    {
                        var destination = new Span<float>((float*)target + (long)r * depth + (c * patch + ky) * patch, patch);
                        int y = py * patch + ky;
                        if (y >= height)
                        {
                            destination.Clear();
                            continue;
                        }
                        new ReadOnlySpan<float>((float*)source + (((long)b * channels + c) * height + y) * width + x, valid).CopyTo(destination);
                        destination[valid..].Clear();
                    }
            }
        });
    }
}
