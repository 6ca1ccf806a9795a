using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ReClip.Model.Clip;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Runtime.IO;

namespace ReClip.Model.Training;

/// <summary>
/// The trainer's part of a checkpoint's metadata: the run's settings (preset values, seed, classes, and the image tower's
/// bfloat16, the steps' TF32, the image tower's replaced class token when it ran so, and an ablation's bias), so that a resume with other settings is refused instead of silently mixing two runs, and
/// its state (next epoch, global step, per-epoch history). The history also goes to history.json for plotting.
/// </summary>
/// <param name="classToken">The class token in place of CLIP's, stored with the head (<see cref="HeadCheckpoint.ClassToken"/>), or null.</param>
internal sealed class TrainingMetadata(TrainerOptions options, IReadOnlyList<string> classes, bool imageInBFloat16 = false, float[]? classToken = null)
{
    private const string SettingsKey = "trainer.settings", NextEpochKey = "trainer.next_epoch", StepKey = "trainer.step", HistoryKey = "trainer.history",
        PartialKey = "trainer.partial_epoch";

    /// <summary>The run's settings as stored in a checkpoint (JSON).</summary>
    internal string Settings { get; } = JsonSerializer.Serialize(
        new RunSettings(options.Preset, options.Seed, options.PhotometricDistortion, [.. classes], imageInBFloat16 ? "bfloat16" : null,
            options.TensorFloat32 ? "tf32" : null, classToken is null ? null : ClassTokenFile.Digest(classToken),
            options.Bias == BiasForm.Both ? null : options.Bias.Name()),
        TrainingJson.Default.RunSettings);

    public void Save(string path, ReClipHead head, TrainingState state, ClipConfig config)
    {
        var metadata = new Dictionary<string, string>
        {
            [SettingsKey] = Settings,
            [NextEpochKey] = state.NextEpoch.ToString(CultureInfo.InvariantCulture),
            [StepKey] = state.Step.ToString(CultureInfo.InvariantCulture),
            [HistoryKey] = JsonSerializer.Serialize([.. state.History], TrainingJson.Default.EpochRecordArray),
        };
        if (state.Partial is EpochProgress partial)
            metadata[PartialKey] = JsonSerializer.Serialize(partial, TrainingJson.Default.EpochProgress);
        HeadCheckpoint.Save(path, head, classes, config, metadata, classToken);
    }

    public void WriteHistory(string path, TrainingState state) =>
        AtomicFile.WriteAllText(path, JsonSerializer.Serialize([.. state.History], TrainingJson.Default.EpochRecordArray) + "\n");

    /// <summary>
    /// The state stored in <paramref name="checkpoint"/>, after checking that it was written by a run with these settings
    /// (the number of epochs aside: a run may be resumed to run more or fewer of them, the schedule being MAX_EPOCH's) and
    /// that its counts agree with one another, so that a tampered or damaged state is refused rather than resumed.
    /// </summary>
    public TrainingState ReadState(HeadCheckpoint checkpoint)
    {
        string Get(string key) => checkpoint.Metadata.TryGetValue(key, out string? value)
            ? value : throw new InvalidDataException($"{checkpoint.Path}: not a training checkpoint (metadata lacks '{key}'); resume from a {Trainer.LastCheckpoint}");
        if (RunSettingsDifference.Of(Get(SettingsKey), Settings) is string difference)
            throw new ArgumentException($"{checkpoint.Path}: was written by a run with other settings: {difference}; resume with the same ones");
        TrainingState state;
        try
        {
            int next = int.Parse(Get(NextEpochKey), NumberStyles.None, CultureInfo.InvariantCulture);
            long step = long.Parse(Get(StepKey), NumberStyles.None, CultureInfo.InvariantCulture);
            EpochRecord[] history = JsonSerializer.Deserialize(Get(HistoryKey), TrainingJson.Default.EpochRecordArray) ?? [];
            EpochProgress? partial = checkpoint.Metadata.TryGetValue(PartialKey, out string? text)
                ? JsonSerializer.Deserialize(text, TrainingJson.Default.EpochProgress) : null;
            state = new TrainingState(next, step, history, partial);
        }
        catch (Exception e) when (e is FormatException or OverflowException or JsonException)
        {
            throw new InvalidDataException($"{checkpoint.Path}: unreadable training state ({e.Message})");
        }
        if (Inconsistency(state) is string problem)
            throw new InvalidDataException($"{checkpoint.Path}: {problem}");
        return state;
    }

    /// <summary>What does not add up in a stored state: every step of the run is one epoch's (or the interrupted epoch's) update, skipped batch or non-finite step.</summary>
    private static string? Inconsistency(TrainingState state)
    {
        if (state.History.Count != state.NextEpoch)
            return $"{state.History.Count} epochs of history for next epoch {state.NextEpoch}";
        for (int i = 0; i < state.History.Count; i++)
            if (state.History[i].Epoch != i)
                return $"the history lists epoch {state.History[i].Epoch + 1} in place {i + 1}";
        if (state.History.FirstOrDefault(r => r.Steps < 0 || r.SkippedBatches < 0 || r.NonFiniteSteps < 0) is EpochRecord negative)
            return $"a negative step count in epoch {negative.Epoch + 1}";
        if (state.Partial is EpochProgress p && (p.Steps < 0 || p.SkippedBatches < 0 || p.NonFiniteSteps < 0 || p.Steps + p.SkippedBatches + p.NonFiniteSteps != p.StepsDone
            || !double.IsFinite(p.LossSum) || !(p.Seconds >= 0)))
            return $"the interrupted epoch's counts do not add up ({p.StepsDone} steps done: {p.Steps} updates, {p.SkippedBatches} skipped, {p.NonFiniteSteps} non-finite)";
        long steps = state.History.Sum(r => (long)r.Steps + r.SkippedBatches + r.NonFiniteSteps) + (state.Partial?.StepsDone ?? 0);
        return steps == state.Step ? null : $"global step {state.Step}, but its epochs account for {steps} steps";
    }
}

/// <param name="ImageTower">"bfloat16" for a run whose image tower computed in bfloat16; absent for float32, so the
/// settings of float32 runs read as they always have and their checkpoints still resume.</param>
/// <param name="Float32Gemms">"tf32" for a run whose steps' float32 GEMMs ran on TF32 tensor cores; absent otherwise, likewise.</param>
/// <param name="ClassToken">The digest of the class token the image tower ran with in place of CLIP's (<see cref="ClassTokenFile.Digest"/>); absent otherwise, likewise.</param>
/// <param name="Bias">"class", "space" or "none" for an ablation's head, which subtracts one bias alone or none (<see cref="BiasForm"/>); absent for both, likewise.</param>
internal sealed record RunSettings(DatasetPreset Preset, ulong Seed, bool PhotometricDistortion, string[] Classes,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ImageTower,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Float32Gemms,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? ClassToken,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Bias);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(RunSettings))]
[JsonSerializable(typeof(EpochRecord[]))]
[JsonSerializable(typeof(EpochProgress))]
internal sealed partial class TrainingJson : JsonSerializerContext;
