using System.Buffers;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// For every output index along one axis: which source indices it reads and with what weights
/// (2 taps for linear, 4 for cubic), as PyTorch's upsample kernels compute them with align_corners=False.
/// </summary>
internal sealed class ResizeTaps
{
    private ResizeTaps(int count, int[] index, float[] weight)
    {
        Count = count;
        Index = index;
        Weight = weight;
    }

    /// <summary>Taps per output index.</summary>
    public int Count { get; }

    /// <summary>[output·Count] source indices, already clamped to the border.</summary>
    public int[] Index { get; }

    /// <summary>[output·Count] weights, summing to 1 per output index.</summary>
    public float[] Weight { get; }

    /// <summary>
    /// PyTorch's scale and source coordinate, in float as its CPU kernel computes them: scale = in/out,
    /// x = scale·(dst + 0.5) − 0.5. Computing them in double would move t by ~1e-7 against PyTorch.
    /// </summary>
    public static float SourceCoordinate(int destination, int inSize, int outSize) =>
        (float)inSize / outSize * (destination + 0.5f) - 0.5f;

    /// <summary>Keys' cubic convolution kernel with A = −0.75 (PyTorch's choice), at distance |d| &lt; 2.</summary>
    public static double CubicKernel(double distance)
    {
        const double A = -0.75;
        double d = Math.Abs(distance);
        return d <= 1 ? ((A + 2) * d - (A + 3)) * d * d + 1 : ((A * d - 5 * A) * d + 8 * A) * d - 4 * A;
    }

    /// <summary>Cubic: taps floor(x)−1 … floor(x)+2 clamped to [0, in−1]; x may be negative (no clamp before the floor).</summary>
    public static ResizeTaps Cubic(int inSize, int outSize)
    {
        int[] index = new int[outSize * 4];
        float[] weight = new float[outSize * 4];
        for (int o = 0; o < outSize; o++)
        {
            float x = SourceCoordinate(o, inSize, outSize);
            int floor = (int)MathF.Floor(x);
            float t = x - floor;
            for (int i = 0; i < 4; i++)
            {
                index[o * 4 + i] = Math.Clamp(floor - 1 + i, 0, inSize - 1);
                weight[o * 4 + i] = (float)CubicKernel(t - (i - 1));
            }
        }
        return new ResizeTaps(4, index, weight);
    }

    /// <summary>
    /// Linear: x is clamped at 0 first (unlike cubic), taps floor(x) and floor(x)+1, the second one
    /// falling back onto the first at the last source index.
    /// </summary>
    public static ResizeTaps Linear(int inSize, int outSize)
    {
        int[] index = new int[outSize * 2];
        float[] weight = new float[outSize * 2];
        for (int o = 0; o < outSize; o++)
        {
            float x = Math.Max(SourceCoordinate(o, inSize, outSize), 0);
            int first = Math.Min((int)x, inSize - 1);
            float lambda = Math.Clamp(x - first, 0, 1);
            index[o * 2] = first;
            index[o * 2 + 1] = first < inSize - 1 ? first + 1 : first;
            weight[o * 2] = 1 - lambda;
            weight[o * 2 + 1] = lambda;
        }
        return new ResizeTaps(2, index, weight);
    }
}

/// <summary>
/// The fast path of the separable resizes: a horizontal pass over the source rows into a scratch
/// [.., h, W], then a vertical pass that blends whole scratch rows (vectorized). Summing over x first
/// and then over y is the order of PyTorch's CPU kernel, Σ_i w_yi·(Σ_j w_xj·src).
/// </summary>
internal static unsafe class SeparableResize
{
    /// <summary>Checks the shapes of input [..., h, w] and output [..., H, W] (same leading dimensions); returns the plane count.</summary>
    public static int Planes(string op, Tensor input, Tensor output)
    {
        if (input.Rank < 2 || output.Rank != input.Rank || !input.Shape[..^2].SequenceEqual(output.Shape[..^2]))
            throw new TensorShapeException($"{op}: input {Shape.Format(input.Shape)} and output {Shape.Format(output.Shape)} must be [..., h, w] and [..., H, W] with the same leading dimensions");
        if (input.ElementCount == 0 || output.ElementCount == 0)
            throw new TensorShapeException($"{op}: input {Shape.Format(input.Shape)} and output {Shape.Format(output.Shape)} must not be empty");
        return (int)(input.ElementCount / ((long)input.Size(-2) * input.Size(-1)));
    }

