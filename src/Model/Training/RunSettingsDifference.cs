using System.Text.Json;
using System.Text.Json.Nodes;

namespace ReClip.Model.Training;

/// <summary>
/// The first setting in which a checkpoint's run differs from the run that would resume it, named by its path in the
/// settings' JSON and, where one sets it, the option: "preset.learning_rate (--lr) is 0.01 in the checkpoint, 0.02 now".
/// The number of epochs is not compared: a run may be resumed to run more or fewer epochs of the same schedule
/// (the poly learning rate depends on MAX_EPOCH alone, spec §9).
/// </summary>
internal static class RunSettingsDifference
{
    private const string EpochsPath = "preset.last_epoch";
    private const int LongestValue = 80;

    private static readonly Dictionary<string, string> OptionOf = new(StringComparer.Ordinal)
    {
        ["seed"] = "--seed", ["preset.batch_size"] = "--batch-size", ["preset.learning_rate"] = "--lr", ["preset.max_epoch"] = "--max-epoch",
        ["preset.ratio_min"] = "--ratio-range", ["preset.ratio_max"] = "--ratio-range", ["image_tower"] = "--image-bf16",
        ["float32_gemms"] = "--tf32", ["class_token"] = "--class-token", ["bias"] = "--bias",
    };

    /// <summary>What a setting left out of the JSON means: RunSettings leaves these out when they hold their default.</summary>
    private static readonly Dictionary<string, string> AbsentMeans = new(StringComparer.Ordinal)
    {
        ["image_tower"] = "\"float32\"", ["float32_gemms"] = "\"float32\"", ["class_token"] = "CLIP's own", ["bias"] = "\"both\"",
    };

    /// <summary>Null when <paramref name="stored"/> and <paramref name="current"/> (RunSettings JSON) describe the same run.</summary>
    public static string? Of(string stored, string current)
    {
        if (stored == current)
            return null;
        JsonNode? before;
        try
        {
            before = JsonNode.Parse(stored);
        }
        catch (JsonException)
        {
            return "its settings are unreadable";
        }
        if (First(before, JsonNode.Parse(current), "") is not var (path, was, now))
            return null;
        string option = OptionOf.TryGetValue(path, out string? name) ? $" ({name})" : "";
        return $"{path}{option} is {was ?? Absent(path)} in the checkpoint, {now ?? Absent(path)} now";
    }

    private static string Absent(string path) => AbsentMeans.GetValueOrDefault(path, "none");

    private static (string Path, string? Stored, string? Current)? First(JsonNode? stored, JsonNode? current, string path)
    {
        if (path == EpochsPath)
            return null;
        if (stored is JsonObject before && current is JsonObject now)
        {
            foreach (string key in before.Select(p => p.Key).Union(now.Select(p => p.Key)))
                if (First(before[key], now[key], path.Length == 0 ? key : path + "." + key) is { } found)
                    return found;
            return null;
        }
        return JsonNode.DeepEquals(stored, current) ? null : (path, Text(stored), Text(current));
    }

    /// <summary>A value as JSON, null when absent, long ones (a class list) cut short.</summary>
    private static string? Text(JsonNode? value)
    {
        string? json = value?.ToJsonString();
        return json is null || json.Length <= LongestValue ? json : json[..LongestValue] + "…";
    }
}
