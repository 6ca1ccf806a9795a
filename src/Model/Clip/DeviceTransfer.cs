using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// The towers (and the ReCLIP++ head) compute where their tensors are and hand results back where the caller's inputs
/// were, so that a caller on the CPU can use them on a GPU: inputs are copied over, outputs copied back, and nothing is
/// copied when the devices agree.
/// </summary>
internal static class DeviceTransfer
{
    /// <summary><paramref name="tensor"/> on <paramref name="device"/>: another reference to it when it is there already, else a copy; dispose either.</summary>
    public static Tensor Onto(Tensor tensor, Device device) => tensor.Device == device ? tensor.Contiguous() : tensor.ToDevice(device);

    /// <summary><paramref name="tensor"/> itself when it is on <paramref name="device"/>, else a copy there and <paramref name="tensor"/> disposed.</summary>
    public static Tensor MoveTo(Tensor tensor, Device device)
    {
        if (tensor.Device == device)
            return tensor;
        try
        {
            return tensor.ToDevice(device);
        }
        finally
        {
            tensor.Dispose();
        }
    }
}
