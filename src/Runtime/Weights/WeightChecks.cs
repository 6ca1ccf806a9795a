using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>
/// Checks on loaded weights that opening a file cannot make: both formats store any bit pattern as a
/// weight, so a NaN or an infinity is well-formed and only shows once the tensor is read.
/// </summary>
public static class WeightChecks
{
    /// <summary>Throws, naming the file, the tensor and the first offending element, unless every float is finite; integer tensors always pass.</summary>
    /// <exception cref="WeightFileException">an element is NaN or infinite.</exception>
    public static void RequireFinite(Tensor tensor, string path, string name)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        (long index, float value) = tensor.DType switch
        {
            DType.F32 => FirstNonFinite(tensor.AsSpan<float>(), v => v),
            DType.F16 => FirstNonFinite(tensor.AsSpan<Half>(), v => (float)v),
            DType.BF16 => FirstNonFinite(tensor.AsSpan<BFloat16>(), v => (float)v),
            _ => (-1, 0f),
        };
        if (index >= 0)
            throw new WeightFileException(path, $"element {index} is {value}, not a finite number", name);
    }

    private static (long Index, float Value) FirstNonFinite<T>(ReadOnlySpan<T> values, Func<T, float> widen)
    {
        for (int i = 0; i < values.Length; i++)
        {
            float value = widen(values[i]);
            if (!float.IsFinite(value))
                return (i, value);
        }
        return (-1, 0f);
    }
}
