using ReClip.Kernels.Random;

namespace ReClip.Model.ReClip;

/// <summary>
/// The seeded initial values of the head's randomly initialised tensors (spec §5, §6). The authors set no seed
/// (spec §9), so only the distributions can match theirs; ours come from <see cref="Philox"/> keyed by
/// (seed, stream, element index), each tensor on its own stream, so a value does not depend on the order
/// in which tensors are built or on the thread count.
/// </summary>
public static class ParameterInit
{
    /// <summary>Streams of the initialised tensors; any two differ, so their values are independent.</summary>
    public const ulong PeProjWeightStream = 0x5045_0001, PeProjBiasStream = 0x5045_0002, DecoderWeightStream = 0xDEC0_0001, DecoderBiasStream = 0xDEC0_0002;

    /// <summary>U(−bound, bound): 2u − 1 scaled, u ∈ (0, 1) from Philox (PyTorch's default conv init for weight and bias, with bound 1/√fan_in).</summary>
    public static void Uniform(ulong seed, ulong stream, float bound, Span<float> values)
    {
        Philox.FillUniform(seed, stream, 0, values);
        for (int i = 0; i < values.Length; i++)
            values[i] = (float)((2.0 * values[i] - 1) * bound);
    }

    /// <summary>N(0, σ²) by Box–Muller on consecutive pairs (u₁, u₂) of the stream: √(−2 ln u₁)·cos(2πu₂), then ·sin for the pair's second value.</summary>
    public static void Normal(ulong seed, ulong stream, float sigma, Span<float> values)
    {
        Span<float> pair = stackalloc float[2];
        for (int i = 0; i < values.Length; i += 2)
        {
            Philox.FillUniform(seed, stream, (ulong)i, pair);
            double radius = Math.Sqrt(-2 * Math.Log(pair[0])), angle = 2 * Math.PI * pair[1];
            values[i] = (float)(sigma * radius * Math.Cos(angle));
            if (i + 1 < values.Length) values[i + 1] = (float)(sigma * radius * Math.Sin(angle));
        }
    }
}
