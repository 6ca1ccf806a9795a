using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// Where an activation that only feeds a linear goes: the buffer given, when it has the type the block's linears take
/// (float32 ones, or bfloat16 ones for a block stored so, <see cref="ClipWeights.ToDevice"/>); else a tensor of its shape
/// in that type, so that the producer stores bfloat16 and no conversion pass runs before the GEMM.
/// </summary>
internal sealed class LinearInput : IDisposable
{
    private readonly Tensor? owned;

    public LinearInput(TransformerBlockWeights w, Tensor buffer)
    {
        DType type = TypeFor(w);
        owned = buffer.DType == type ? null : Tensor.Empty(buffer.Shape, type, buffer.Device);
        Tensor = owned ?? buffer;
    }

    public Tensor Tensor { get; }

    /// <summary>The element type of the block's linear inputs: its weights'.</summary>
    public static DType TypeFor(TransformerBlockWeights w) => w.LinearsInBFloat16 ? DType.BF16 : DType.F32;

    public void Dispose() => owned?.Dispose();
}
