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
        int rows = x.Size(0), columns = x.Size(1);
        ReadOnlySpan<float> values = x.AsSpan<float>();
        Span<float> sums = y.AsSpan<float>();
        // Row by row into double accumulators: the order of the definition, with the reads in memory order.
        double[] accumulated = new double[columns];
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> row = values.Slice(i * columns, columns);
            for (int j = 0; j < columns; j++) accumulated[j] += row[j];
        }
        for (int j = 0; j < columns; j++) sums[j] = (float)accumulated[j];
    }
}
