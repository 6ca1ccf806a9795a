using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Row-wise L2 normalisation, y = x / ‖x‖₂, over the last dimension: the channels of the patch features F
/// ([N, 512], channels-last), spec §4.4, where the code divides by the norm with no epsilon. A zero row
/// therefore gives 0/0 = NaN, as in PyTorch, and so does its gradient; nothing here guards against it.
/// Backward: dx = (dy − y·(y·dy)) / ‖x‖, from the forward's y and the saved row norms.
/// </summary>
public static partial class L2Normalize
{
    /// <summary>The definition, in double precision. x, y: [rows·width]; norm: [rows] receives ‖x‖ per row.</summary>
    public static void Reference(ReadOnlySpan<float> x, Span<float> y, Span<float> norm)
    {
        int width = x.Length / norm.Length;
        for (int r = 0; r < norm.Length; r++)
        {
            double squares = 0;
            for (int i = r * width; i < (r + 1) * width; i++)
                squares += (double)x[i] * x[i];
            double length = Math.Sqrt(squares);
            for (int i = r * width; i < (r + 1) * width; i++)
                y[i] = (float)(x[i] / length);
            norm[r] = (float)length;
        }
    }

    /// <summary>The definition of the backward pass, in double precision: dx = (dy − y·(y·dy)) / ‖x‖.</summary>
    public static void BackwardReference(ReadOnlySpan<float> dy, ReadOnlySpan<float> y, ReadOnlySpan<float> norm, Span<float> dx)
    {
        int width = y.Length / norm.Length;
        for (int r = 0; r < norm.Length; r++)
        {
            double dot = 0;
            for (int i = r * width; i < (r + 1) * width; i++)
                dot += (double)y[i] * dy[i];
            for (int i = r * width; i < (r + 1) * width; i++)
                dx[i] = (float)((dy[i] - y[i] * dot) / norm[r]);
        }
    }

    /// <summary>y = x / ‖x‖ per row; <paramref name="norm"/> (the leading shape of x) receives ‖x‖ when given. y may be x.</summary>
    public static void Forward(Tensor x, Tensor y, Tensor? norm = null)
    {
        int width = Width("L2Normalize", x, y);
        if (norm is not null)
            Shape.Require("L2Normalize norm", x.Shape[..^1], norm.Shape);
        if (!x.Device.IsCpu)
        {
            ForwardCuda(x, y, norm, width);
            return;
        }
        OpGuard.Cpu("L2Normalize", x, y);
        if (norm is not null)
            OpGuard.Cpu("L2Normalize norm", norm);
        int rows = (int)(x.ElementCount / width);
        unsafe
        {
            nint ax = (nint)x.Pointer<float>(), ay = (nint)y.Pointer<float>(), an = norm is null ? 0 : (nint)norm.Pointer<float>();
            ParallelRows.For(rows, width, (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    var row = new ReadOnlySpan<float>((float*)ax + (long)r * width, width);
                    var output = new Span<float>((float*)ay + (long)r * width, width);
                    // A division, not a product with 1/‖x‖, as PyTorch's x / x.norm(dim=1, keepdim=True).
                    float length = MathF.Sqrt(TensorPrimitives.SumOfSquares(row));
                    TensorPrimitives.Divide(row, length, output);
                    if (an != 0) ((float*)an)[r] = length;
                }
            });
        }
    }

    /// <summary>dx from dy, the forward's y and its row norms. <paramref name="dx"/> may be <paramref name="dy"/> itself.</summary>
    public static void Backward(Tensor dy, Tensor y, Tensor norm, Tensor dx)
    {
        int width = Width("L2Normalize.Backward", y, dx);
        Shape.Require("L2Normalize.Backward dy", y.Shape, dy.Shape);
        Shape.Require("L2Normalize.Backward norm", y.Shape[..^1], norm.Shape);
        if (!y.Device.IsCpu)
        {
            BackwardCuda(dy, y, norm, dx, width);
            return;
        }
        OpGuard.Cpu("L2Normalize.Backward", dy, y, norm, dx);
        int rows = (int)(y.ElementCount / width);
        unsafe
        {
            nint ady = (nint)dy.Pointer<float>(), ay = (nint)y.Pointer<float>(), an = (nint)norm.Pointer<float>(), adx = (nint)dx.Pointer<float>();
            ParallelRows.For(rows, width, (start, end) =>
            {
                for (int r = start; r < end; r++)
                {
                    var grad = new ReadOnlySpan<float>((float*)ady + (long)r * width, width);
                    var output = new ReadOnlySpan<float>((float*)ay + (long)r * width, width);
                    var result = new Span<float>((float*)adx + (long)r * width, width);
                    float dot = TensorPrimitives.Dot(output, grad);
                    TensorPrimitives.MultiplyAdd(output, -dot, grad, result);
                    TensorPrimitives.Divide(result, ((float*)an)[r], result);
                }
            });
        }
    }

    /// <summary>Checks that the output matches x's shape and that there is a last dimension to normalise; returns its width.</summary>
    private static int Width(string op, Tensor x, Tensor output)
    {
        Shape.Require(op, x.Shape, output.Shape);
        if (x.Rank == 0 || x.Size(-1) == 0)
            throw new TensorShapeException($"{op}: shape {Shape.Format(x.Shape)} has no last dimension to normalise");
        return x.Size(-1);
    }
}
