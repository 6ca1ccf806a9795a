using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>An element type as a safetensors header spells it; wider than <see cref="DType"/>, which holds only what our kernels compute on.</summary>
public enum SafetensorsDType : byte
{
    Bool,
    U8,
    I8,
    I16,
    U16,
    F16,
    BF16,
    I32,
    U32,
    F32,
    F64,
    I64,
    U64,
    F8E4M3,
    F8E5M2,
}

public static class SafetensorsDTypes
{
    public static string HeaderName(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.Bool => "BOOL",
        SafetensorsDType.F8E4M3 => "F8_E4M3",
        SafetensorsDType.F8E5M2 => "F8_E5M2",
        _ => dtype.ToString(),
    };

    public static bool TryParse(string headerName, out SafetensorsDType dtype)
    {
        foreach (SafetensorsDType candidate in Enum.GetValues<SafetensorsDType>())
        {
            if (string.Equals(candidate.HeaderName(), headerName, StringComparison.Ordinal))
            {
                dtype = candidate;
                return true;
            }
        }
        dtype = default;
        return false;
    }

    public static int SizeOf(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.Bool or SafetensorsDType.U8 or SafetensorsDType.I8 or SafetensorsDType.F8E4M3 or SafetensorsDType.F8E5M2 => 1,
        SafetensorsDType.I16 or SafetensorsDType.U16 or SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.I32 or SafetensorsDType.U32 or SafetensorsDType.F32 => 4,
        SafetensorsDType.F64 or SafetensorsDType.I64 or SafetensorsDType.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown safetensors dtype"),
    };

    /// <summary>
    /// The dtype <see cref="SafetensorsFile.Load"/> returns, or null when it cannot load this one.
    /// F64 and I64 are narrowed because checkpoints carry them for small bookkeeping tensors (position ids,
    /// running statistics); BOOL is one byte of 0 or 1, so U8 holds it unchanged.
    /// </summary>
    public static DType? LoadsAs(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 or SafetensorsDType.F64 => DType.F32,
        SafetensorsDType.I32 or SafetensorsDType.I64 => DType.I32,
        SafetensorsDType.F16 => DType.F16,
        SafetensorsDType.BF16 => DType.BF16,
        SafetensorsDType.U8 or SafetensorsDType.Bool => DType.U8,
        _ => null,
    };

    /// <summary>The file dtype a tensor of <paramref name="dtype"/> is written as.</summary>
    public static SafetensorsDType FromDType(DType dtype) => dtype switch
    {
        DType.F32 => SafetensorsDType.F32,
        DType.BF16 => SafetensorsDType.BF16,
        DType.F16 => SafetensorsDType.F16,
        DType.I32 => SafetensorsDType.I32,
        DType.U8 => SafetensorsDType.U8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "no safetensors dtype for this dtype"),
    };
}
