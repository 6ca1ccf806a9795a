using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>The q, k and v column blocks of a packed [B, T, 3D] buffer, as views.</summary>
internal readonly struct QkvViews(Tensor packed, int width) : IDisposable
{
    public Tensor Q { get; } = packed.Slice(2, 0, width);

    public Tensor K { get; } = packed.Slice(2, width, width);

    public Tensor V { get; } = packed.Slice(2, 2 * width, width);

    public void Dispose()
    {
        Q.Dispose();
        K.Dispose();
        V.Dispose();
    }
}
