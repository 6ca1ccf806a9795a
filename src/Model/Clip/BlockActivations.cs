using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// What one residual block's forward keeps for its input-gradient backward (the llm.c way: every saved
/// activation visible). For x [B, T, D]: the block input and the middle residual stream (LayerNorm inputs),
/// both LayerNorms' statistics [B·T], the packed qkv [B, T, 3D] and attention's logsumexp [B, H, T]
/// (attention recomputes its probabilities from them) and output [B, T, D] (its backward's row sums D = dO·o), and
/// the MLP pre-activation [B, T, 4D] (QuickGELU's input). About 11·T·D floats per block and sequence. A shared-prefix prompt's stacked rows (<see cref="PromptRows"/>) are
/// one sequence of P + C·S rows here; its logsumexp buffer holds the prefix's and the classes' parts.
/// </summary>
public sealed class BlockActivations(int batch, int tokens, int width, int heads, Device device) : IDisposable
{
    public Tensor Input { get; } = Tensor.Empty([batch, tokens, width], DType.F32, device);
    public Tensor Ln1Mean { get; } = Tensor.Empty([batch * tokens], DType.F32, device);
    public Tensor Ln1Rstd { get; } = Tensor.Empty([batch * tokens], DType.F32, device);
    public Tensor Qkv { get; } = Tensor.Empty([batch, tokens, 3 * width], DType.F32, device);
    public Tensor LogSumExp { get; } = Tensor.Empty([batch, heads, tokens], DType.F32, device);
    public Tensor Output { get; } = Tensor.Empty([batch, tokens, width], DType.F32, device);
    public Tensor Middle { get; } = Tensor.Empty([batch, tokens, width], DType.F32, device);
    public Tensor Ln2Mean { get; } = Tensor.Empty([batch * tokens], DType.F32, device);
    public Tensor Ln2Rstd { get; } = Tensor.Empty([batch * tokens], DType.F32, device);
    public Tensor Hidden { get; } = Tensor.Empty([batch, tokens, 4 * width], DType.F32, device);

    public void Dispose()
    {
        foreach (Tensor t in new[] { Input, Ln1Mean, Ln1Rstd, Qkv, LogSumExp, Output, Middle, Ln2Mean, Ln2Rstd, Hidden })
            t.Dispose();
    }
}
