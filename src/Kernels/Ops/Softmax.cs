using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Softmax over the last dimension of scale·x: with z = scale·x, y = exp(z − max z) / Σ exp(z − max z).
/// Rows are attention scores (up to 1025 tokens) or class logits (20–150 classes). The prompt-denoising
/// filter (spec §10.3) keeps a class only where y rounds to exactly 1.0 in float32, so the fast path follows
/// PyTorch's arithmetic: z rounded to float32, max-subtracted float32 exponentials, a float32 sum, and a
/// division. A row that is all −∞ gives NaN, as in PyTorch. Backward: dx = scale·y⊙(dy − Σ dy⊙y).
/// </summary>
public static partial class Softmax
{
    /// <summary>The definition, in double precision. x, y: [rows·width]; y may be x.</summary>
    public static void Reference(ReadOnlySpan<float> x, Span<float> y, int width, float scale = 1)
    {
        double[] e = new double[width];
        for (int r = 0; r < x.Length / width; r++)
        {
            ReadOnlySpan<float> row = x.Slice(r * width, width);
            double max = double.NegativeInfinity, sum = 0;
            for (int i = 0; i < width; i++)
                max = Math.Max(max, scale * (double)row[i]);
            for (int i = 0; i < width; i++)
                sum += e[i] = Math.Exp(scale * (double)row[i] - max);
            for (int i = 0; i < width; i++)
                y[r * width + i] = (float)(e[i] / sum);
        }
    }

    /// <summary>The definition of the backward pass, in double precision: dx = scale·y⊙(dy − Σ dy⊙y).</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, Span<float> dx, int width, float scale = 1)
    {
        for (int r = 0; r < y.Length / width; r++)
        {
            double dot = 0;
            for (int i = r * width; i < (r + 1) * width; i++)
                dot += (double)dy[i] * y[i];
            for (int i = r * width; i < (r + 1) * width; i++)
                dx[i] = (float)(scale * (double)y[i] * (dy[i] - dot));
        }
    }

    /// <summary>y = softmax(scale·x) along the last dimension. <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public static void Forward(Tensor x, Tensor y, float scale = 1)
    {
        int width = Width("Softmax", x, y);
        if (!x.Device.IsCpu)
        {
            ForwardCuda(x, y, scale, width);
            return;
        }
        OpGuard.Cpu("Softmax", x, y);
        int rows = (int)(x.ElementCount / width);
        unsafe
        {
            nint ax = (nint)x.Pointer<float>(), ay = (nint)y.Pointer<float>();
            ParallelRows.For(rows, width, (start, end) =>
            {
                for (int r = start; r < end; r++)
                    ForwardRow(new ReadOnlySpan<float>((float*)ax + (long)r * width, width), new Span<float>((float*)ay + (long)r * width, width), scale);
            });
        }
    }

    /// <summary>dx from dy and the forward's output y. <paramref name="dx"/> may be <paramref name="dy"/> itself.</summary>
    public static void Backward(Tensor dy, Tensor y, Tensor dx, float scale = 1)
    {
        int width = Width("Softmax.Backward", y, dx);
        Shape.Require("Softmax.Backward dy", y.Shape, dy.Shape);
        if (!y.Device.IsCpu)
        {
            BackwardCuda(dy, y, dx, scale, width);
            return;
        }
        OpGuard.Cpu("Softmax.Backward", dy, y, dx);
        int rows = (int)(y.ElementCount / width);
        unsafe
        {
            nint ady = (nint)dy.Pointer<float>(), ay = (nint)y.Pointer<float>(), adx = (nint)dx.Pointer<float>();
            ParallelRows.For(rows, width, (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    var grad = new ReadOnlySpan<float>((float*)ady + (long)r * width, width);
                    var output = new ReadOnlySpan<float>((float*)ay + (long)r * width, width);
                    var result = new Span<float>((float*)adx + (long)r * width, width);
                    float dot = TensorPrimitives.Dot(grad, output);
                    TensorPrimitives.AddMultiply(grad, -dot, output, result);
                    if (scale != 1) TensorPrimitives.Multiply(result, scale, result);
                }
            });
        }
    }

    private static void ForwardRow(ReadOnlySpan<float> row, Span<float> output, float scale)
    {
        // max(fl(scale·x)) = fl(scale·max x) for scale ≥ 0 (fl is monotone), fl(scale·min x) for scale < 0:
        // the shift is exactly PyTorch's row maximum of the scaled input, taken before the input is overwritten.
        float shift = scale == 1 ? TensorPrimitives.Max(row) : scale * (scale >= 0 ? TensorPrimitives.Max(row) : TensorPrimitives.Min(row));
        if (scale != 1)
        {
            // Two roundings, fl(fl(scale·x) − shift), as PyTorch computes softmax(scale·x); a fused multiply-add would differ.
            TensorPrimitives.Multiply(row, scale, output);
            row = output;
        }
        TensorPrimitives.Subtract(row, shift, output);
        TensorPrimitives.Exp(output, output);
        TensorPrimitives.Divide(output, TensorPrimitives.Sum(output), output);
    }

    /// <summary>Checks that the output matches x's shape and that there is a last dimension to reduce; returns its width.</summary>
    private static int Width(string op, Tensor x, Tensor output)
    {
        Shape.Require(op, x.Shape, output.Shape);
        if (x.Rank == 0 || x.Size(-1) == 0)
            throw new TensorShapeException($"{op}: shape {Shape.Format(x.Shape)} has no last dimension to take the softmax over");
        return x.Size(-1);
    }
}
