using System.Runtime.InteropServices;
using ReClip.Runtime.Memory;

namespace ReClip.Runtime.Tensors;

/// <summary>
/// A strided view of a <see cref="Storage"/>: shape and strides in elements, an element offset, a dtype.
/// Views (reshape, slice, transpose) share the storage; <see cref="Dispose"/> releases this view's hold on it.
/// Nothing moves between devices unless <see cref="ToDevice"/> is called.
/// </summary>
public sealed unsafe class Tensor : IDisposable
{
    private readonly int[] shape;
    private readonly long[] strides;
    private bool disposed;

    private Tensor(Storage storage, long offset, int[] shape, long[] strides, DType dtype)
    {
        Storage = storage;
        Offset = offset;
        this.shape = shape;
        this.strides = strides;
        DType = dtype;
        ElementCount = Tensors.Shape.ElementCount(shape);
    }

    public Storage Storage { get; }

    /// <summary>Offset of the first element into the storage, in elements.</summary>
    public long Offset { get; }

    public DType DType { get; }

    public Device Device => Storage.Device;

    public ReadOnlySpan<int> Shape => shape;

    public ReadOnlySpan<long> Strides => strides;

    public int Rank => shape.Length;

    public long ElementCount { get; }

    public long ByteLength => checked(ElementCount * DType.SizeOf());

    public int Size(int dim) => shape[NormalizeDim(dim)];

    public bool IsContiguous
    {
        get
        {
            if (ElementCount == 0)
                return true;
            long expected = 1;
            for (int i = shape.Length - 1; i >= 0; i--)
            {
                if (shape[i] != 1 && strides[i] != expected)
                    return false;
                expected *= shape[i];
            }
            return true;
        }
    }

    /// <summary>A new contiguous tensor with undefined contents.</summary>
    public static Tensor Empty(ReadOnlySpan<int> shape, DType dtype = DType.F32) => Empty(shape, dtype, Device.Cpu);

    public static Tensor Empty(ReadOnlySpan<int> shape, DType dtype, Device device)
    {
        int[] dims = shape.ToArray();
        long bytes = checked(Tensors.Shape.ElementCount(dims) * dtype.SizeOf());
        Storage storage = device.IsCpu ? HostStorage.Allocate(bytes) : DeviceStorage.Allocate(device, bytes);
        return new Tensor(storage, 0, dims, Tensors.Shape.ContiguousStrides(dims), dtype);
    }

    public static Tensor Zeros(ReadOnlySpan<int> shape, DType dtype = DType.F32) => Zeros(shape, dtype, Device.Cpu);

    public static Tensor Zeros(ReadOnlySpan<int> shape, DType dtype, Device device)
    {
        Tensor tensor = Empty(shape, dtype, device);
        tensor.Clear();
        return tensor;
    }

    /// <summary>Copies <paramref name="values"/> into a new CPU tensor of the given shape.</summary>
    public static Tensor FromSpan<T>(ReadOnlySpan<T> values, ReadOnlySpan<int> shape) where T : unmanaged
    {
        long count = Tensors.Shape.ElementCount(shape);
        if (count != values.Length)
            throw new TensorShapeException($"FromSpan: {values.Length} values do not fill shape {Tensors.Shape.Format(shape)} ({count} elements)");
        Tensor tensor = Empty(shape, DTypeInfo.Of<T>());
        values.CopyTo(tensor.AsSpan<T>());
        return tensor;
    }

    /// <summary>Wraps existing storage; the tensor takes one reference, released by <see cref="Dispose"/>.</summary>
    public static Tensor OnStorage(Storage storage, long offset, ReadOnlySpan<int> shape, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(storage);
        int[] dims = shape.ToArray();
        long needed = checked((offset + Tensors.Shape.ElementCount(dims)) * dtype.SizeOf());
        if (offset < 0 || needed > storage.ByteLength)
            throw new ArgumentException($"a {dtype.Name()} tensor of shape {Tensors.Shape.Format(dims)} at element {offset} needs {needed} bytes; the storage has {storage.ByteLength}");
        return new Tensor(storage, offset, dims, Tensors.Shape.ContiguousStrides(dims), dtype);
    }

