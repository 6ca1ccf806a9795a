using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>
/// A PyTorch element type as a checkpoint names it: its storage class (<c>torch FloatStorage</c>), its
/// dtype names (<c>torch float32</c>, <c>torch float</c>), its width in the file, and the dtype it is
/// loaded as. float64 and int64 have no tensor dtype of ours and are narrowed to f32 and i32 on load;
/// int16, int8 and the complex types are recognised, so that a checkpoint holding one opens and the error of loading it
/// names the tensor, but cannot be loaded.
/// </summary>
internal sealed record TorchScalarType(string Name, string[] Aliases, string StorageClass, int ElementSize, DType? Target)
{
    public static readonly TorchScalarType Float32 = new("float32", ["float"], "FloatStorage", 4, DType.F32);
    public static readonly TorchScalarType Float64 = new("float64", ["double"], "DoubleStorage", 8, DType.F32);
    public static readonly TorchScalarType Float16 = new("float16", ["half"], "HalfStorage", 2, DType.F16);
    public static readonly TorchScalarType BFloat16 = new("bfloat16", [], "BFloat16Storage", 2, DType.BF16);
    public static readonly TorchScalarType Int64 = new("int64", ["long"], "LongStorage", 8, DType.I32);
    public static readonly TorchScalarType Int32 = new("int32", ["int"], "IntStorage", 4, DType.I32);
    public static readonly TorchScalarType Int16 = new("int16", ["short"], "ShortStorage", 2, null);
    public static readonly TorchScalarType Int8 = new("int8", [], "CharStorage", 1, null);
    public static readonly TorchScalarType UInt8 = new("uint8", [], "ByteStorage", 1, DType.U8);
    public static readonly TorchScalarType Bool = new("bool", [], "BoolStorage", 1, DType.U8);
    public static readonly TorchScalarType Complex64 = new("complex64", ["cfloat"], "ComplexFloatStorage", 8, null);
    public static readonly TorchScalarType Complex128 = new("complex128", ["cdouble"], "ComplexDoubleStorage", 16, null);

    public static IReadOnlyList<TorchScalarType> All { get; } = [Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool, Complex64, Complex128];

    /// <summary>True when the file's bytes are the loaded tensor's bytes, so the tensor can point at them.</summary>
    public bool LoadsAsIs => Target is DType target && target.SizeOf() == ElementSize;

    public static TorchScalarType? FromStorageClass(string name) => All.FirstOrDefault(t => t.StorageClass == name);

    public static TorchScalarType? FromDTypeName(string name) => All.FirstOrDefault(t => t.Name == name || t.Aliases.Contains(name));

    public override string ToString() => $"torch.{Name}";
}

/// <summary>The global <c>torch FloatStorage</c> (etc.): inert, it only tells a storage record its element type.</summary>
internal sealed record TorchStorageClass(TorchScalarType Element)
{
    public override string ToString() => $"torch.{Element.StorageClass}";
}
