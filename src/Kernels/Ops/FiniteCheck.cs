using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Which of several float32 tensors hold a NaN or an infinity (a training step's gradients, before SGD may apply them).
/// On a GPU all of them are checked on the device and the answers come back in one read.
/// </summary>
public static partial class FiniteCheck
{
    /// <summary>The definition: whether every value is finite.</summary>
    public static bool Reference(ReadOnlySpan<float> values)
    {
        foreach (float value in values)
            if (!float.IsFinite(value))
                return false;
        return true;
    }

    /// <summary>For each tensor (contiguous float32, all on one device), whether it holds a value that is not finite.</summary>
    public static bool[] NonFinite(IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Count == 0)
            return [];
        if (!tensors[0].Device.IsCpu)
            return NonFiniteCuda(tensors);
        var flags = new bool[tensors.Count];
        for (int i = 0; i < flags.Length; i++)
        {
            OpGuard.Cpu("FiniteCheck", tensors[i]);
            // MaxMagnitude is NaN when a NaN is present and infinite when an infinity is.
            flags[i] = tensors[i].ElementCount > 0 && !float.IsFinite(TensorPrimitives.MaxMagnitude(tensors[i].AsSpan<float>()));
        }
        return flags;
    }
}
