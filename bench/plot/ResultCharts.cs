using System.Text.Json;
using ReClip.Model.Reports;
using SkiaSharp;

namespace ReClip.Bench.Plot;

/// <summary>
/// Draws the "charts" of each results file (bench/scaling.py and the ONNX suite write them): one PNG per chart, a
/// line per series, with <see cref="LineChart"/>. A results file without charts (compare.py's latest.json) is skipped.
/// <code>
/// "charts": [{"file": "a.png", "title": "…", "x_label": "…", "y_label": "…", "series": [{"name": "…", "points": [[x, y], …]}]}]
/// </code>
/// </summary>
public static class ResultCharts
{
    private static readonly SKColor[] Palette =
        [new(200, 60, 40), new(40, 90, 200), new(40, 150, 70), new(150, 80, 180), new(220, 140, 20), new(90, 90, 90)];

    public static IReadOnlyList<string> DrawAll(string resultsFolder, string figuresFolder)
    {
        if (!Directory.Exists(resultsFolder))
            throw new IOException($"{resultsFolder}: no such folder (run bench/compare.sh --all first)");
        Directory.CreateDirectory(figuresFolder);
        var written = new List<string>();
        foreach (string path in Directory.EnumerateFiles(resultsFolder, "*.json").Order(StringComparer.Ordinal))
            written.AddRange(Draw(path, figuresFolder));
        return written;
    }

    private static IEnumerable<string> Draw(string path, string figuresFolder)
    {
        using JsonDocument document = Parse(path);
        if (!document.RootElement.TryGetProperty("charts", out JsonElement charts))
            yield break;
        foreach (JsonElement chart in charts.EnumerateArray())
        {
            string file = Text(path, chart, "file");
            if (Path.GetFileName(file) != file || !file.EndsWith(".png", StringComparison.Ordinal))
                throw new InvalidDataException($"{path}: chart file '{file}' is not a bare .png name");
            var series = new List<ChartSeries>();
            foreach (JsonElement line in chart.GetProperty("series").EnumerateArray())
                series.Add(new ChartSeries(Text(path, line, "name"), Palette[series.Count % Palette.Length],
                    [.. line.GetProperty("points").EnumerateArray().Select(p => (Number(p[0]), Number(p[1])))]));
            string output = Path.Combine(figuresFolder, file);
            LineChart.Write(output, Text(path, chart, "title"), Text(path, chart, "x_label"), Text(path, chart, "y_label"), series);
            yield return output;
        }
    }

    private static JsonDocument Parse(string path)
    {
        try
        {
            return JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not JSON ({e.Message})", e);
        }
    }

    private static string Text(string path, JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidDataException($"{path}: a chart entry has no string '{name}'");

    /// <summary>A missing figure (a case that did not run) is null in the JSON and left out of the line.</summary>
    private static double Number(JsonElement value) => value.ValueKind == JsonValueKind.Number ? value.GetDouble() : double.NaN;
}
