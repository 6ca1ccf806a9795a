using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// One residual attention block of either tower, in OpenAI's layout: ln_1, the packed in-projection
/// (q, k, v rows of [3D, D]), the out-projection, ln_2 and the MLP c_fc [4D, D], c_proj [D, 4D].
/// Linear weights are [out, in], float32, or bfloat16 in an image tower stored so on a GPU (ClipWeights.ToDevice).
/// </summary>
public sealed class TransformerBlockWeights(
    Tensor ln1Weight, Tensor ln1Bias, Tensor inProjWeight, Tensor inProjBias, Tensor outProjWeight, Tensor outProjBias,
    Tensor ln2Weight, Tensor ln2Bias, Tensor fcWeight, Tensor fcBias, Tensor projWeight, Tensor projBias) : IDisposable
{
    public Tensor Ln1Weight { get; } = ln1Weight;
    public Tensor Ln1Bias { get; } = ln1Bias;
    public Tensor InProjWeight { get; } = inProjWeight;
    public Tensor InProjBias { get; } = inProjBias;
    public Tensor OutProjWeight { get; } = outProjWeight;
    public Tensor OutProjBias { get; } = outProjBias;
    public Tensor Ln2Weight { get; } = ln2Weight;
    public Tensor Ln2Bias { get; } = ln2Bias;
    public Tensor FcWeight { get; } = fcWeight;
    public Tensor FcBias { get; } = fcBias;
    public Tensor ProjWeight { get; } = projWeight;
    public Tensor ProjBias { get; } = projBias;

    public int Width => Ln1Weight.Size(0);

    /// <summary>Whether the linear weights are stored in bfloat16 (<see cref="ClipWeights.ToDevice"/>), so that the block computes in bfloat16.</summary>
    public bool LinearsInBFloat16 => InProjWeight.DType == DType.BF16;

    public void Dispose()
    {
        foreach (Tensor t in new[] { Ln1Weight, Ln1Bias, InProjWeight, InProjBias, OutProjWeight, OutProjBias, Ln2Weight, Ln2Bias, FcWeight, FcBias, ProjWeight, ProjBias })
            t.Dispose();
    }
}
