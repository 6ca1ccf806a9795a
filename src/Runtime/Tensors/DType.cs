namespace ReClip.Runtime.Tensors;

/// <summary>Element types a tensor can hold. BF16 and F16 are storage formats; arithmetic is done in F32.</summary>
public enum DType : byte
{
    F32,
    BF16,
    F16,
    I32,
    U8,
}

public static class DTypeInfo
{
    public static int SizeOf(this DType dtype) => dtype switch
    {
        DType.F32 or DType.I32 => 4,
        DType.BF16 or DType.F16 => 2,
        DType.U8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    /// <summary>The dtype a managed element type stands for, so typed spans can be checked against it.</summary>
    public static DType Of<T>() where T : unmanaged
    {
        if (typeof(T) == typeof(float)) return DType.F32;
        if (typeof(T) == typeof(Half)) return DType.F16;
        if (typeof(T) == typeof(BFloat16)) return DType.BF16;
        if (typeof(T) == typeof(int)) return DType.I32;
        if (typeof(T) == typeof(byte)) return DType.U8;
        throw new NotSupportedException($"{typeof(T).Name} is not a tensor element type");
    }

    public static string Name(this DType dtype) => dtype switch
    {
        DType.F32 => "f32",
        DType.BF16 => "bf16",
        DType.F16 => "f16",
        DType.I32 => "i32",
        DType.U8 => "u8",
        _ => dtype.ToString(),
    };
}
