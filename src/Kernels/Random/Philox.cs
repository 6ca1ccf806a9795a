using System.Runtime.CompilerServices;

namespace ReClip.Kernels.Random;

/// <summary>
/// Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel random numbers:
/// as easy as 1, 2, 3" (SC 2011): ten rounds of two 32×32→64-bit multiplications (0xD2511F53,
/// 0xCD9E8D57) over a 128-bit counter, the 64-bit key bumped by the Weyl constants (0x9E3779B9,
/// 0xBB67AE85) between rounds. Each counter value gives four independent 32-bit words with no state
/// carried from call to call, so the same (seed, stream, element index) gives the same number on any
/// thread, in any order and on any device: the Gumbel noise of spec §6 step 5 is drawn this way on the
/// CPU and (later) by the CUDA kernel.
///
/// Layout used by <see cref="Uniform"/>: key = the seed (low word, high word); counter = (block low,
/// block high, stream low, stream high) with block = index / 4, and element <c>index</c> takes word
/// <c>index % 4</c> of that block — every word of every block is used, and a GPU thread per element
/// (or per four elements) computes exactly the same value.
/// </summary>
public static class Philox
{
    private const uint Multiplier0 = 0xD2511F53, Multiplier1 = 0xCD9E8D57;
    private const uint Weyl0 = 0x9E3779B9, Weyl1 = 0xBB67AE85;
    private const int Rounds = 10;

    /// <summary>The 23-bit grid step 2⁻²³ of <see cref="ToUniform"/>.</summary>
    private const float Step = 1.0f / (1 << 23);

    /// <summary>One Philox4x32-10 block: the four output words of counter (c0..c3) under key (k0, k1).</summary>
    public static (uint X0, uint X1, uint X2, uint X3) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < Rounds; round++)
        {
            if (round > 0)
            {
                k0 += Weyl0;
                k1 += Weyl1;
            }
            ulong product0 = (ulong)Multiplier0 * c0, product1 = (ulong)Multiplier1 * c2;
            uint hi0 = (uint)(product0 >> 32), lo0 = (uint)product0;
            uint hi1 = (uint)(product1 >> 32), lo1 = (uint)product1;
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0);
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>The 32-bit word of element <paramref name="index"/> of <paramref name="stream"/> under <paramref name="seed"/>.</summary>
    public static uint Bits(ulong seed, ulong stream, ulong index)
    {
        var words = BlockOf(seed, stream, index >> 2);
        return (index & 3) switch
        {
            0 => words.X0,
            1 => words.X1,
            2 => words.X2,
            _ => words.X3,
        };
    }

    /// <summary>
    /// A uniform number in the open interval (0, 1) for element <paramref name="index"/> of
    /// <paramref name="stream"/>: the same arguments always give the same float, bit for bit.
    /// </summary>
    public static float Uniform(ulong seed, ulong stream, ulong index) => ToUniform(Bits(seed, stream, index));

    /// <summary>
    /// Elements firstIndex .. firstIndex + destination.Length − 1 of the stream, equal element by element
    /// to <see cref="Uniform"/> but computing each Philox block once for its four words.
    /// </summary>
    public static void FillUniform(ulong seed, ulong stream, ulong firstIndex, Span<float> destination)
    {
        int i = 0;
        ulong index = firstIndex;
        while (i < destination.Length)
        {
            var words = BlockOf(seed, stream, index >> 2);
            for (int word = (int)(index & 3); word < 4 && i < destination.Length; word++, i++, index++)
                destination[i] = ToUniform(word switch
                {
                    0 => words.X0,
                    1 => words.X1,
                    2 => words.X2,
                    _ => words.X3,
                });
        }
    }

    /// <summary>
    /// Maps a 32-bit word to (k + ½)·2⁻²³ with k its top 23 bits: every value is an exact float32
    /// (2k + 1 &lt; 2²⁴), the smallest is 2⁻²⁴ and the largest 1 − 2⁻²⁴, so neither 0 nor 1 occurs and
    /// −log(−log u) is finite. Plain float arithmetic, so a CUDA kernel reproduces it exactly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToUniform(uint bits) => (bits >> 9) * Step + Step / 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (uint X0, uint X1, uint X2, uint X3) BlockOf(ulong seed, ulong stream, ulong block) =>
        Block((uint)block, (uint)(block >> 32), (uint)stream, (uint)(stream >> 32), (uint)seed, (uint)(seed >> 32));
}
