namespace ReClip.Kernels.Gemm;

/// <summary>
/// One row-major matrix operand of a GEMM: a pointer, its leading dimension (elements between rows as
/// stored) and whether it is used transposed. For A (M×K) transposed means it is stored K×M; for B (K×N)
/// transposed means it is stored N×K — the layout of a linear layer's weight [out, in].
/// </summary>
public readonly unsafe struct GemmOperand(float* data, long leadingDimension, bool transposed)
{
    public float* Data { get; } = data;

    public long LeadingDimension { get; } = leadingDimension;

    public bool Transposed { get; } = transposed;

    /// <summary>Element (row, col) of the logical (untransposed) matrix.</summary>
    public float this[long row, long col] => Transposed ? Data[col * LeadingDimension + row] : Data[row * LeadingDimension + col];
}
