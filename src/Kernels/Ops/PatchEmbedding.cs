using System.Buffers;
using ReClip.Kernels.Gemm;
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
    /// tokens [B, h·w, D] = patches [B·h·w, Cin·P·P] · weightᵀ, the weight [D, Cin, P, P] read as [D, Cin·P·P]
    /// (the GEMM's transposed B). The patches are gathered first (im2col, zeros for the padding).
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
        if (weight.DType == DType.BF16)
        {
            ForwardBFloat16(image, weight, tokens, patches, depth);
            return;
        }
        if (!tokens.Device.IsCpu)
        {
            ForwardCuda(image, weight, tokens, patches, depth);
            return;
        }
        OpGuard.Cpu(op, image, weight, tokens);
        float[] gathered = ArrayPool<float>.Shared.Rent(patches * depth);
        try
        {
            unsafe
            {
                fixed (float* pGathered = gathered)
                {
                    Gather(image.Pointer<float>(), pGathered, batch, channels, height, width, patch);
                    Sgemm.Multiply(patches, dim, depth, 1, new GemmOperand(pGathered, depth, transposed: false),
                        new GemmOperand(weight.Pointer<float>(), depth, transposed: true), 0, tokens.Pointer<float>(), dim);
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(gathered);
        }
    }

    /// <summary>
    /// A bfloat16 weight (an image tower stored in bfloat16 on a GPU): the patches, gathered in bfloat16 on a GPU (the
    /// pixels rounded as a bfloat16 convolution takes them), go through <see cref="MatMul.Linear(Tensor, Tensor, Tensor?, Tensor)"/>
    /// as a linear without bias over weight [D, Cin·P·P]: on the tensor cores on a GPU, in its reference form on the CPU.
    /// </summary>
    private static void ForwardBFloat16(Tensor image, Tensor weight, Tensor tokens, int patches, int depth)
    {
        int dim = weight.Size(0), patch = weight.Size(2);
        if (tokens.DType != DType.F32 || !weight.IsContiguous || image.Device != weight.Device || tokens.Device != weight.Device)
            throw new ArgumentException($"PatchEmbedding: a bfloat16 weight {weight} must be contiguous, with float32 tokens {tokens} and the image {image} on its device");
        using Tensor gathered = Tensor.Empty([patches, depth], image.Device.IsCpu ? DType.F32 : DType.BF16, image.Device);
        if (image.Device.IsCpu)
        {
            OpGuard.Cpu("PatchEmbedding", image);
            unsafe
            {
                Gather(image.Pointer<float>(), gathered.Pointer<float>(), image.Size(0), image.Size(1), image.Size(2), image.Size(3), patch);
            }
        }
        else
            GatherCuda(image, gathered, patch);
        using Tensor matrix = weight.Reshape(dim, depth), rows = tokens.Reshape(patches, dim);
        MatMul.Linear(gathered, matrix, null, rows);
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
