using ReClip.Model.Data;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>CLIP's input normalisation: RGB in [0, 1] minus CLIP's mean, divided by its standard deviation (spec §1.3 step 6).</summary>
public static class ClipImage
{
    public static ReadOnlySpan<float> Mean => [0.48145466f, 0.4578275f, 0.40821073f];

    public static ReadOnlySpan<float> Std => [0.26862954f, 0.26130258f, 0.27577711f];

    /// <summary>The image at its own size as a [1, 3, H, W] tensor, normalised as CLIP expects.</summary>
    public static Tensor Normalize(RgbImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        int plane = image.Width * image.Height;
        Tensor tensor = Tensor.Empty([1, 3, image.Height, image.Width]);
        Span<float> values = tensor.AsSpan<float>();
        for (int c = 0; c < 3; c++)
        {
            float mean = Mean[c], inverse = 1 / Std[c];
            for (int i = 0; i < plane; i++)
                values[c * plane + i] = (image.Pixels[i * 3 + c] / 255f - mean) * inverse;
        }
        return tensor;
    }
}