    /// <summary>Pointer to the first element (CPU only).</summary>
    public byte* RawPointer
    {
        get
        {
            ThrowIfDisposed();
            if (Storage is not HostStorage host)
                throw new InvalidOperationException($"tensor {Tensors.Shape.Format(shape)} lives on {Device}; copy it to the CPU first");
            return host.Pointer + Offset * DType.SizeOf();
        }
    }

    public T* Pointer<T>() where T : unmanaged
    {
        RequireDType<T>("Pointer");
        return (T*)RawPointer;
    }

    /// <summary>The elements as a span (CPU, contiguous, matching element type).</summary>
    public Span<T> AsSpan<T>() where T : unmanaged
    {
        RequireDType<T>("AsSpan");
        if (!IsContiguous)
            throw new InvalidOperationException($"AsSpan: tensor {Tensors.Shape.Format(shape)} is a strided view; call Contiguous() first");
        return new Span<T>(RawPointer, checked((int)ElementCount));
    }

    /// <summary>A view with another shape over the same elements (contiguous tensors only). One dimension may be -1.</summary>
    public Tensor Reshape(params ReadOnlySpan<int> newShape)
    {
        ThrowIfDisposed();
        int[] dims = newShape.ToArray();
        int inferred = Array.IndexOf(dims, -1);
        if (inferred >= 0)
        {
            long known = 1;
            for (int i = 0; i < dims.Length; i++)
                if (i != inferred) known *= dims[i];
            if (known == 0 || ElementCount % known != 0)
                throw new TensorShapeException($"Reshape: cannot infer -1 in {Tensors.Shape.Format(dims)} from {Tensors.Shape.Format(shape)}");
            dims[inferred] = (int)(ElementCount / known);
        }
        if (Tensors.Shape.ElementCount(dims) != ElementCount)
            throw new TensorShapeException($"Reshape: shape {Tensors.Shape.Format(dims)} does not hold the {ElementCount} elements of {Tensors.Shape.Format(shape)}");
        if (!IsContiguous)
            throw new InvalidOperationException($"Reshape: tensor {Tensors.Shape.Format(shape)} is a strided view; call Contiguous() first");
        return View(Offset, dims, Tensors.Shape.ContiguousStrides(dims));
    }

    /// <summary>Elements <paramref name="start"/>..start+length along <paramref name="dim"/>, as a view.</summary>
    public Tensor Slice(int dim, int start, int length)
    {
        ThrowIfDisposed();
        int d = NormalizeDim(dim);
        if (start < 0 || length < 0 || (long)start + length > shape[d])
            throw new ArgumentOutOfRangeException(nameof(start), $"Slice: [{start}, {start + length}) is outside dimension {d} of {Tensors.Shape.Format(shape)}");
        int[] dims = (int[])shape.Clone();
        dims[d] = length;
        return View(Offset + start * strides[d], dims, (long[])strides.Clone());
    }

    /// <summary>
    /// A contiguous view of <paramref name="shape"/> elements of <paramref name="dtype"/> over this tensor's bytes, from
    /// <paramref name="byteOffset"/> on (aligned to the element size): a buffer read back in one copy may hold values of
    /// several types. Like every view it holds its own reference to the storage.
    /// </summary>
    public Tensor ViewAs(DType dtype, long byteOffset, ReadOnlySpan<int> shape)
    {
        ThrowIfDisposed();
        if (!IsContiguous)
            throw new InvalidOperationException($"ViewAs: {this} is a strided view; call Contiguous() first");
        int[] dims = shape.ToArray();
        long start = Offset * DType.SizeOf() + byteOffset, length = checked(Tensors.Shape.ElementCount(dims) * dtype.SizeOf());
        if (byteOffset < 0 || byteOffset + length > ByteLength)
            throw new ArgumentOutOfRangeException(nameof(byteOffset), $"ViewAs: {length} bytes at byte {byteOffset} do not fit in the {ByteLength} of {this}");
        if (start % dtype.SizeOf() != 0)
            throw new ArgumentException($"ViewAs: byte {start} of the storage is not aligned for {dtype.Name()}", nameof(byteOffset));
        Storage.Retain();
        return new Tensor(Storage, start / dtype.SizeOf(), dims, Tensors.Shape.ContiguousStrides(dims), dtype);
    }

