using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// y [C] = Σ_i x[i, :] for x [R, C], summed in double in row order and rounded once (pe_proj's bias gradient,
/// spec §5). The CUDA kernel sums in the same order, so both devices give the same floats.
/// </summary>
public static partial class ColumnSum
{
    /// <summary>The definition: x [R·C], y [C].</summary>
    public static void Reference(ReadOnlySpan<float> x, Span<float> y, int rows)
    {
        int columns = y.Length;
        for (int j = 0; j < columns; j++)
        {
            double sum = 0;
            for (int i = 0; i < rows; i++) sum += x[i * columns + j];
            y[j] = (float)sum;
        }
    }

    /// <summary>y [C] = the sum of the rows of x [R, C].</summary>
    public static void Forward(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Rank != 2)
            throw new TensorShapeException($"ColumnSum: x {Shape.Format(x.Shape)} is not [R, C]");
        Shape.Require("ColumnSum y", [x.Size(1)], y.Shape);
        if (!y.Device.IsCpu)
        {
            ForwardCuda(x, y);
            return;
        }
        OpGuard.Cpu("ColumnSum", x, y);
        double[] accumulated = Accumulate(x.AsSpan<float>(), x.Size(0), x.Size(1));
        Span<float> sums = y.AsSpan<float>();
        for (int j = 0; j < sums.Length; j++) sums[j] = (float)accumulated[j];
    }

    /// <summary>The column sums of x [rows, columns] in double, row by row: the order of the definition, with the reads in memory order.</summary>
    internal static double[] Accumulate(ReadOnlySpan<float> x, int rows, int columns)
    {
        double[] accumulated = new double[columns];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> row = x.Slice(i * columns, columns);
            for (int j = 0; j < columns; j++) accumulated[j] += row[j];
        }
        return accumulated;
    }
}
