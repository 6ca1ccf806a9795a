using ReClip.Model.Clip;

namespace ReClip.Model.ReClip;

/// <summary>
/// What the frozen CLIP computes for one image at inference (spec §10 step 1): the dense features of each window
/// of the resized image (one window covering it all for whole-image inference), the resized size (H', W') and the
/// original size. Nothing here depends on the trainable head, so a training loop can compute it once per image and
/// evaluate every epoch from it.
/// </summary>
public sealed class FrozenFeatures(IReadOnlyList<FeatureWindow> windows, int resizedWidth, int resizedHeight, int imageWidth, int imageHeight) : IDisposable
{
    public IReadOnlyList<FeatureWindow> Windows { get; } = windows;

    /// <summary>W' of the keep-ratio resize (spec §1.4).</summary>
    public int ResizedWidth { get; } = resizedWidth;

    public int ResizedHeight { get; } = resizedHeight;

    /// <summary>The image's own size, which its label map must have.</summary>
    public int ImageWidth { get; } = imageWidth;

    public int ImageHeight { get; } = imageHeight;

    public void Dispose()
    {
        foreach (FeatureWindow window in Windows)
            window.Features.Dispose();
    }
}

/// <summary>The dense features of the window at (X, Y) of size Width × Height of the resized image.</summary>
public sealed record FeatureWindow(DenseFeatures Features, int X, int Y, int Width, int Height);
