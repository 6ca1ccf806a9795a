using System.Diagnostics;
using ReClip.Kernels.Ops;
using ReClip.Kernels.Random;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Runtime.Collectives;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Training;

/// <summary>
/// ReCLIP++ training (spec §9): epochs 0..EPOCH over the training split with the poly learning rate of each epoch,
/// one SGD step per batch of augmented crops (§1.3) through the frozen CLIP and the head, a batch skipped when its
/// first image's hypothesis is empty (the authors' rule), then after every epoch an optional validation, the
/// checkpoint for resuming (last.safetensors) and the best one by validation mIoU (best.safetensors), all written
/// atomically. Everything random is keyed by the seed and a position (epoch, sample, step), never by a running
/// generator, so a run resumed from last.safetensors continues bit for bit as if it had not stopped.
/// Differences from the authors' loop (docs/DECISIONS.md): the data order is reshuffled every epoch (their sampler
/// repeats one permutation because set_epoch is never called), and there is a seed at all.
/// Data parallel (<see cref="Group"/> set): every rank runs this loop with the same settings; a step's batch is
/// WorldSize × the preset's batch size images of the one data order, rank r takes the r-th contiguous run of them,
/// and the ranks exchange BatchNorm's statistics and the gradients (<see cref="BatchShare"/>), so that each takes
/// the step one process would take with the whole batch. Only rank 0 validates and writes files.
/// </summary>
/// <param name="slotIds">The Reference prompt's slot ids of the training classes (<see cref="ReferencePrompt.SlotIds(ClipTokenizer, IReadOnlyList{string})"/>).</param>
public sealed class Trainer(ClipWeights weights, int[] slotIds, SegmentationDataset train, IReadOnlyList<int[]> hypotheses, TrainerOptions options)
{
    public const string LastCheckpoint = "last.safetensors", BestCheckpoint = "best.safetensors", HistoryFile = "history.json";
    private const ulong OrderStream = 0x0DE5_0001, AugmentationStream = 0xA065_0001;

    /// <summary>Called after every step (also a skipped one) with the running position and the loss.</summary>
    public Action<StepProgress>? StepDone { get; init; }

    /// <summary>Called after every epoch with its record, once the checkpoints are written.</summary>
    public Action<EpochRecord>? EpochDone { get; init; }

    /// <summary>Called once with what a user should know about how the run computes: on a GPU, why its steps do not replay as CUDA graphs.</summary>
    public Action<string>? Notice { get; init; }

    /// <summary>The ranks of a data-parallel run, or null for a single process.</summary>
    public ICollective? Group { get; init; }

    private bool Writes => Group is null || Group.Rank == 0;

    /// <summary>The images of one step over all ranks.</summary>
    private int GlobalBatch => options.Preset.BatchSize * (Group?.WorldSize ?? 1);

