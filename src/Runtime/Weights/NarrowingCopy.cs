using System.Runtime.CompilerServices;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>
/// Copies 64-bit file data into the 32-bit tensors <see cref="SafetensorsDTypes.LoadsAs"/> promises.
/// Reads are unaligned because nothing in the format aligns a tensor's offset to its element size.
/// </summary>
internal static unsafe class NarrowingCopy
{
    /// <summary>float64 to float32, rounding to nearest as a C cast does (PyTorch's <c>.float()</c> rounds the same way).</summary>
    public static Tensor DoubleToFloat(byte* source, int[] shape)
    {
        Tensor result = Tensor.Empty(shape, DType.F32);
        float* destination = result.Pointer<float>();
        for (long i = 0; i < result.ElementCount; i++)
            destination[i] = (float)Unsafe.ReadUnaligned<double>(source + i * sizeof(double));
        return result;
    }

    /// <summary>int64 to int32; a value outside the int32 range is an error, never a silent wrap.</summary>
    public static Tensor LongToInt(byte* source, int[] shape, string path, string tensorName)
    {
        Tensor result = Tensor.Empty(shape, DType.I32);
        int* destination = result.Pointer<int>();
        for (long i = 0; i < result.ElementCount; i++)
        {
            long value = Unsafe.ReadUnaligned<long>(source + i * sizeof(long));
            if (value is < int.MinValue or > int.MaxValue)
            {
                result.Dispose();
                throw new WeightFileException(path, $"I64 element {i} is {value}, outside the i32 range it loads as", tensorName);
            }
            destination[i] = (int)value;
        }
        return result;
    }
}