    /// <summary>Swaps two dimensions, as a view (no copy).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        ThrowIfDisposed();
        int a = NormalizeDim(dim0), b = NormalizeDim(dim1);
        int[] dims = (int[])shape.Clone();
        long[] st = (long[])strides.Clone();
        (dims[a], dims[b]) = (dims[b], dims[a]);
        (st[a], st[b]) = (st[b], st[a]);
        return View(Offset, dims, st);
    }

    /// <summary>A contiguous copy, or another reference to this tensor when it is contiguous already.</summary>
    public Tensor Contiguous()
    {
        if (IsContiguous)
            return View(Offset, (int[])shape.Clone(), (long[])strides.Clone());
        Tensor result = Empty(shape, DType, Device);
        TensorCopy.Strided(this, result);
        return result;
    }

    public Tensor Clone()
    {
        Tensor result = Empty(shape, DType, Device);
        TensorCopy.Strided(this, result);
        return result;
    }

    /// <summary>
    /// Overwrites this tensor with the elements of <paramref name="source"/>, of the same shape, dtype and device (strided
    /// views on the CPU; contiguous tensors on a GPU). Not a way across devices: that is <see cref="ToDevice"/>.
    /// </summary>
    public void CopyFrom(Tensor source)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(source);
        if (source.Device != Device)
            throw new ArgumentException($"CopyFrom: {source} is not on {Device}; use ToDevice to cross devices");
        TensorCopy.Strided(source, this);
    }

    /// <summary>Sets every element to zero (contiguous tensors).</summary>
    public void Clear()
    {
        ThrowIfDisposed();
        if (!IsContiguous)
            throw new InvalidOperationException($"Clear: {this} is a strided view");
        if (Storage is DeviceStorage device)
            device.Clear(Offset * DType.SizeOf(), ByteLength);
        else
            NativeMemory.Clear(RawPointer, (nuint)ByteLength);
    }

    /// <summary>A copy on <paramref name="device"/>; the only way data crosses devices.</summary>
    public Tensor ToDevice(Device device)
    {
        ThrowIfDisposed();
        if (device == Device)
            return Clone();
        using Tensor source = Contiguous();
        Tensor result = Empty(shape, DType, device);
        try
        {
            TensorCopy.AcrossDevices(source, result);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>All elements widened to float32, in row-major order (CPU).</summary>
    public float[] ToFloatArray()
    {
        using Tensor dense = Device.IsCpu ? Contiguous() : ToDevice(Device.Cpu);
        float[] result = new float[dense.ElementCount];
        switch (DType)
        {
            case DType.F32: dense.AsSpan<float>().CopyTo(result); break;
            case DType.F16:
                Span<Half> halves = dense.AsSpan<Half>();
                for (int i = 0; i < result.Length; i++) result[i] = (float)halves[i];
                break;
            case DType.BF16:
                Span<BFloat16> brains = dense.AsSpan<BFloat16>();
                for (int i = 0; i < result.Length; i++) result[i] = (float)brains[i];
                break;
            case DType.I32:
                Span<int> ints = dense.AsSpan<int>();
                for (int i = 0; i < result.Length; i++) result[i] = ints[i];
                break;
            case DType.U8:
                Span<byte> bytes = dense.AsSpan<byte>();
                for (int i = 0; i < result.Length; i++) result[i] = bytes[i];
                break;
        }
        return result;
    }

    public override string ToString() => $"Tensor({Tensors.Shape.Format(shape)}, {DType.Name()}, {Device})";

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Storage.Release();
    }

    private Tensor View(long offset, int[] dims, long[] st)
    {
        Storage.Retain();
        return new Tensor(Storage, offset, dims, st, DType);
    }

    private int NormalizeDim(int dim)
    {
        int d = dim < 0 ? dim + shape.Length : dim;
        if (d < 0 || d >= shape.Length)
            throw new ArgumentOutOfRangeException(nameof(dim), $"dimension {dim} is out of range for shape {Tensors.Shape.Format(shape)}");
        return d;
    }

    private void RequireDType<T>(string op) where T : unmanaged
    {
        DType wanted = DTypeInfo.Of<T>();
        if (wanted != DType)
            throw new InvalidOperationException($"{op}: tensor {Tensors.Shape.Format(shape)} holds {DType.Name()}, not {wanted.Name()}");
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);
}
