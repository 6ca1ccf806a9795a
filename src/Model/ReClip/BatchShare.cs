using ReClip.Runtime.Collectives;

namespace ReClip.Model.ReClip;

/// <summary>
/// One rank's part of a data-parallel training step: the step's batch of <see cref="GlobalBatch"/> images is split
/// over the ranks of <see cref="Group"/> in contiguous runs, and this rank holds the images from
/// <see cref="FirstImage"/> on. The loss is normalised by the whole batch (spec §7: Σ_j L_j / B) and the Gumbel
/// noise of image j is that of its place in the whole batch, so the ranks together compute the step of one
/// process holding the whole batch.
/// </summary>
public sealed record BatchShare(ICollective Group, int GlobalBatch, int FirstImage)
{
    public ICollective Group { get; } = Group ?? throw new ArgumentNullException(nameof(Group));

    public int GlobalBatch { get; } = GlobalBatch > 0 ? GlobalBatch : throw new ArgumentOutOfRangeException(nameof(GlobalBatch), GlobalBatch, "a step needs at least one image");

    public int FirstImage { get; } = FirstImage >= 0 && FirstImage <= GlobalBatch ? FirstImage
        : throw new ArgumentOutOfRangeException(nameof(FirstImage), FirstImage, $"outside the batch of {GlobalBatch}");
}
