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
        using Tensor flags = Tensor.Zeros([tensors.Count], DType.I32, tensors[0].Device);
        Queue(tensors, flags);
        return [.. flags.ToFloatArray().Select(flag => flag != 0)];
    }

    /// <summary>
    /// Writes into <paramref name="flags"/> (i32 [tensors], on the tensors' device) 1 for each tensor that holds a value
    /// that is not finite and 0 for the others, reading nothing back: on a GPU it only queues kernels, so a step captured
    /// as a CUDA graph can hold it, its flags read together with the loss.
    /// </summary>
    public static void Queue(IReadOnlyList<Tensor> tensors, Tensor flags)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(flags);
        if (flags.DType != DType.I32)
            throw new ArgumentException($"FiniteCheck: flags are {flags.DType.Name()}, not i32", nameof(flags));
        Shape.Require("FiniteCheck flags", [tensors.Count], flags.Shape);
        if (tensors.Count == 0)
            return;
        if (!flags.Device.IsCpu)
        {
            QueueCuda(tensors, flags);
            return;
        }
        Span<int> values = flags.AsSpan<int>();
        for (int i = 0; i < tensors.Count; i++)
        {
            OpGuard.Cpu("FiniteCheck", tensors[i]);
            // MaxMagnitude is NaN when a NaN is present and infinite when an infinity is.
            values[i] = tensors[i].ElementCount > 0 && !float.IsFinite(TensorPrimitives.MaxMagnitude(tensors[i].AsSpan<float>())) ? 1 : 0;
        }
    }
}
