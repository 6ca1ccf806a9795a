using System.CommandLine;
using System.Globalization;

namespace ReClip.Cli.Commands;

/// <summary>`--pd T` and `--no-pd`: the prompt-denoising threshold of spec §10 step 3, or the filter off.</summary>
public static class DenoisingOptions
{
    public static Option<float?> Threshold() =>
        new("--pd") { Description = "Prompt-denoising threshold in (0, 1] (default: the preset's TEST.PD)." };

    public static Option<bool> Off() => new("--no-pd") { Description = "No prompt denoising." };

    public static void Validate(Command command, Option<float?> threshold, Option<bool>? off)
    {
        // A token that is not a number already has System.CommandLine's own error; reading the value would throw.
        threshold.Validators.Add(result =>
        {
            if (result.Tokens is [{ } token] && float.TryParse(token.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out float t) && !(t > 0 && t <= 1))
                result.AddError($"--pd {token.Value}: the threshold is a probability in (0, 1]");
        });
        command.Validators.Add(result =>
        {
            if (off is not null && result.GetValue(off) && result.GetResult(threshold) is { Tokens.Count: > 0 })
                result.AddError("--pd and --no-pd contradict each other; give one");
        });
    }

    /// <summary>The threshold to use: --pd, else none with --no-pd, else <paramref name="fallback"/>.</summary>
    public static float? Resolve(ParseResult parse, Option<float?> threshold, Option<bool>? off, float? fallback) =>
        parse.GetValue(threshold) ?? (off is not null && parse.GetValue(off) ? null : fallback);
}