    /// <summary>
    /// Trains from scratch, or from <paramref name="resume"/> (a last.safetensors of the same run settings), up to
    /// the last epoch. <paramref name="query"/> is T [C, E] of the dataset's classes. <paramref name="validate"/>
    /// gives the validation mIoU of the head as it stands (null: no validation, best = last). Cancellation is
    /// honoured between steps: last.safetensors then holds the head and the epoch's progress, and a resume continues
    /// at the next step as if nothing had happened.
    /// </summary>
    public TrainingState Run(Tensor query, Func<ReClipHead, double>? validate, string? resume, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        options.Validate();
        if (hypotheses.Count != train.Samples.Count)
            throw new ArgumentException($"{hypotheses.Count} hypotheses for {train.Samples.Count} training images: the hypothesis file belongs to another split or dataset");
        var text = new TextTransformer(weights);
        // The ReCLIP++ setting overrides the visual blocks' LayerNorm eps to 1e-6 (spec §4.2), as evaluation does.
        var vision = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps);
        // A data-parallel run is recorded with its whole batch: it is the run one process with that batch makes.
        var metadata = new TrainingMetadata(options with { Preset = options.Preset with { BatchSize = GlobalBatch } }, train.Classes,
            weights.VisionLinearsInBFloat16, weights.ReplacedClassEmbedding);
        TrainingState state = TrainingState.Start;
        ReClipHead head;
        if (resume is null)
            head = new ReClipHead(text, query, slotIds, weights.Config.VisionWidth, options.Seed) { BiasForm = options.Bias };
        else
        {
            using HeadCheckpoint checkpoint = HeadCheckpoint.Open(resume);
            state = metadata.ReadState(checkpoint);
            int stepsPerEpoch = (train.Samples.Count + GlobalBatch - 1) / GlobalBatch;
            if (state.Partial is { StepsDone: int done } && done > stepsPerEpoch)
                throw new InvalidDataException($"{resume}: its interrupted epoch ran {done} steps, more than the {stepsPerEpoch} of an epoch of this data");
            head = checkpoint.CreateHead(text, query, slotIds);
            try
            {
                RequireConsistent(head, state, resume);
            }
            catch
            {
                head.Dispose();
                throw;
            }
            if (state.NextEpoch >= options.Epochs)
                Notice?.Invoke($"the run of {resume} has run {state.NextEpoch} epochs of the {options.Epochs} asked for: nothing to train");
        }
        // A single process trains the head where the towers run, so a step's tensors stay on that device; ranks exchange
        // their statistics and gradients in host memory, so a data-parallel run keeps its heads on the CPU.
        if (Group is null && !vision.Device.IsCpu)
            head = head.MoveTo(vision.Device);
        using (head)
        using (StepGraph? graph = options.CudaGraphs && !head.Device.IsCpu ? new StepGraph(head, vision, options.Seed) { OverlapTowers = options.OverlapTowers } : null)
        {
            if (Group is not null)
                Synchronize(head, state, metadata, Group);
            for (int epoch = state.NextEpoch; epoch < options.Epochs; epoch++)
            {
                EpochProgress done = RunEpoch(head, vision, graph, epoch, ref state, metadata, resume, cancel);
                var clock = Stopwatch.StartNew();
                double? miou = Writes ? validate?.Invoke(head) : null;
                var record = new EpochRecord(epoch, options.LearningRate(epoch), done.Steps > 0 ? done.LossSum / done.Steps : null,
                    done.Steps, done.SkippedBatches, done.NonFiniteSteps, miou, done.Seconds + clock.Elapsed.TotalSeconds);
                EpochRecord? best = state.Best;
                state = state with { NextEpoch = epoch + 1, History = [.. state.History, record], Partial = null };
                if (Writes)
                {
                    metadata.Save(Path.Combine(options.OutputDirectory, LastCheckpoint), head, state, weights.Config);
                    if (validate is null || best is null || miou > best.ValidationMeanIoU)
                        metadata.Save(Path.Combine(options.OutputDirectory, BestCheckpoint), head, state, weights.Config);
                    metadata.WriteHistory(Path.Combine(options.OutputDirectory, HistoryFile), state);
                }
                EpochDone?.Invoke(record);
            }
        }
        return state;
    }

    /// <summary>
    /// The steps of <paramref name="epoch"/> from where <paramref name="state"/> left it. On cancellation the epoch's
    /// progress is saved in last.safetensors before the exception leaves, so a resume continues at the next step.
    /// </summary>
    private EpochProgress RunEpoch(ReClipHead head, VisionTransformer vision, StepGraph? graph, int epoch, ref TrainingState state, TrainingMetadata metadata,
        string? resumedFrom, CancellationToken cancel)
    {
        int[] order = Order(epoch);
        int batchSize = GlobalBatch;
        int steps = (order.Length + batchSize - 1) / batchSize;
        float lr = (float)options.LearningRate(epoch);
        EpochProgress progress = state.Partial ?? EpochProgress.Empty;
        var clock = Stopwatch.StartNew();
        double seconds = progress.Seconds;
        int crop = options.Preset.CropSize, first = progress.StepsDone;
        string lastPath = Path.Combine(options.OutputDirectory, LastCheckpoint);
        // A run resumed into a new folder has written nothing there yet: the file it resumed from is its last good state.
        string? lastGood = File.Exists(lastPath) ? lastPath : resumedFrom;
        // Each step's images (none for a skipped batch), read ahead of the steps that take them.
        using var batches = new ReadAhead<Tensor?>(steps - first,
            i => OwnSamples(order, first + i) is { Length: > 0 } own
                ? AugmentedBatches.Make(own, [3, crop, crop], (sample, image) => Augment(sample, epoch).Image.AsSpan().CopyTo(image))
                : null,
            ReadAhead.DefaultDepth, release: images => images?.Dispose());
        for (int s = first; s < steps; s++)
        {
            if (Cancelled(cancel))
            {
                state = state with { Partial = progress with { Seconds = seconds + clock.Elapsed.TotalSeconds } };
                if (Writes)
                    metadata.Save(lastPath, head, state, weights.Config);
                throw new OperationCanceledException(cancel);
            }
            ReadOnlySpan<int> batch = order.AsSpan(s * batchSize, Math.Min(batchSize, order.Length - s * batchSize));
            long step = state.Step;
            state = state with { Step = step + 1 };
            int[][] classes = [.. batch.ToArray().Select(i => hypotheses[i])];
            using Tensor? images = batches.Next();
            if (classes[0].Length == 0)
            {
                progress = progress with { StepsDone = s + 1, SkippedBatches = progress.SkippedBatches + 1 };
                StepDone?.Invoke(new StepProgress(epoch, s + 1, steps, float.NaN, "no hypothesis for its first image"));
                continue;
            }
            using StepResult result = Step(head, vision, graph, images, batch.Length, classes, step);
            if (NonFinite(result, head) is string what)
            {
                if (!options.SkipNonFinite)
                    throw new InvalidOperationException($"{what} is not finite at epoch {epoch + 1}, step {s + 1}; the head was not updated, and " +
                        (lastGood is not null
                            ? $"the last good checkpoint is {lastGood} (resume from it, with --skip-nonfinite to step over such steps)"
                            : "no checkpoint was written yet (run again with --skip-nonfinite to step over such steps, or a smaller --lr)"));
                progress = progress with { StepsDone = s + 1, NonFiniteSteps = progress.NonFiniteSteps + 1 };
                StepDone?.Invoke(new StepProgress(epoch, s + 1, steps, result.Loss, what + " is not finite"));
                continue;
            }
            head.Update(result, lr);
            progress = progress with { StepsDone = s + 1, LossSum = progress.LossSum + result.Loss, Steps = progress.Steps + 1 };
            StepDone?.Invoke(new StepProgress(epoch, s + 1, steps, result.Loss, null));
        }
        return progress with { Seconds = seconds + clock.Elapsed.TotalSeconds };
    }

    /// <summary>
    /// The samples whose augmented images this process needs at step <paramref name="s"/> of the epoch's
    /// <paramref name="order"/>: the batch, or this rank's contiguous run of it; none for a batch that is skipped.
    /// </summary>
    private int[] OwnSamples(int[] order, int s)
    {
        int batchSize = GlobalBatch, start = s * batchSize, length = Math.Min(batchSize, order.Length - start);
        if (hypotheses[order[start]].Length == 0)
            return [];
        if (Group is null)
            return order[start..(start + length)];
        (int first, int count) = RankRun(length, Group);
        return order[(start + first)..(start + first + count)];
    }

    /// <summary>Where this rank's run of a step's <paramref name="batchLength"/> images begins, and how many it takes (none in a short last batch).</summary>
    private (int First, int Count) RankRun(int batchLength, ICollective group)
    {
        int perRank = options.Preset.BatchSize, first = Math.Min(group.Rank * perRank, batchLength);
        return (first, Math.Min(perRank, batchLength - first));
    }

    /// <summary>One step's loss and gradients, the float32 GEMMs on TF32 tensor cores when the options ask (<see cref="TrainerOptions.TensorFloat32"/>).</summary>
    private StepResult Step(ReClipHead head, VisionTransformer vision, StepGraph? graph, Tensor? images, int batchLength, int[][] classes, long step)
    {
        using Float32Gemms.Scope gemms = Float32Gemms.TensorFloat32(options.TensorFloat32);
        return Group is null
            ? Forward(head, vision, graph, images!, classes, step)
            : RankForward(head, vision, images, batchLength, classes, step, Group);
    }

    /// <summary>
    /// Encodes the augmented <paramref name="images"/> (host memory) and runs the head's forward and backward (one rank's
    /// part with <paramref name="share"/>), or the same as a replayed CUDA graph with <paramref name="graph"/>.
    /// </summary>
    private StepResult Forward(ReClipHead head, VisionTransformer vision, StepGraph? graph, Tensor images, int[][] classes, long step,
        BatchShare? share = null)
    {
        if (graph is not null)
        {
            bool noticed = graph.Failure is not null;
            StepResult result = graph.Run(images, classes, (ulong)step);
            if (!noticed && graph.Failure is string why)
                Notice?.Invoke($"a batch shape could not replay as a CUDA graph, so its steps queue their kernels one by one (and so do later shapes'): {why}");
            return result;
        }
        // The images go to the head's device, so that the dense features come back there.
        using Tensor input = DeviceTransfer.Onto(images, head.Device);
        using DenseFeatures dense = vision.EncodeDense(input);
        return head.LossAndGradients(dense.Features, dense.PositionalGrid, dense.Rows, dense.Columns, classes, null, options.Seed, (ulong)step, share);
    }

    /// <summary>
    /// This rank's part of a data-parallel step of <paramref name="batchLength"/> images: its <paramref name="images"/>
    /// (null in a short last batch that leaves it none), then the sum of every rank's loss and gradients.
    /// </summary>
    private StepResult RankForward(ReClipHead head, VisionTransformer vision, Tensor? images, int batchLength, int[][] classes, long step, ICollective group)
    {
        (int first, int count) = RankRun(batchLength, group);
        var share = new BatchShare(group, batchLength, first);
        int grid = options.Preset.CropSize / weights.Config.PatchSize;
        StepResult result = images is not null
            ? Forward(head, vision, null, images, classes[first..(first + count)], step, share)
            : head.IdleStep(grid, grid, share);
        try
        {
            head.SumOverRanks(result, group);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Whether to stop before the next step: with ranks, when any rank was asked to, so that all stop at the same step.</summary>
    private bool Cancelled(CancellationToken cancel)
    {
        if (Group is null)
            return cancel.IsCancellationRequested;
        Span<float> flag = [cancel.IsCancellationRequested ? 1 : 0];
        Group.AllReduceSum(flag);
        return flag[0] > 0;
    }

    /// <summary>
    /// Before the first step of a data-parallel run: every rank must run with the same settings from the same point of
    /// the run (else every rank stops), and takes rank 0's trainable tensors, BatchNorm statistics and momentum, as
    /// PyTorch's DistributedDataParallel does at construction.
    /// </summary>
    private void Synchronize(ReClipHead head, TrainingState state, TrainingMetadata metadata, ICollective group)
    {
        // The settings and the data (the split's sample ids, each image's hypothesis) as three 16-bit pieces of their
        // SHA-256 (floats hold them exactly), then the position.
        var identity = new System.Text.StringBuilder(metadata.Settings);
        for (int i = 0; i < train.Samples.Count; i++)
            identity.Append('\n').Append(train.Samples[i].Id).Append(':').AppendJoin(',', hypotheses[i]);
        byte[] digest = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(identity.ToString()));
        Span<float> own = [BitConverter.ToUInt16(digest, 0), BitConverter.ToUInt16(digest, 2), BitConverter.ToUInt16(digest, 4),
            state.NextEpoch, state.Step, state.Partial?.StepsDone ?? 0];
        Span<float> root = [.. own];
        group.Broadcast(root, 0);
        bool sameSettings = root[..3].SequenceEqual(own[..3]), samePosition = root[3..].SequenceEqual(own[3..]);
        Span<float> differs = [sameSettings ? 0 : 1, samePosition ? 0 : 1];
        group.AllReduceSum(differs);
        if (differs[0] > 0)
            throw new ArgumentException("the ranks were started with other settings or data (dataset preset, --batch-size, seed, classes, augmentation, --class-token, " +
                "the split's images or the hypothesis file); give every rank the same ones");
        if (differs[1] > 0)
            throw new ArgumentException($"the ranks resume from different points of the run (rank 0: epoch {root[3] + 1}, step {root[4]}; " +
                $"rank {group.Rank}: epoch {own[3] + 1}, step {own[4]}): give every rank the same --resume checkpoint");
        foreach ((string _, Tensor value) in head.Parameters)
            group.Broadcast(value.AsSpan<float>(), 0);
        group.Broadcast(head.Decoder.RunningMean.AsSpan<float>(), 0);
        group.Broadcast(head.Decoder.RunningVar.AsSpan<float>(), 0);
        foreach (SgdState momentum in head.OptimizerStates)
            if (momentum.Buffer is Tensor buffer)
                group.Broadcast(buffer.AsSpan<float>(), 0);
    }

    /// <summary>
    /// SGD's momentum must come back with the head it moved (PyTorch's first step starts it from the gradient): a checkpoint of
    /// a run that has updated the head holds every parameter's, one of a run that has not holds none.
    /// </summary>
    /// <summary>
    /// The restored head against the run it resumes (whose settings were compared already): the bias it subtracts must be
    /// the settings' (the two are stored apart, so an edited file can disagree), and its momentum must be there exactly
    /// when the run has updated it.
    /// </summary>
    private void RequireConsistent(ReClipHead head, TrainingState state, string resume)
    {
        if (head.BiasForm != options.Bias)
            throw new InvalidDataException(
                $"{resume}: its head subtracts {head.BiasForm.Description()} but its run's settings say {options.Bias.Description()}: the checkpoint contradicts itself");
        bool updated = state.History.Sum(r => (long)r.Steps) + (state.Partial?.Steps ?? 0) > 0;
        int wrong = head.OptimizerStates.ToList().FindIndex(s => s.HasStepped != updated);
        if (wrong >= 0)
            throw new InvalidDataException(updated
                ? $"{resume}: lacks the momentum of {head.Parameters[wrong].Name}, which the run's updates have built"
                : $"{resume}: holds momentum for {head.Parameters[wrong].Name}, but the run has not updated the head");
    }

    /// <summary>What of the step is not finite (the loss, or a gradient by name), or null when all is.</summary>
    private static string? NonFinite(StepResult result, ReClipHead head)
    {
        if (!float.IsFinite(result.Loss))
            return $"the training loss ({result.Loss})";
        // A step reads its gradients' flags with its loss; a data-parallel step's summed gradients are checked here, on the host.
        int first = (result.NonFiniteGradients ?? FiniteCheck.NonFinite(result.Gradients)).ToList().IndexOf(true);
        return first < 0 ? null : $"the gradient of {head.Parameters[first].Name}";
    }

    /// <summary>A permutation of the training samples for <paramref name="epoch"/>, from the seed alone.</summary>
    private int[] Order(int epoch)
    {
        int[] order = [.. Enumerable.Range(0, train.Samples.Count)];
        new Random((int)Philox.Bits(options.Seed, OrderStream, (ulong)epoch)).Shuffle(order);
        return order;
    }

    /// <summary>
    /// Sample <paramref name="index"/> augmented with its own generator keyed by (seed, epoch, index). The crop's
    /// category-ratio rule reads the labels as the authors' pipeline does (spec §1.3); a folder without labels
    /// gives an all-ignore map, for which the rule accepts no crop and the last drawn box is used.
    /// </summary>
    private TrainingSample Augment(int index, int epoch)
    {
        DatasetSample sample = train.Samples[index];
        RgbImage image;
        LabelMap labels;
        if (sample.LabelPath is null)
        {
            image = train.ReadImage(sample);
            labels = new LabelMap(image.Width, image.Height);
            Array.Fill(labels.Labels, LabelMap.Ignore);
        }
        else
            (image, labels) = train.Read(sample);
        int seed = (int)Philox.Bits(options.Seed, AugmentationStream, ((ulong)epoch << 32) | (uint)index);
        return new TrainingAugmentation(options.Preset, seed, options.PhotometricDistortion).Apply(image, labels);
    }
}
