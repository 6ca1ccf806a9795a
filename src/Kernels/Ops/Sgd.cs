using System.Runtime.Intrinsics;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Threading;

namespace ReClip.Kernels.Ops;

/// <summary>
/// One step of PyTorch's SGD (spec §9: momentum μ = 0.9, dampening 0, no Nesterov, L2 weight decay
/// wd = 5e-4 on every trainable tensor): d = g + wd·θ; buf = d on a parameter's first step, else
/// buf = μ·buf + d; θ ← θ − lr·buf. lr multiplies the buffer at use, so a new epoch's lr acts on the
/// accumulated momentum at once. The buffer and the "has stepped" flag live in <see cref="SgdState"/>,
/// one per parameter, kept by the caller.
/// </summary>
public static partial class Sgd
{
    public const float DefaultMomentum = 0.9f, DefaultWeightDecay = 5e-4f;

    /// <summary>Elements per parallel chunk: a few L1-sized pieces, so only the largest tensors (the decoder conv) split.</summary>
    private const int ChunkElements = 16384;

    /// <summary>The definition, per element in double; <paramref name="first"/> is true on the parameter's first step.</summary>
    public static void Reference(Span<float> parameter, ReadOnlySpan<float> gradient, Span<float> buffer, bool first, float lr,
        float momentum = DefaultMomentum, float weightDecay = DefaultWeightDecay)
    {
        for (int i = 0; i < parameter.Length; i++)
        {
            double d = gradient[i] + (double)weightDecay * parameter[i];
            buffer[i] = (float)(first ? d : momentum * (double)buffer[i] + d);
            parameter[i] = (float)(parameter[i] - (double)lr * buffer[i]);
        }
    }

    /// <summary>Updates <paramref name="parameter"/> in place from <paramref name="gradient"/> (same shape) and the momentum in <paramref name="state"/>.</summary>
    public static unsafe void Step(Tensor parameter, Tensor gradient, SgdState state, float lr,
        float momentum = DefaultMomentum, float weightDecay = DefaultWeightDecay)
    {
        ArgumentNullException.ThrowIfNull(state);
        Shape.Require("Sgd gradient", parameter.Shape, gradient.Shape);
        if (!parameter.Device.IsCpu)
        {
            StepCuda(parameter, gradient, state.BufferFor(parameter), !state.HasStepped, lr, momentum, weightDecay);
            state.HasStepped = true;
            return;
        }
        OpGuard.Cpu("Sgd", parameter, gradient);
        Tensor buffer = state.BufferFor(parameter);
        bool first = !state.HasStepped;
        long count = parameter.ElementCount;
        nint ap = (nint)parameter.Pointer<float>(), ag = (nint)gradient.Pointer<float>(), ab = (nint)buffer.Pointer<float>();
        int chunks = (int)((count + ChunkElements - 1) / ChunkElements);
        ParallelRows.For(chunks, ChunkElements, (start, end) =>
        {
            long from = (long)start * ChunkElements, to = Math.Min(count, (long)end * ChunkElements);
            Update((float*)ap + from, (float*)ag + from, (float*)ab + from, (int)(to - from), first, lr, momentum, weightDecay);
        });
        state.HasStepped = true;
    }

    /// <summary>
    /// One pass over memory for all three tensors (the step is bandwidth-bound, so 256-bit vectors suffice). Rounds like PyTorch's CPU kernels: d = fma(θ, wd, g)
    /// (add with alpha), buf = μ·buf + d as mul_ then add_ (two roundings), θ = fma(buf, −lr, θ).
    /// </summary>
    private static unsafe void Update(float* parameter, float* gradient, float* buffer, int count, bool first, float lr, float momentum, float weightDecay)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> decay = Vector256.Create(weightDecay), mu = Vector256.Create(momentum), step = Vector256.Create(-lr);
            for (; i <= count - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                Vector256<float> theta = Vector256.Load(parameter + i);
                Vector256<float> d = Vector256.FusedMultiplyAdd(theta, decay, Vector256.Load(gradient + i));
                Vector256<float> b = first ? d : Vector256.Load(buffer + i) * mu + d;
                b.Store(buffer + i);
                Vector256.FusedMultiplyAdd(b, step, theta).Store(parameter + i);
            }
        }
        for (; i < count; i++)
        {
            float d = MathF.FusedMultiplyAdd(parameter[i], weightDecay, gradient[i]);
            float b = first ? d : buffer[i] * momentum + d;
            buffer[i] = b;
            parameter[i] = MathF.FusedMultiplyAdd(b, -lr, parameter[i]);
        }
    }
}

/// <summary>The per-parameter state of <see cref="Sgd"/>: the momentum buffer (allocated on the first step, like PyTorch's) and whether a step was taken.</summary>
public sealed class SgdState : IDisposable
{
    private Tensor? buffer;

    public bool HasStepped { get; internal set; }

    /// <summary>The momentum buffer, null before the first step.</summary>
    public Tensor? Buffer => buffer;

    /// <summary>Forgets the momentum: the next step starts again with buf = d (PyTorch after a fresh optimiser).</summary>
    public void Reset() => HasStepped = false;

    /// <summary>Resumes from a saved momentum buffer of <paramref name="parameter"/>'s shape: the next step continues it.</summary>
    public void Restore(Tensor parameter, ReadOnlySpan<float> momentum)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        if (momentum.Length != parameter.ElementCount)
            throw new ArgumentException($"Sgd momentum buffer: {momentum.Length} values for a parameter of {parameter.ElementCount}", nameof(momentum));
        Tensor target = BufferFor(parameter);
        if (target.Device.IsCpu)
            momentum.CopyTo(target.AsSpan<float>());
        else
            using (Tensor host = Tensor.FromSpan(momentum, parameter.Shape), onDevice = host.ToDevice(target.Device))
                target.CopyFrom(onDevice);
        HasStepped = true;
    }

    /// <summary>A copy of this state with its momentum on <paramref name="device"/>, for a copy of the parameter there.</summary>
    public SgdState ToDevice(Device device) => new() { buffer = buffer?.ToDevice(device), HasStepped = HasStepped };

    internal Tensor BufferFor(Tensor parameter)
    {
        if (buffer is null)
            buffer = Tensor.Empty(parameter.Shape, DType.F32, parameter.Device);
        else
            Shape.Require("Sgd momentum buffer", parameter.Shape, buffer.Shape);
        return buffer;
    }

    public void Dispose()
    {
        buffer?.Dispose();
        buffer = null;
    }
}
