using System.Text.Json.Serialization;

namespace ReClip.Cli.Commands;

/// <summary>
/// The JSON of `reclip features`: pooled image embeddings and text embeddings after the projection (not
/// normalised), and with --dense the MaskCLIP map of each image as [image][channel][y][x] (unit norm per patch).
/// </summary>
public sealed record FeaturesReport(
    IReadOnlyList<float[]> Image,
    IReadOnlyList<float[]> Text,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<float[][][]>? Dense);
