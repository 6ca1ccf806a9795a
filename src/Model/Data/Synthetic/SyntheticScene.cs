namespace ReClip.Model.Data.Synthetic;

/// <summary>One generated picture: the image, its exact label map, a caption and the classes it shows.</summary>
public sealed record SyntheticScene(RgbImage Image, LabelMap Labels, string Caption, IReadOnlyList<int> Classes);
