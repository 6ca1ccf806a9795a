using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>
/// Checks, when a checkpoint is opened, that a tensor record can be loaded: a known element type, a
/// storage entry that exists and holds the storage's elements, dimensions that fit our shapes, and a
/// strided extent that stays inside the storage, and a loaded size the file can account for.
/// </summary>
internal static class TorchTensorLayout
{
    /// <summary>
    /// A view that repeats storage elements (a stride of 0, or overlapping strides) is materialised on load.
    /// PyTorch saves such views for small broadcast buffers; beyond its storage's own element count we allow
    /// one only up to this size, so a few bytes in the archive cannot ask for gigabytes.
    /// </summary>
    public const long MaxExpandedBytes = 64L << 20;

    /// <summary>The error for a tensor whose element type we recognise but do not load (int8, int16, complex).</summary>
    public static WeightFileException Unloadable(string path, string name, TorchScalarType element) =>
        new(path, $"element type {element} cannot be loaded (supported: float32/64, float16, bfloat16, int32/64, uint8, bool)", name);

    /// <summary>A record of an element type loaded as <paramref name="dtype"/>, checked against its storage entry.</summary>
    public static WeightEntry Validate(string name, TorchTensorRecord record, DType dtype, ZipEntry storageEntry, string path)
    {
        TorchScalarType element = record.Storage.Element;
        try
        {
            long storageBytes = checked(record.Storage.ElementCount * element.ElementSize);
            if (storageBytes > storageEntry.UncompressedSize)
                throw new WeightFileException(path, $"{record.Storage} declares {record.Storage.ElementCount} {element.Name} elements ({storageBytes} bytes) but its entry holds {storageEntry.UncompressedSize} bytes", name);
            long end = ExtentEnd(record);
            if (end > record.Storage.ElementCount)
                throw new WeightFileException(path, $"offset {record.StorageOffset}, size {Format(record.Size)} and stride {Format(record.Stride)} reach element {end} of a {record.Storage.ElementCount}-element {record.Storage}", name);
            long elements = record.Size.Aggregate(1L, (count, dim) => checked(count * dim));
            long loadedBytes = checked(elements * dtype.SizeOf());
            if (elements > record.Storage.ElementCount && loadedBytes > MaxExpandedBytes)
                throw new WeightFileException(path, $"size {Format(record.Size)} and stride {Format(record.Stride)} repeat a {record.Storage.ElementCount}-element {record.Storage} into {elements} elements ({loadedBytes} bytes), over the {MaxExpandedBytes}-byte limit for expanded views", name);
        }
        catch (OverflowException e)
        {
            throw new WeightFileException(path, $"offset {record.StorageOffset}, size {Format(record.Size)} and stride {Format(record.Stride)} overflow 64-bit arithmetic", name, e);
        }
        int[] shape = new int[record.Size.Length];
        for (int i = 0; i < shape.Length; i++)
            shape[i] = record.Size[i] <= int.MaxValue ? (int)record.Size[i]
                : throw new WeightFileException(path, $"dimension {i} of size {Format(record.Size)} exceeds {int.MaxValue}", name);
        return new WeightEntry(name, dtype, shape);
    }

    /// <summary>One past the last storage element the view touches (the offset itself when it has no elements).</summary>
    private static long ExtentEnd(TorchTensorRecord record)
    {
        if (record.Size.Any(s => s == 0))
            return record.StorageOffset;
        long last = record.StorageOffset;
        for (int i = 0; i < record.Size.Length; i++)
            last = checked(last + (record.Size[i] - 1) * record.Stride[i]);
        return checked(last + 1);
    }

    private static string Format(long[] dims) => "[" + string.Join(",", dims) + "]";
}
