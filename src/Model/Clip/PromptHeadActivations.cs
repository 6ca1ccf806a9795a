using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// The end of a prompt forward, kept for its backward by both the plain and the shared-prefix paths:
/// ln_final's input x [C, T, Dt] and statistics, the gathered position per class within x, and the output
/// <see cref="Features"/> [C, E] (not normalised).
/// </summary>
public sealed class PromptHeadActivations(Tensor finalInput, Tensor finalMean, Tensor finalRstd, int[] indices, Tensor features) : IDisposable
{
    public Tensor FinalInput { get; } = finalInput;

    public Tensor FinalMean { get; } = finalMean;

    public Tensor FinalRstd { get; } = finalRstd;

    public IReadOnlyList<int> Indices { get; } = indices;

    public Tensor Features { get; } = features;

    public void Dispose()
    {
        FinalInput.Dispose();
        FinalMean.Dispose();
        FinalRstd.Dispose();
        Features.Dispose();
    }
}
