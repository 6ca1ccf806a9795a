using System.Runtime.InteropServices;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.ReClip;

/// <summary>
/// What a training step reads back from its device, side by side in one buffer so that one copy (on a GPU, one wait)
/// reads it all: the loss's running double (two f32 words, as <see cref="MaskedPoolingLoss.NewTotal"/>; at byte 0 of
/// the allocation, so aligned for the kernel's 8-byte stores), then one finiteness flag per gradient.
/// </summary>
internal sealed class StepReadback : IDisposable
{
    private readonly Tensor buffer;

    public StepReadback(int gradients, Device device)
    {
        buffer = Tensor.Zeros([2 + gradients], DType.I32, device);
        Total = buffer.ViewAs(DType.F32, 0, [2]);
        Flags = buffer.ViewAs(DType.I32, 8, [gradients]);
    }

    /// <summary>The running sum <see cref="MaskedPoolingLoss.ForwardBackward"/> adds the batch's loss to.</summary>
    public Tensor Total { get; }

    /// <summary>i32 [gradients]: 1 where a gradient holds a NaN or an infinity (<see cref="QueueFlags"/>).</summary>
    public Tensor Flags { get; }

    /// <summary>Queues the gradients' finiteness check into <see cref="Flags"/>, reading nothing back.</summary>
    public void QueueFlags(IReadOnlyList<Tensor> gradients) => FiniteCheck.Queue(gradients, Flags);

    /// <summary>The loss's sum and the flags, in one copy.</summary>
    public (double Total, bool[] NonFinite) Read()
    {
        using Tensor host = buffer.ToDevice(Device.Cpu);
        ReadOnlySpan<int> values = host.AsSpan<int>();
        return (MaskedPoolingLoss.ReadTotal(MemoryMarshal.Cast<int, float>(values[..2])), [.. values[2..].ToArray().Select(flag => flag != 0)]);
    }

    public void Dispose()
    {
        Total.Dispose();
        Flags.Dispose();
        buffer.Dispose();
    }
}
