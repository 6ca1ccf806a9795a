using System.Text.Json;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using ReClip.Runtime.IO;
using ReClip.Runtime.Platform;

namespace ReClip.Bench;

/// <summary>
/// Writes bench/results/onnx.json: per size and batch, the median ms of ours and of ONNX Runtime, the speed-up
/// (theirs / ours) and the outputs' largest difference, for docs/PERFORMANCE.md and bench/plot.
/// </summary>
public sealed class OnnxResultsExporter : IExporter
{
    public string Name => "onnx-json";

    public void ExportToLog(Summary summary, ILogger logger)
    {
    }

    public IEnumerable<string> ExportToFiles(Summary summary, ILogger consoleLogger)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var medians = new Dictionary<(int Size, int Batch, string Method), double>();
        foreach (BenchmarkReport report in summary.Reports)
            if (report.ResultStatistics is { } statistics)
                medians[(OnnxDifferences.Parameter(report.BenchmarkCase, "Size"), OnnxDifferences.Parameter(report.BenchmarkCase, "Batch"),
                    report.BenchmarkCase.Descriptor.WorkloadMethod.Name)] = statistics.Median / 1e6;
        var cases = new List<object>();
        foreach (var (size, batch) in medians.Keys.Select(k => (k.Size, k.Batch)).Distinct().Order())
        {
            double ours = medians.GetValueOrDefault((size, batch, nameof(OnnxBenchmarks.Ours)), double.NaN);
            double theirs = medians.GetValueOrDefault((size, batch, nameof(OnnxBenchmarks.OnnxRuntime)), double.NaN);
            cases.Add(new Dictionary<string, object?>
            {
                ["size"] = size, ["batch"] = batch, ["ours_ms"] = Finite(ours), ["onnxruntime_ms"] = Finite(theirs),
                ["speedup"] = Finite(theirs / ours), ["max_abs_difference"] = Finite(OnnxDifferences.Read(size, batch), digits: null),
            });
        }
        string path = Path.Combine(OnnxModels.RepositoryRoot, "bench", "results", "onnx.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var document = new Dictionary<string, object>
        {
            ["cpu"] = CpuInfo.ModelName, ["threads"] = Environment.ProcessorCount,
            ["onnxruntime"] = typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version?.ToString() ?? "unknown",
            ["cases"] = cases,
            ["charts"] = new[] { Chart(medians) },
        };
        AtomicFile.Write(path, stream => JsonSerializer.Serialize(stream, document, new JsonSerializerOptions { WriteIndented = true }));
        return [path];
    }

    /// <summary>bench/plot's chart of the comparison: ms per image against the input side, per runtime and batch.</summary>
    private static Dictionary<string, object> Chart(Dictionary<(int Size, int Batch, string Method), double> medians) => new()
    {
        ["file"] = "onnxruntime-image.png",
        ["title"] = "MaskCLIP image encoder: ours vs ONNX Runtime (CPU)",
        ["x_label"] = "input side (px)",
        ["y_label"] = "ms per image",
        ["series"] = medians.Keys.Select(k => (k.Method, k.Batch)).Distinct().Order().Select(line => new Dictionary<string, object>
        {
            ["name"] = $"{(line.Method == nameof(OnnxBenchmarks.Ours) ? "ours" : "ORT")}, batch {line.Batch}",
            ["points"] = medians.Where(m => (m.Key.Method, m.Key.Batch) == line).OrderBy(m => m.Key.Size)
                .Select(m => new[] { m.Key.Size, Math.Round(m.Value / m.Key.Batch, 3) }).ToArray(),
        }).ToArray(),
    };

    /// <summary>JSON has no NaN: a case that did not run is null. Times keep µs; differences (~1e-7) are not rounded.</summary>
    private static object? Finite(double value, int? digits = 3) => double.IsFinite(value) ? (digits is int d ? Math.Round(value, d) : value) : null;
}