    /// <summary>input [planes, h, w] → output [planes, H, W].</summary>
    public static void ChannelsFirst(float* input, float* output, int planes, int inHeight, int inWidth, ResizeTaps rows, ResizeTaps columns)
    {
        int outHeight = rows.Index.Length / rows.Count, outWidth = columns.Index.Length / columns.Count;
        nint source = (nint)input, target = (nint)output;
        WithScratch((long)planes * inHeight * outWidth, middle =>
        {
            // Pass 1: every source row, resampled along x (a gather: scalar).
            ParallelRows.For(planes * inHeight, outWidth * columns.Count, (start, end) =>
            {
                fixed (int* index = columns.Index)
                fixed (float* weight = columns.Weight)
                    for (int r = start; r < end; r++)
                        Resample((float*)source + (long)r * inWidth, (float*)middle + (long)r * outWidth, outWidth, index, weight, columns.Count);
            });
            // Pass 2: every output row, a weighted sum of whole resampled rows.
            ParallelRows.For(planes * outHeight, outWidth * rows.Count, (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    int plane = r / outHeight, y = r % outHeight;
                    Blend((float*)middle + (long)plane * inHeight * outWidth, outWidth, outWidth, rows, y, (float*)target + (long)r * outWidth);
                }
            });
        });
    }

    /// <summary>input [h, w, C] → output [H, W, C]: the same two passes, each step a whole C-vector.</summary>
    public static void ChannelsLast(float* input, float* output, int channels, int inHeight, int inWidth, ResizeTaps rows, ResizeTaps columns)
    {
        int outHeight = rows.Index.Length / rows.Count, outWidth = columns.Index.Length / columns.Count;
        nint source = (nint)input, target = (nint)output;
        WithScratch((long)inHeight * outWidth * channels, middle =>
        {
            // Pass 1: pixel (y, x') of the scratch = Σ_j w_j · pixel (y, index_j) of the source.
            ParallelRows.For(inHeight * outWidth, channels * columns.Count, (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    int y = r / outWidth, x = r % outWidth;
                    Blend((float*)source + (long)y * inWidth * channels, channels, channels, columns, x, (float*)middle + (long)r * channels);
                }
            });
            // Pass 2: pixel (y', x') of the output = Σ_i w_i · pixel (index_i, x') of the scratch.
            ParallelRows.For(outHeight * outWidth, channels * rows.Count, (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    int y = r / outWidth, x = r % outWidth;
                    Blend((float*)middle + (long)x * channels, (long)outWidth * channels, channels, rows, y, (float*)target + (long)r * channels);
                }
            });
        });
    }

    /// <summary>
    /// Runs <paramref name="work"/> on a pinned scratch of at least <paramref name="length"/> floats from the shared pool: the
    /// middle of a VOC logit map's resize is 14 MB, which a new array per call left to the collector.
    /// </summary>
    private static void WithScratch(long length, Action<nint> work)
    {
        float[] scratch = ArrayPool<float>.Shared.Rent(checked((int)length));
        try
        {
            fixed (float* middle = scratch)
                work((nint)middle);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// target[o] = Σ_j w_oj · source[index_oj] for o &lt; outputs, summed from 0 in tap order as PyTorch does. Through pointers,
    /// and with linear's two taps written out: the loop over arrays with their bounds checks took 2.2 times as long.
    /// </summary>
    private static void Resample(float* source, float* target, int outputs, int* index, float* weight, int taps)
    {
        if (taps == 2)
        {
            for (int o = 0; o < outputs; o++, index += 2, weight += 2)
            {
                float sum = 0;
                sum += weight[0] * source[index[0]];
                sum += weight[1] * source[index[1]];
                target[o] = sum;
            }
            return;
        }
        for (int o = 0; o < outputs; o++, index += taps, weight += taps)
        {
            float sum = 0;
            for (int j = 0; j < taps; j++)
                sum += weight[j] * source[index[j]];
            target[o] = sum;
        }
    }

    /// <summary>target[0..length) = Σ_i w_i · source[index_i·stride ..][0..length) over the taps of output index o.</summary>
    private static void Blend(float* source, long stride, int length, ResizeTaps taps, int o, float* target)
    {
        var output = new Span<float>(target, length);
        for (int i = 0; i < taps.Count; i++)
        {
            var row = new ReadOnlySpan<float>(source + taps.Index[o * taps.Count + i] * stride, length);
            float weight = taps.Weight[o * taps.Count + i];
            if (i == 0) TensorPrimitives.Multiply(row, weight, output);
            else TensorPrimitives.MultiplyAdd(row, weight, output, output);
        }
    }
}
