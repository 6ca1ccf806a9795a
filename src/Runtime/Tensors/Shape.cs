namespace ReClip.Runtime.Tensors;

/// <summary>Shape arithmetic and the wording of shape errors, kept in one place so every op reports alike.</summary>
public static class Shape
{
    public static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    public static long ElementCount(ReadOnlySpan<int> shape)
    {
        long count = 1;
        foreach (int dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException($"shape {Format(shape)} has a negative dimension");
            count = checked(count * dim);
        }
        return count;
    }

    /// <summary>Row-major strides, in elements.</summary>
    public static long[] ContiguousStrides(ReadOnlySpan<int> shape)
    {
        long[] strides = new long[shape.Length];
        long stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    public static TensorShapeException Mismatch(string op, ReadOnlySpan<int> expected, ReadOnlySpan<int> actual) =>
        new($"{op}: shape {Format(actual)} does not match {Format(expected)}");

    public static void Require(string op, ReadOnlySpan<int> expected, ReadOnlySpan<int> actual)
    {
        if (!expected.SequenceEqual(actual))
            throw Mismatch(op, expected, actual);
    }
}

/// <summary>A tensor had the wrong shape for an op; the message names the op and both shapes.</summary>
public sealed class TensorShapeException(string message) : ArgumentException(message);
