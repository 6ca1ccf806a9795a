using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using ReClip.Model.Clip;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Model.Training;
using ReClip.Runtime.Collectives;
using ReClip.Runtime.IO;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// `reclip train`: ReCLIP++ training (spec §9) on a dataset split with its hypothesis file, validation after every
/// epoch on the frozen features of the validation split (computed once: CLIP does not change), best and last
/// checkpoints in --out, --resume from a last.safetensors. Ctrl-C saves the run between two steps and exits with code 130.
/// Data parallel: one process per GPU started with --world-size N --rank R --init WHERE; each takes --batch-size images
/// of every step (the step's batch is N × that) and the ranks sum BatchNorm's statistics and the gradients over NCCL
/// (--backend nccl) or over TCP through rank 0 (--backend tcp, for processes on CPUs).
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        Option<bool> json = JsonOption.Create();
        Option<string> weights = PipelineOptions.Weights(), dataset = PipelineOptions.Dataset(), root = PipelineOptions.Root();
        Option<string> split = PipelineOptions.Split("train"), device = PipelineOptions.Device();
        Option<bool> imageBFloat16 = PipelineOptions.ImageBFloat16(), tensorFloat32 = PipelineOptions.TensorFloat32(
            "the training steps' float32 GEMMs (both towers, the head and the loss)", " Validation stays float32.");
        Option<string?> classToken = PipelineOptions.ClassToken("Kept in the checkpoints, whose heads then run with it.");
        var hypothesis = new Option<string>("--hypothesis") { Description = "The split's hypothesis file (from `reclip hypothesize`).", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for last.safetensors, best.safetensors and history.json.", Required = true };
        var validation = new Option<string>("--val-split") { Description = "Split validated after every epoch.", DefaultValueFactory = _ => "val" };
        var validationRoot = new Option<string?>("--val-root") { Description = "Root of the validation data when it is another folder (the folder layout has no splits)." };
        var noValidation = new Option<bool>("--no-val") { Description = "No validation: best.safetensors is the last epoch's head." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the head's initial values, the data order, the augmentation and the Gumbel noise.", DefaultValueFactory = _ => 1 };
        var resume = new Option<string?>("--resume") { Description = "Continue the run saved in this last.safetensors (same settings)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs to run (default: the preset's EPOCH + 1); a resumed run may be given more." };
        var maxEpoch = new Option<int?>("--max-epoch") { Description = "The poly schedule's horizon MAX_EPOCH (default: the preset's)." };
        var lr = new Option<double?>("--lr") { Description = "Base learning rate (default: the preset's)." };
        var batch = new Option<int?>("--batch-size") { Description = "Images per step, per rank in a data-parallel run (default: the preset's)." };
        var ratio = new Option<double[]?>("--ratio-range") { Description = "Random rescale range of the training images, MIN MAX (spec §1.3 step 2; default: the preset's).", AllowMultipleArgumentsPerToken = true, Arity = new ArgumentArity(2, 2) };
        var bias = new Option<string>("--bias")
        {
            Description = "The bias the head removes: both (ReCLIP++), or for the paper's ablation of each bias (spec §11) one alone, class (the positional feature averaged over the patches) or space (the Reference features averaged over the classes), or none (the decoder alone). Kept in the checkpoints.",
            DefaultValueFactory = _ => BiasForm.Both.Name(),
        };
        bias.AcceptOnlyFromAmong([.. BiasForms.Names]);
        var skipNonFinite = new Option<bool>("--skip-nonfinite") { Description = "Skip a step whose loss or gradients are not finite instead of stopping." };
        var noCudaGraphs = new Option<bool>("--no-cuda-graphs") { Description = "On a GPU, queue every kernel of every step instead of replaying each step as one CUDA graph." };
        var overlapTowers = new Option<bool>("--overlap-towers")
        {
            Description = "On a GPU, run the Reference prompt's text forward beside the image tower in each step's CUDA graph (two streams; the same values).",
        };
        // Nullable, so that the command's validator sees an option left out as absent (it does not see default values).
        var worldSize = new Option<int?>("--world-size")
        {
            Description = "Processes of a data-parallel run (default 1), one per GPU, each taking --batch-size images of every step: the step's batch is N × --batch-size. " +
                "The learning rate is not scaled: --lr (default the preset's) is that of one process with the combined batch, and the run is that process's run.",
        };
        var rank = new Option<int?>("--rank") { Description = "This process's rank in 0..N−1 (default 0); rank 0 validates and writes --out." };
        var backend = new Option<string>("--backend")
        {
            Description = "How the ranks exchange: nccl (one GPU per rank) or tcp (through rank 0 over the --init tcp:// connections; CPUs).",
            DefaultValueFactory = _ => "nccl",
        };
        backend.AcceptOnlyFromAmong("nccl", "tcp");
        var init = new Option<string?>("--init")
        {
            Description = "Where the ranks of a data-parallel run meet: tcp://HOST:PORT (rank 0 listens on PORT) or a file path every rank sees (rank 0 writes it; it must not exist).",
        };
        var vocabulary = new VocabularyOptions();
        var command = new Command("train", "Train the ReCLIP++ head (Reference prompt, positional projection, decoder) on a dataset split.")
        {
            json, weights, dataset, root, split, hypothesis, classToken, output, validation, validationRoot, noValidation, seed, resume, epochs, maxEpoch, lr, batch, ratio, bias, skipNonFinite, noCudaGraphs, overlapTowers, device,
            imageBFloat16, tensorFloat32, worldSize, rank, init, backend,
        };
        vocabulary.AddTo(command);
        command.Validators.Add(result =>
        {
            int n = result.GetValue(worldSize) ?? 1, r = result.GetValue(rank) ?? 0;
            if (n < 1)
                result.AddError($"--world-size must be at least 1, not {n}");
            else if (r < 0 || r >= n)
                result.AddError($"--rank {r} must lie in 0..{n - 1} for --world-size {n}");
            else if (n > 1 && result.GetValue(init) is null)
                result.AddError($"--world-size {n} needs --init FILE or tcp://HOST:PORT, where the ranks meet");
            else if (n == 1 && result.GetValue(init) is not null)
                result.AddError("--init is for a data-parallel run; give --world-size above 1");
            else if (n > 1 && result.GetValue(backend) == "tcp" && !result.GetValue(init)!.StartsWith("tcp://", StringComparison.OrdinalIgnoreCase))
                result.AddError("--backend tcp exchanges over the rendezvous connections: give --init tcp://HOST:PORT");
        });
        command.Validators.Add(result =>
        {
            if (result.GetValue(overlapTowers) && result.GetValue(noCudaGraphs))
                result.AddError("--overlap-towers overlaps the towers within a step's CUDA graph: it does not go with --no-cuda-graphs");
        });
        command.SetAction((parse, cancel) => Task.FromResult(Run(parse, cancel)));
        return command;

        int Run(ParseResult parse, CancellationToken cancel)
        {
            Device target = PipelineOptions.ResolveDevice(parse.GetValue(device)!);
            bool imageInBFloat16 = PipelineOptions.ImageInBFloat16(parse, imageBFloat16, target);
            bool onTensorFloat32 = PipelineOptions.TensorFloat32Requested(parse, tensorFloat32, target);
            int ranks = parse.GetValue(worldSize) ?? 1, self = parse.GetValue(rank) ?? 0;
            Rendezvous? meeting = ranks > 1 ? Rendezvous.Parse(parse.GetValue(init)!, self, ranks, Rendezvous.DefaultTimeout) : null;
            bool nccl = parse.GetValue(backend) == "nccl";
            // Before reading anything: a machine without NCCL or a GPU is told so at once, not after the data is loaded.
            if (meeting is not null && nccl)
                NcclCollective.RequireAvailable();
            SegmentationDataset train = PipelineOptions.OpenDataset(parse, dataset, root, split);
            DatasetPreset preset = train.Preset;
            if (parse.GetValue(epochs) is int e)
            {
                if (e < 1)
                    throw new ArgumentException($"--epochs {e}: a run has at least one epoch");
                preset = preset with { LastEpoch = e - 1 };
            }
            if (parse.GetValue(maxEpoch) is int m) preset = preset with { MaxEpoch = m };
            if (parse.GetValue(lr) is double rate) preset = preset with { LearningRate = rate };
            if (parse.GetValue(batch) is int b) preset = preset with { BatchSize = b };
            if (parse.GetValue(ratio) is [double low, double high]) preset = preset with { RatioMin = low, RatioMax = high };
            var options = new TrainerOptions(preset, parse.GetRequiredValue(output), parse.GetValue(seed))
            {
                SkipNonFinite = parse.GetValue(skipNonFinite), CudaGraphs = !parse.GetValue(noCudaGraphs), OverlapTowers = parse.GetValue(overlapTowers),
                TensorFloat32 = onTensorFloat32, Bias = BiasForms.Parse(parse.GetValue(bias)!)!.Value,
            };
            options.Validate();
            // Before anything is loaded; the folder itself comes with the first checkpoint, so a run that fails earlier leaves none.
            // Rank 0 alone writes it.
            if (self == 0)
                OutputPath.CheckFolder(options.OutputDirectory);
            SegmentationDataset? val = parse.GetValue(noValidation) ? null
                : SegmentationDataset.Open(preset, parse.GetValue(validationRoot) ?? train.Root, parse.GetValue(validation)!);
            if (val is not null && train.Preset.Layout == DatasetLayout.Folder && parse.GetValue(validationRoot) is null)
                throw new ArgumentException("the folder layout has no splits: give the validation images with --val-root DIR, or train without validation (--no-val)");
            if (val is not null && !val.Classes.SequenceEqual(train.Classes))
                throw new ArgumentException($"--val-root {val.Root} has the classes {string.Join(',', val.Classes)}, the training data {string.Join(',', train.Classes)}: the head validated must segment what it learns");
            int[][] hypotheses = HypothesisFile.Read(parse.GetRequiredValue(hypothesis), train.Samples.Count, train.Classes.Count, train.SampleDigest);
            string weightsPath = parse.GetRequiredValue(weights);
            using ClipWeights clip = PipelineOptions.LoadWeights(weightsPath, target, imageInBFloat16, parse.GetValue(classToken));
            ClipTokenizer tokenizer = vocabulary.TokenizerFor(parse, clip, weightsPath);
            using Tensor query = QueryBankCache.GetOrBuild(weightsPath, new TextTransformer(clip), tokenizer, train.Classes, out _);
            using ICollective? group = meeting is null ? null : nccl ? NcclCollective.Create(meeting) : TcpCollective.Create((TcpRendezvous)meeting);
            var session = new TrainingSession(clip, tokenizer, train, val, hypotheses, options, group);
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
            if (self == 0)
                Print(state, options, parse.GetValue(json));
            return ExitCode.Success;
        }
    }

    private static void Print(TrainingState state, TrainerOptions options, bool asJson)
    {
        EpochRecord? best = state.Best;
        var report = new TrainReport(state.History.Count, state.Step, state.History.Sum(e => e.SkippedBatches), state.History.Sum(e => e.NonFiniteSteps), best?.Epoch,
            best?.ValidationMeanIoU, state.History.Count > 0 ? state.History[^1].MeanLoss : null, state.History.Sum(e => e.Seconds),
            Written(Trainer.BestCheckpoint), Written(Trainer.LastCheckpoint));
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
            ("best checkpoint", report.BestCheckpoint ?? "none written"), ("last checkpoint", report.LastCheckpoint ?? "none written"),
        ]);

        // A resumed run with no epoch left writes nothing; its checkpoints stay where it was resumed from.
        string? Written(string name) => Path.Combine(options.OutputDirectory, name) is var path && File.Exists(path) ? path : null;
    }
}

/// <summary>`reclip train --json`: the run's summary (epochs are 0-based).</summary>
public sealed record TrainReport(int Epochs, long Steps, int SkippedBatches, int NonFiniteSteps, int? BestEpoch,
    [property: System.Text.Json.Serialization.JsonPropertyName("best_validation_miou")] double? BestValidationMeanIoU, double? LastLoss,
    double Seconds, string? BestCheckpoint, string? LastCheckpoint);
