using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// Where an activation that only feeds a linear goes: the float32 buffer given, in a block whose linears run in float32;
/// a bfloat16 tensor of its shape, in a block whose linears run in bfloat16 (<see cref="ClipWeights.ToDevice"/>), so that
/// its producer stores bfloat16 and no conversion pass runs before the GEMM.
/// </summary>
internal sealed class LinearInput : IDisposable
{
    private readonly Tensor? owned;

    public LinearInput(TransformerBlockWeights w, Tensor float32Buffer)
    {
        owned = TypeFor(w) == DType.BF16 ? Tensor.Empty(float32Buffer.Shape, DType.BF16, float32Buffer.Device) : null;
        Tensor = owned ?? float32Buffer;
    }

    public Tensor Tensor { get; }

    /// <summary>The element type of the block's linear inputs: its weights'.</summary>
    public static DType TypeFor(TransformerBlockWeights w) => w.InProjWeight.DType == DType.BF16 ? DType.BF16 : DType.F32;

    public void Dispose() => owned?.Dispose();
}
