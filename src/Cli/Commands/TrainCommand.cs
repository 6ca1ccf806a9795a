using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReClip.Model.Clip;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Model.Training;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip train`: ReCLIP++ training (spec §9) on a dataset split with its hypothesis file, validation after every
/// epoch on the frozen features of the validation split (computed once: CLIP does not change), best and last
/// checkpoints in --out, --resume from a last.safetensors. Ctrl-C saves the run between two steps and exits with code 130.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        Option<string> weights = PipelineOptions.Weights(), dataset = PipelineOptions.Dataset(), root = PipelineOptions.Root();
        Option<string> split = PipelineOptions.Split("train"), device = PipelineOptions.Device();
        var hypothesis = new Option<string>("--hypothesis") { Description = "The split's hypothesis file (from `reclip hypothesize`).", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for last.safetensors, best.safetensors and history.json.", Required = true };
        var validation = new Option<string>("--val-split") { Description = "Split validated after every epoch.", DefaultValueFactory = _ => "val" };
        var validationRoot = new Option<string?>("--val-root") { Description = "Root of the validation data when it is another folder (the folder layout has no splits)." };
        var noValidation = new Option<bool>("--no-val") { Description = "No validation: best.safetensors is the last epoch's head." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the head's initial values, the data order, the augmentation and the Gumbel noise.", DefaultValueFactory = _ => 1 };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this last.safetensors (same settings)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs to run (the preset's EPOCH + 1)." };
        var maxEpoch = new Option<int?>("--max-epoch") { Description = "The poly schedule's horizon MAX_EPOCH." };
        var lr = new Option<double?>("--lr") { Description = "Base learning rate." };
        var batch = new Option<int?>("--batch-size") { Description = "Images per step." };
        var ratio = new Option<double[]?>("--ratio-range") { Description = "Random rescale range of the training images, MIN MAX (spec §1.3 step 2).", AllowMultipleArgumentsPerToken = true, Arity = new ArgumentArity(2, 2) };
        var skipNonFinite = new Option<bool>("--skip-nonfinite") { Description = "Skip a step whose loss or gradients are not finite instead of stopping." };
        var vocabulary = new VocabularyOptions();
        var command = new Command("train", "Train the ReCLIP++ head (Reference prompt, positional projection, decoder) on a dataset split.")
        {
            json, weights, dataset, root, split, hypothesis, output, validation, validationRoot, noValidation, seed, resume, epochs, maxEpoch, lr, batch, ratio, skipNonFinite, device,
        };
        vocabulary.AddTo(command);
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse, cancel)));
        return command;

        int Run(ParseResult parse, CancellationToken cancel)
        {
            PipelineOptions.ResolveDevice(parse.GetValue(device)!);
            SegmentationDataset train = PipelineOptions.OpenDataset(parse, dataset, root, split);
            DatasetPreset preset = train.Preset;
            if (parse.GetValue(epochs) is int e) preset = preset with { LastEpoch = e - 1 };
            if (parse.GetValue(maxEpoch) is int m) preset = preset with { MaxEpoch = m };
            if (parse.GetValue(lr) is double rate) preset = preset with { LearningRate = rate };
            if (parse.GetValue(batch) is int b) preset = preset with { BatchSize = b };
            if (parse.GetValue(ratio) is [double low, double high]) preset = preset with { RatioMin = low, RatioMax = high };
            var options = new TrainerOptions(preset, parse.GetRequiredValue(output), parse.GetValue(seed)) { SkipNonFinite = parse.GetValue(skipNonFinite) };
            options.Validate();
            SegmentationDataset? val = parse.GetValue(noValidation) ? null
                : SegmentationDataset.Open(preset, parse.GetValue(validationRoot) ?? train.Root, parse.GetValue(validation)!);
            if (val is not null && train.Preset.Layout == DatasetLayout.Folder && parse.GetValue(validationRoot) is null)
                throw new ArgumentException("the folder layout has no splits: give the validation images with --val-root DIR, or train without validation (--no-val)");
            int[][] hypotheses = HypothesisFile.Read(parse.GetRequiredValue(hypothesis), train.Samples.Count, train.Classes.Count);
            string weightsPath = parse.GetRequiredValue(weights);
            using ClipWeights clip = ClipWeights.Load(weightsPath);
            ClipTokenizer tokenizer = vocabulary.TokenizerFor(parse, clip, weightsPath);
            using Tensor query = QueryBankCache.GetOrBuild(weightsPath, train.Classes, clip.Config.EmbedDim,
                () => QueryBank.Build(new TextTransformer(clip), tokenizer, train.Classes), out _);
            var session = new TrainingSession(clip, tokenizer, train, val, hypotheses, options);
            TrainingState state;
            try
            {
                state = session.Run(query, parse.GetValue(resume), cancel);
            }
            catch (OperationCanceledException)
            {
                string last = Path.Combine(options.OutputDirectory, Trainer.LastCheckpoint);
                Console.Error.WriteLine(File.Exists(last)
                    ? $"reclip: interrupted; the run is saved in {last} (continue with --resume {last})"
                    : "reclip: interrupted before the first step; nothing was saved");
                return ExitCode.Interrupted;
            }
            Print(state, options, parse.GetValue(json));
            return ExitCode.Success;
        }
    }

    private static void Print(TrainingState state, TrainerOptions options, bool asJson)
    {
        EpochRecord? best = state.Best;
        var report = new TrainReport(state.History.Count, state.Step, state.History.Sum(e => e.SkippedBatches), state.History.Sum(e => e.NonFiniteSteps), best?.Epoch,
            best?.ValidationMeanIoU, state.History.Count > 0 ? state.History[^1].MeanLoss : null, state.History.Sum(e => e.Seconds),
            Path.Combine(options.OutputDirectory, Trainer.BestCheckpoint), Path.Combine(options.OutputDirectory, Trainer.LastCheckpoint));
        if (asJson)
        {
            Console.WriteLine(JsonSerializer.Serialize(report with { LastLoss = Figures.Finite(report.LastLoss) }, CliJson.Output.TrainReport));
            return;
        }
        Terminal.KeyValueTable(
        [
            ("epochs run", report.Epochs.ToString(CultureInfo.InvariantCulture)), ("steps", report.Steps.ToString(CultureInfo.InvariantCulture)),
            ("skipped batches", report.SkippedBatches.ToString(CultureInfo.InvariantCulture)),
            ("non-finite steps skipped", report.NonFiniteSteps.ToString(CultureInfo.InvariantCulture)),
            ("best epoch", report.BestEpoch is int e ? (e + 1).ToString(CultureInfo.InvariantCulture) : "n/a (no validation)"),
            ("best val mIoU", report.BestValidationMeanIoU is double m ? (100 * m).ToString("0.00", CultureInfo.InvariantCulture) : "n/a"),
            ("seconds", report.Seconds.ToString("0.0", CultureInfo.InvariantCulture)),
            ("best checkpoint", report.BestCheckpoint), ("last checkpoint", report.LastCheckpoint),
        ]);
    }
}

/// <summary>`reclip train --json`: the run's summary (epochs are 0-based).</summary>
public sealed record TrainReport(int Epochs, long Steps, int SkippedBatches, int NonFiniteSteps, int? BestEpoch,
    [property: System.Text.Json.Serialization.JsonPropertyName("best_validation_miou")] double? BestValidationMeanIoU, double? LastLoss,
    double Seconds, string BestCheckpoint, string LastCheckpoint);
