namespace ReClip.Cli.Commands;

/// <summary>The JSON of `reclip features`: one L2-normalised CLIP embedding per input.</summary>
public sealed record FeaturesReport(int EmbedDim, IReadOnlyList<FeatureRow> Texts);

/// <summary>One text (or id sequence) and its unit-norm embedding.</summary>
public sealed record FeatureRow(string Input, int[] Tokens, float[] Features);
