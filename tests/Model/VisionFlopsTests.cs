using ReClip.Model.Benchmarks;

namespace ReClip.Tests.Model;

/// <summary>The image tower's model FLOPs against a published count and against the dense path's own differences.</summary>
[TestFixture]
public sealed class VisionFlopsTests
{
    /// <summary>
    /// timm lists ViT-B/16 at 224 px as 17.6 GMACs (its head 768 → 1000 instead of CLIP's projection 768 → 512, 0.4 M
    /// multiply-adds apart); two FLOPs per multiply-add.
    /// </summary>
    [Test]
    public void PooledVitB16MatchesThePublishedCount() =>
        Assert.That(VisionFlops.Pooled(ClipFixture.VitB16, 224) / 2e9, Is.EqualTo(17.6).Within(0.05));

    /// <summary>
    /// The dense path drops the last block's qkv products for q and k (4·T·D²) and its attention (4·T²·D), and projects
    /// the 196 patches instead of the class token.
    /// </summary>
    [Test]
    public void DenseDiffersByTheLastBlocksAttentionAndTheProjections()
    {
        const double tokens = 197, width = 768, embed = 512;
        double expected = 4 * tokens * width * width + 4 * tokens * tokens * width + 2 * width * embed - 2 * 196 * width * embed;
        Assert.That(VisionFlops.Pooled(ClipFixture.VitB16, 224) - VisionFlops.Dense(ClipFixture.VitB16, 224), Is.EqualTo(expected).Within(1));
    }

    [Test]
    public void LargerPicturesCostMore() =>
        Assert.That(VisionFlops.Dense(ClipFixture.VitB16, 336), Is.GreaterThan(2.25 * VisionFlops.Dense(ClipFixture.VitB16, 224)));
}
