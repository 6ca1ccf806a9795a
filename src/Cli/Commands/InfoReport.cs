using System.Text.Json.Serialization;
using ReClip.Runtime.Platform;

namespace ReClip.Cli.Commands;

/// <summary>The JSON of `reclip info`: the system, and the weight file when one was given.</summary>
public sealed record InfoReport(
    SystemReport System,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] WeightsReport? Weights);
