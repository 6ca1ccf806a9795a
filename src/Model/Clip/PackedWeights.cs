using System.Runtime.CompilerServices;
using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// CLIP's linear weights are frozen, so each is packed for SGEMM once, on first use, and kept as long as the
/// weight tensor lives: B-packing is most of the memory traffic of a GEMM with a few hundred rows (measured
/// +7–22% on the ViT-B/16 linear shapes, bench cases linear_* against sgemm_*). Costs a second copy of the
/// linear weights in memory. The product is bitwise the one of packing on every call.
/// </summary>
internal static unsafe class PackedWeights
{
    private static readonly ConditionalWeakTable<Tensor, Dictionary<(int First, int Count), PackedMatrix>> cache = [];

    /// <summary>Rows firstOut..firstOut+outputs of a weight [out, in], packed as the transposed B operand.</summary>
    public static PackedMatrix For(Tensor weight, int firstOut, int outputs)
    {
        Dictionary<(int, int), PackedMatrix> slices = cache.GetValue(weight, _ => []);
        lock (slices)
        {
            if (!slices.TryGetValue((firstOut, outputs), out PackedMatrix? packed))
            {
                int inputs = weight.Size(1);
                packed = PackedMatrix.Pack(new GemmOperand(weight.Pointer<float>() + (long)firstOut * inputs, inputs, true), inputs, outputs);
                slices[(firstOut, outputs)] = packed;
            }
            return packed;
        }
    }
}
