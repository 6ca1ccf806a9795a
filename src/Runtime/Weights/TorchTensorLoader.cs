using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>
/// Turns a validated tensor record into a CPU tensor. A contiguous tensor whose bytes need no conversion
/// points into the mapped file (zero-copy); a strided view is gathered into a contiguous copy, and
/// float64 and int64 are narrowed to f32 and i32 on the way (an int64 value outside int32 is an error).
/// </summary>
internal static unsafe class TorchTensorLoader
{
    public static Tensor Load(BoundedZipReader zip, WeightEntry entry, TorchTensorRecord record, ZipEntry storageEntry)
    {
        TorchScalarType element = record.Storage.Element;
        HostStorage storage = zip.OpenStorage(storageEntry, element.ElementSize);
        if (element.LoadsAsIs && record.IsContiguous)
        {
            try
            {
                return Tensor.OnStorage(storage, record.StorageOffset, entry.Shape, entry.DType);
            }
            catch
            {
                storage.Release();
                throw;
            }
        }
        try
        {
            return Gather(storage.Pointer, entry, record, zip.Path);
        }
        finally
        {
            storage.Release();
        }
    }

    private static Tensor Gather(byte* source, WeightEntry entry, TorchTensorRecord record, string path)
    {
        Tensor result = Tensor.Empty(entry.Shape, entry.DType);
        try
        {
            var offsets = new StridedOffsets(record.StorageOffset, record.Size, record.Stride);
            TorchScalarType element = record.Storage.Element;
            if (element == TorchScalarType.Float64)
                NarrowFloat64((double*)source, result.Pointer<float>(), offsets);
            else if (element == TorchScalarType.Int64)
                NarrowInt64((long*)source, result.Pointer<int>(), offsets, entry.Name, path);
            else
                CopyElements(source, result.RawPointer, element.ElementSize, offsets);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private static void NarrowFloat64(double* source, float* destination, StridedOffsets offsets)
    {
        for (long i = 0; offsets.MoveNext(); i++)
            destination[i] = (float)source[offsets.Current];
    }

    private static void NarrowInt64(long* source, int* destination, StridedOffsets offsets, string name, string path)
    {
        for (long i = 0; offsets.MoveNext(); i++)
        {
            long value = source[offsets.Current];
            if (value is < int.MinValue or > int.MaxValue)
                throw new WeightFileException(path, $"int64 value {value} at element {i} does not fit the i32 it is loaded as", name);
            destination[i] = (int)value;
        }
    }

    private static void CopyElements(byte* source, byte* destination, int elementSize, StridedOffsets offsets)
    {
        for (long i = 0; offsets.MoveNext(); i++)
            Buffer.MemoryCopy(source + offsets.Current * elementSize, destination + i * elementSize, elementSize, elementSize);
    }
}
