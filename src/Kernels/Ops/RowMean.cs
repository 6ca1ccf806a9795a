using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// y [R, C]: every row the mean of the rows of x [R, C]; y may be x. The paper's bias ablations (spec §11) average the
/// positional feature over the patches (the class bias alone; the head averages the positional grid before pe_proj,
/// which is the same since pe_proj is affine) or the Reference features over the classes (the space bias alone) and
/// broadcast the mean back. The map is (1/R)·11ᵀ, symmetric, so it is its own adjoint: the same op
/// carries a gradient back. Summed in double in row order as <see cref="ColumnSum"/> is, divided and rounded once; the
/// CUDA kernel does the same, so both devices give the same floats.
/// </summary>
public static partial class RowMean
{
    /// <summary>The definition: x and y [R·C].</summary>
    public static void Reference(ReadOnlySpan<float> x, Span<float> y, int rows)
    {
        if (rows == 0) return;
        int columns = y.Length / rows;
        var means = new float[columns];
        for (int j = 0; j < columns; j++)
        {
            double sum = 0;
            for (int i = 0; i < rows; i++) sum += x[i * columns + j];
            means[j] = (float)(sum / rows);
        }
        for (int i = 0; i < rows; i++) means.CopyTo(y.Slice(i * columns, columns));
    }

    /// <summary>y [R, C] ← every row the mean of x's rows (in place when y is x).</summary>
    public static void Forward(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.Rank != 2)
            throw new TensorShapeException($"RowMean: x {Shape.Format(x.Shape)} is not [R, C]");
        Shape.Require("RowMean y", x.Shape, y.Shape);
        if (x.Size(0) == 0 || x.Size(1) == 0)
            return;
        if (!y.Device.IsCpu)
        {
            ForwardCuda(x, y);
            return;
        }
        OpGuard.Cpu("RowMean", x, y);
        int rows = x.Size(0), columns = x.Size(1);
        double[] sums = ColumnSum.Accumulate(x.AsSpan<float>(), rows, columns);
        var means = new float[columns];
        for (int j = 0; j < columns; j++) means[j] = (float)(sums[j] / rows);
        Span<float> values = y.AsSpan<float>();
        for (int i = 0; i < rows; i++) means.CopyTo(values.Slice(i * columns, columns));
    }
}
