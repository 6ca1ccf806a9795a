using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// The MaskCLIP dense output of spec §4.4, channels last: <see cref="Features"/> [B, h·w, E], one
/// L2-normalised embedding per patch, patches row-major (index y·w + x), so the per-patch cosine with text
/// rows is one GEMM; <see cref="PositionalGrid"/> [h·w, Dv], the positional embedding resized to the
/// input's grid without the class row (raw values, not layer-normalised), which the bias extractor uses.
/// </summary>
public sealed class DenseFeatures(Tensor features, Tensor positionalGrid, int rows, int columns) : IDisposable
{
    public Tensor Features { get; } = features;

    public Tensor PositionalGrid { get; } = positionalGrid;

    /// <summary>h = ceil(H / patch).</summary>
    public int Rows { get; } = rows;

    /// <summary>w = ceil(W / patch).</summary>
    public int Columns { get; } = columns;

    public void Dispose()
    {
        Features.Dispose();
        PositionalGrid.Dispose();
    }
}
