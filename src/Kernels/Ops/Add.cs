using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The two additions of the transformer blocks (spec §4.2), in place: the bias add after a GEMM, broadcast over
/// rows (x[rows, width] += bias[width]), and the residual add (x += y, same shape). Backward: a residual add
/// hands dy unchanged to both branches (nothing to compute); a bias's gradient, dbias = Σ_rows dy, is
/// <see cref="ColumnSum"/> (the frozen towers train no bias; pe_proj's is the one).
/// </summary>
public static partial class Add
{
    /// <summary>The definition: x[r, i] += bias[i]. x: [rows·width], bias: [width].</summary>
    public static void BiasReference(Span<float> x, ReadOnlySpan<float> bias)
    {
        for (int i = 0; i < x.Length; i++)
            x[i] += bias[i % bias.Length];
    }

    /// <summary>The definition: x[i] += y[i].</summary>
    public static void ResidualReference(Span<float> x, ReadOnlySpan<float> y)
    {
        for (int i = 0; i < x.Length; i++)
            x[i] += y[i];
    }

    /// <summary>x[..., width] += bias[width], broadcast over every leading index.</summary>
    public static void Bias(Tensor x, Tensor bias)
    {
        int width = Width("Add.Bias", x, bias);
        if (!x.Device.IsCpu)
        {
            BiasCuda(x, bias, width);
            return;
        }
        OpGuard.Cpu("Add.Bias", x, bias);
        int rows = (int)(x.ElementCount / width);
        unsafe
        {
            nint ax = (nint)x.Pointer<float>(), ab = (nint)bias.Pointer<float>();
            ParallelRows.For(rows, width, (start, end) =>
            {
                var b = new ReadOnlySpan<float>((float*)ab, width);
                for (int r = start; r < end; r++)
                {
                    var row = new Span<float>((float*)ax + (long)r * width, width);
                    TensorPrimitives.Add(row, b, row);
                }
            });
        }
    }

    /// <summary>x += y (same shape); <paramref name="y"/> may be <paramref name="x"/> itself.</summary>
    public static void Residual(Tensor x, Tensor y)
    {
        Shape.Require("Add.Residual", x.Shape, y.Shape);
        if (!x.Device.IsCpu)
        {
            ResidualCuda(x, y);
            return;
        }
        OpGuard.Cpu("Add.Residual", x, y);
        unsafe
        {
            nint ax = (nint)x.Pointer<float>(), ay = (nint)y.Pointer<float>();
            ElementChunks.For(x.ElementCount, (start, end) =>
            {
                var target = new Span<float>((float*)ax + start, (int)(end - start));
                TensorPrimitives.Add(target, new ReadOnlySpan<float>((float*)ay + start, (int)(end - start)), target);
            });
        }
    }

    /// <summary>Checks that x ends in the width of the 1-D <paramref name="vector"/>; returns that width.</summary>
    private static int Width(string op, Tensor x, Tensor vector)
    {
        if (vector.Rank != 1 || x.Rank == 0 || x.Size(-1) != vector.Size(0) || vector.Size(0) == 0)
            throw new TensorShapeException($"{op}: shape {Shape.Format(x.Shape)} does not end in the width of bias {Shape.Format(vector.Shape)}");
        return vector.Size(0);
    }
}
