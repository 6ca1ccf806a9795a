using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.ReClip;

/// <summary>
/// What a training step replayed as a CUDA graph reads from device memory, so that it can change between replays: the
/// Gumbel stream, i.e. the step number (<see cref="GumbelSoftmax.StreamTensor"/>), and the hypotheses' membership mask
/// (<see cref="MaskedPoolingLoss.Membership"/>). <see cref="None"/>: both are passed as values, as an eager step does.
/// </summary>
internal sealed record StepOnDevice(Tensor? Stream, Tensor? Membership)
{
    public static StepOnDevice None { get; } = new(null, null);
}
