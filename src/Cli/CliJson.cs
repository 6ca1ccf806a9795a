using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using ReClip.Cli.Commands;
using ReClip.Runtime.Platform;

namespace ReClip.Cli;

/// <summary>
/// JSON for every `--json` output: snake_case names, enums as strings, indented, no needless escaping.
/// Source-generated so the trimmed single-file build needs no reflection.
/// </summary>
[JsonSerializable(typeof(InfoReport))]
[JsonSerializable(typeof(SelfcheckReport))]
[JsonSerializable(typeof(TokenizeReport))]
[JsonSerializable(typeof(FeaturesReport))]
[JsonSerializable(typeof(EvalReport))]
[JsonSerializable(typeof(HypothesizeReport))]
[JsonSerializable(typeof(TrainReport))]
[JsonSerializable(typeof(DemoJson))]
[JsonSerializable(typeof(BenchReport))]
[JsonSerializable(typeof(ReClip.Model.Benchmarks.GpuBenchmarkResult))]
internal sealed partial class CliJson : JsonSerializerContext
{
    public static CliJson Output { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    });
}
