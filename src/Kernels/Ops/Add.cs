using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The two additions of the transformer blocks (spec §4.2), in place: the bias add after a GEMM, broadcast over
/// rows (x[rows, width] += bias[width]), and the residual add (x += y, same shape). Backward: a residual add
/// hands dy unchanged to both branches (nothing to compute); the bias gradient is dbias = Σ_rows dy.
/// </summary>
public static partial class Add
{
    /// <summary>Columns per task of <see cref="BiasBackward"/>: 256 bytes of each row, and enough blocks (12 for width 768) to balance threads.</summary>
    private const int ColumnBlock = 64;

    /// <summary>Rows summed into a partial sum before it joins the total (see <see cref="BiasBackward"/>).</summary>
    private const int RowGroup = 64;

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

    /// <summary>The definition of the bias gradient, summed in double: dbias[i] = Σ_r dy[r, i]. dy: [rows·width].</summary>
    public static void BiasBackwardReference(ReadOnlySpan<float> dy, Span<float> dbias)
    {
        double[] sum = new double[dbias.Length];
        for (int i = 0; i < dy.Length; i++)
            sum[i % dbias.Length] += dy[i];
        for (int i = 0; i < dbias.Length; i++)
            dbias[i] = (float)sum[i];
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

    /// <summary>
    /// dbias[width] = Σ over all leading indices of dy[..., width]. Each task owns a block of columns and sums
    /// all rows for it, so the result does not depend on the thread count. Rows are summed in groups of
    /// <see cref="RowGroup"/> whose partial sums are then added up, which bounds float32 rounding by
    /// ~(64 + rows/64)·ε·Σ|dy| instead of rows·ε·Σ|dy| for one running sum over thousands of rows.
    /// </summary>
    public static void BiasBackward(Tensor dy, Tensor dbias)
    {
        int width = Width("Add.BiasBackward", dy, dbias);
        if (!dy.Device.IsCpu)
        {
            BiasBackwardCuda(dy, dbias, width);
            return;
        }
        OpGuard.Cpu("Add.BiasBackward", dy, dbias);
        int rows = (int)(dy.ElementCount / width);
        int blocks = (width + ColumnBlock - 1) / ColumnBlock;
        unsafe
        {
            nint ady = (nint)dy.Pointer<float>(), adb = (nint)dbias.Pointer<float>();
            ParallelRows.For(blocks, (long)rows * ColumnBlock, (start, end) =>
            {
                Span<float> partial = stackalloc float[ColumnBlock];
                for (int block = start; block < end; block++)
                {
                    int first = block * ColumnBlock, columns = Math.Min(ColumnBlock, width - first);
                    var total = new Span<float>((float*)adb + first, columns);
                    var group = partial[..columns];
                    total.Clear();
                    for (int groupStart = 0; groupStart < rows; groupStart += RowGroup)
                    {
                        group.Clear();
                        for (int r = groupStart; r < Math.Min(groupStart + RowGroup, rows); r++)
                            TensorPrimitives.Add(group, new ReadOnlySpan<float>((float*)ady + (long)r * width + first, columns), group);
                        TensorPrimitives.Add(total, group, total);
                    }
                }
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
