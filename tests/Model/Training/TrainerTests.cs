using ReClip.Model.Clip;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Data.Synthetic;
using ReClip.Model.ReClip;
using ReClip.Model.Training;
using ReClip.Runtime.Collectives;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Model.Training;

/// <summary>
/// The training loop on a tiny synthetic folder and the fixture CLIP (patch 8, 24-pixel crops, a 3×3 grid):
/// epochs and checkpoints, best-by-validation, bit-identical reruns and resumes, refused resumes, the skip rule,
/// data-parallel ranks in threads against one process with their combined batch.
/// </summary>
[TestFixture]
public sealed class TrainerTests
{
    private const int Images = 5, Crop = 24;

    /// <summary>
    /// Data-parallel ranks against one process, relative to each tensor's largest element: only the order of sums
    /// differs (BatchNorm statistics and gradients as per-rank partial sums), as in DataParallelStepTests, over 4 SGD
    /// steps here. Measured with seed 9: 7.6e-7 (2 ranks × 2 images) and 2.1e-6 (3 × 1), decoder_conv2.bias's momentum
    /// aside (see <see cref="RoundingNoiseBound"/>); the bound is that of DataParallelStepTests. A near tie in the hard
    /// Gumbel-softmax's argmax can carry a sum-order difference past any such bound: seed 8 ended 1.7e-4 apart in one
    /// momentum buffer at 3 × 1 on these scenes, where seeds 9–11 stayed within 7.2e-6. The seed is fixed so that the
    /// test measures the order of sums, not a tie.
    /// </summary>
    private const double DataParallelTolerance = 1e-4;

    /// <summary>
    /// decoder_conv2.bias has a zero gradient up to rounding (BatchNorm removes channel constants, ReClipHeadTests), so
    /// its momentum buffer is f32 rounding noise of a cancelling sum (~4e-5 here), which no relative bound fits: two
    /// orders of summation have differed by up to 3.4e-6 in it, and the bound is a quarter of the noise's own size.
    /// </summary>
    private const double RoundingNoiseBound = 1e-5;

    /// <summary>
    /// A GPU run against the CPU's, relative to each tensor's largest element. Unlike ranks, which share the towers'
    /// features bit for bit, the GPU's features already differ by up to 6e-7 (cuBLAS against our GEMMs), and every sum of
    /// the head comes in another order; after 4 SGD steps BatchNorm's second layer, which divides by a batch deviation,
    /// carries that furthest. Measured on an H200 (2026-11-27): 1.5e-4 for decoder_norm2's momentum buffers, under 1e-4
    /// for every other tensor. A defect in a GPU path (a wrong gradient, a stale buffer in a replayed graph) moves a
    /// tensor by far more than 1e-3 of its size.
    /// </summary>
    private const double GpuTolerance = 1e-3;

    private string root = null!;
    private ClipWeights weights = null!;
    private SegmentationDataset train = null!;
    private Tensor query = null!;

    [OneTimeSetUp]
    public void Open()
    {
        root = Path.Combine(Path.GetTempPath(), $"reclip-trainer-{Guid.NewGuid():N}");
        SyntheticDataset.Write(Path.Combine(root, "data"), Images, seed: 3, size: 64);
        DatasetPreset preset = DatasetPreset.Folder with { TrainScaleShort = Crop, CropSize = Crop, BatchSize = 2, MaxEpoch = 4, LastEpoch = 1 };
        train = SegmentationDataset.Open(preset, Path.Combine(root, "data"), "train");
        weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        // Any unit rows serve as the Query bank here: the loop is under test, not the bank.
        int classes = train.Classes.Count, embed = weights.Config.EmbedDim;
        var values = new float[classes * embed];
        var random = new Random(11);
        for (int c = 0; c < classes; c++)
        {
            Span<float> row = values.AsSpan(c * embed, embed);
            for (int e = 0; e < embed; e++) row[e] = (float)(random.NextDouble() - 0.5);
            float norm = MathF.Sqrt(System.Numerics.Tensors.TensorPrimitives.SumOfSquares(row));
            for (int e = 0; e < embed; e++) row[e] /= norm;
        }
        query = Tensor.FromSpan<float>(values, [classes, embed]);
    }

    [OneTimeTearDown]
    public void Close()
    {
        query.Dispose();
        weights.Dispose();
        Directory.Delete(root, recursive: true);
    }

    private static int[][] Hypotheses(bool firstEmpty = false) =>
        [.. Enumerable.Range(0, Images).Select(i => firstEmpty ? [] : new[] { i % 3, 4 + i % 2 })];

    /// <summary>Slot ids inside the fixture's 300-token vocabulary, [t, EOT, 0] per class as for a one-token name.</summary>
    private int[] SlotIds() =>
        ReferencePrompt.SlotIds([.. Enumerable.Range(0, train.Classes.Count).Select(c => new[] { 10 + c })], weights.Config.EndToken);

    private Trainer NewTrainer(string output, ulong seed = 1, int[][]? hypotheses = null, Action<EpochRecord>? epochDone = null,
        Action<StepProgress>? stepDone = null, bool skipNonFinite = false, int? batchSize = null, ICollective? group = null, ClipWeights? clip = null,
        bool cudaGraphs = true, bool overlapTowers = false, int? epochs = null, BiasForm bias = BiasForm.Both) =>
        new(clip ?? weights, SlotIds(), train, hypotheses ?? Hypotheses(),
            new TrainerOptions(train.Preset with { BatchSize = batchSize ?? train.Preset.BatchSize, LastEpoch = (epochs ?? train.Preset.LastEpoch + 1) - 1 },
                Path.Combine(root, output), seed)
            {
                SkipNonFinite = skipNonFinite, CudaGraphs = cudaGraphs, OverlapTowers = overlapTowers, Bias = bias,
            })
        {
            EpochDone = epochDone,
            StepDone = stepDone,
            Group = group,
        };

    [Test]
    public void RunsEveryEpochAndWritesCheckpointsAndHistory()
    {
        var epochs = new List<EpochRecord>();
        TrainingState state = NewTrainer("run", epochDone: epochs.Add).Run(query, null, null);
        Assert.That(state.NextEpoch, Is.EqualTo(2));
        Assert.That(state.Step, Is.EqualTo(6), "ceil(5 / 2) = 3 batches per epoch");
        Assert.That(epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(epochs.All(e => e.MeanLoss is double loss && double.IsFinite(loss) && e.Steps == 3 && e.SkippedBatches == 0), Is.True);
        Assert.That(epochs[1].LearningRate, Is.EqualTo(0.01 * Math.Pow(0.75, 0.9)).Within(1e-12), "poly: LR·(1 − 1/4)^0.9");
        foreach (string file in new[] { Trainer.LastCheckpoint, Trainer.BestCheckpoint, Trainer.HistoryFile })
            Assert.That(File.Exists(Path.Combine(root, "run", file)), file);
        using HeadCheckpoint last = HeadCheckpoint.Open(Path.Combine(root, "run", Trainer.LastCheckpoint));
        Assert.That(last.Classes, Is.EqualTo(train.Classes));
        Assert.That(last.Metadata["trainer.next_epoch"], Is.EqualTo("2"));
    }

    [Test]
    public void SameSeedGivesTheSameBitsAndAnotherSeedDoesNot()
    {
        NewTrainer("a", seed: 5).Run(query, null, null);
        NewTrainer("b", seed: 5).Run(query, null, null);
        NewTrainer("c", seed: 6).Run(query, null, null);
        byte[] a = CheckpointTensors.Bytes(Path.Combine(root, "a", Trainer.LastCheckpoint));
        Assert.That(CheckpointTensors.Bytes(Path.Combine(root, "b", Trainer.LastCheckpoint)), Is.EqualTo(a));
        Assert.That(CheckpointTensors.Bytes(Path.Combine(root, "c", Trainer.LastCheckpoint)), Is.Not.EqualTo(a));
    }

    /// <summary>A run stopped after epoch 0 and resumed from last.safetensors ends with the same bits as one that never stopped.</summary>
    [Test]
    public void ResumeContinuesBitForBit()
    {
        NewTrainer("whole", seed: 9).Run(query, null, null);
        using var stop = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => NewTrainer("parts", seed: 9, epochDone: _ => stop.Cancel()).Run(query, null, null, stop.Token));
        string last = Path.Combine(root, "parts", Trainer.LastCheckpoint);
        using (HeadCheckpoint stopped = HeadCheckpoint.Open(last))
            Assert.That(stopped.Metadata["trainer.next_epoch"], Is.EqualTo("1"));
        TrainingState resumed = NewTrainer("parts", seed: 9).Run(query, null, last);
        Assert.That(resumed.History, Has.Count.EqualTo(2));
        Assert.That(CheckpointTensors.Bytes(last), Is.EqualTo(CheckpointTensors.Bytes(Path.Combine(root, "whole", Trainer.LastCheckpoint))));
    }

    /// <summary>Interrupted in the middle of an epoch: last.safetensors holds the epoch's progress and the resume ends with the same bits.</summary>
    [Test]
    public void ResumeFromTheMiddleOfAnEpochContinuesBitForBit()
    {
        NewTrainer("whole-mid", seed: 4).Run(query, null, null);
        using var stop = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() =>
            NewTrainer("parts-mid", seed: 4, stepDone: p => { if (p.Epoch == 1 && p.StepInEpoch == 2) stop.Cancel(); }).Run(query, null, null, stop.Token));
        string last = Path.Combine(root, "parts-mid", Trainer.LastCheckpoint);
        using (HeadCheckpoint stopped = HeadCheckpoint.Open(last))
        {
            Assert.That(stopped.Metadata["trainer.next_epoch"], Is.EqualTo("1"));
            Assert.That(stopped.Metadata["trainer.partial_epoch"], Does.Contain("\"steps_done\":2"));
        }
        var epochs = new List<EpochRecord>();
        NewTrainer("parts-mid", seed: 4, epochDone: epochs.Add).Run(query, null, last);
        Assert.That(epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 1 }));
        Assert.That(epochs[0].Steps, Is.EqualTo(3), "the resumed epoch counts the steps run before the interruption");
        Assert.That(CheckpointTensors.Bytes(last), Is.EqualTo(CheckpointTensors.Bytes(Path.Combine(root, "whole-mid", Trainer.LastCheckpoint))));
    }

    /// <summary>A NaN in the Query bank makes every loss NaN: the run stops naming the step, or skips such steps when told to.</summary>
    [Test]
    public void NonFiniteStepsStopTheRunOrAreSkipped()
    {
        using Tensor poisoned = query.Clone();
        poisoned.AsSpan<float>()[0] = float.NaN;
        var error = Assert.Throws<InvalidOperationException>(() => NewTrainer("nan").Run(poisoned, null, null));
        Assert.That(error!.Message, Does.Contain("training loss").And.Contain("epoch 1, step 1").And.Contain("--skip-nonfinite")
            .And.Contain("no checkpoint was written yet"));
        // Resumed into a new folder, the run's last good state is the file it resumed from.
        NewTrainer("finite").Run(query, null, null);
        string finite = Path.Combine(root, "finite", Trainer.LastCheckpoint);
        var resumed = Assert.Throws<InvalidOperationException>(() => NewTrainer("nan-elsewhere", epochs: 3).Run(poisoned, null, finite));
        Assert.That(resumed!.Message, Does.Contain($"the last good checkpoint is {finite}"));
        var epochs = new List<EpochRecord>();
        NewTrainer("nan-skip", skipNonFinite: true, epochDone: epochs.Add).Run(poisoned, null, null);
        Assert.That(epochs.All(e => e.NonFiniteSteps == 3 && e.Steps == 0), Is.True);
    }

    [Test]
    public void ResumeWithOtherSettingsIsRefused()
    {
        NewTrainer("settings", seed: 2).Run(query, null, null);
        string last = Path.Combine(root, "settings", Trainer.LastCheckpoint);
        var error = Assert.Throws<ArgumentException>(() => NewTrainer("settings-other", seed: 3).Run(query, null, last));
        Assert.That(error!.Message, Does.Contain(last).And.Contain("other settings: seed (--seed) is 2 in the checkpoint, 3 now"));
    }

    /// <summary>An ablation's run keeps its bias in its checkpoints, and a resume must ask for the same one.</summary>
    [Test]
    public void AnAblationsBiasIsASettingOfItsRun()
    {
        NewTrainer("space-only", bias: BiasForm.SpaceOnly).Run(query, null, null);
        string last = Path.Combine(root, "space-only", Trainer.LastCheckpoint);
        using (HeadCheckpoint checkpoint = HeadCheckpoint.Open(last))
            Assert.That(checkpoint.BiasForm, Is.EqualTo(BiasForm.SpaceOnly));
        var error = Assert.Throws<ArgumentException>(() => NewTrainer("space-only-resumed").Run(query, null, last));
        Assert.That(error!.Message, Does.Contain("other settings: bias (--bias) is \"space\" in the checkpoint, \"both\" now"));
    }

    /// <summary>
    /// The number of epochs is not a setting of the run: a finished run resumed with more of them ends with the bits of a
    /// run that had asked for as many from the start (the schedule is MAX_EPOCH's), and one with none left trains nothing.
    /// </summary>
    [Test]
    public void AFinishedRunResumedWithMoreEpochsEndsAsALongerRun()
    {
        NewTrainer("longer", seed: 6, epochs: 3).Run(query, null, null);
        NewTrainer("extended", seed: 6).Run(query, null, null);
        string last = Path.Combine(root, "extended", Trainer.LastCheckpoint);
        var notices = new List<string>();
        TrainingState same = new Trainer(weights, SlotIds(), train, Hypotheses(), new TrainerOptions(train.Preset, Path.Combine(root, "extended"), 6))
        {
            Notice = notices.Add,
        }.Run(query, null, last);
        TrainingState extended = NewTrainer("extended", seed: 6, epochs: 3).Run(query, null, last);
        Assert.Multiple(() =>
        {
            Assert.That(same.NextEpoch, Is.EqualTo(2));
            Assert.That(notices, Has.One.Contains("nothing to train"));
            Assert.That(extended.History.Select(e => e.Epoch), Is.EqualTo(new[] { 0, 1, 2 }));
            Assert.That(CheckpointTensors.Bytes(last), Is.EqualTo(CheckpointTensors.Bytes(Path.Combine(root, "longer", Trainer.LastCheckpoint))));
        });
    }

    /// <summary>A checkpoint whose state does not add up, or whose momentum is incomplete, is refused rather than resumed.</summary>
    [TestCase("global step 7, but its epochs account for 6 steps", "trainer.step=7")]
    [TestCase("the history lists epoch 1 in place 2", "trainer.history=[" + EpochZero + "," + EpochZero + "]")]
    [TestCase("the interrupted epoch's counts do not add up",
        "trainer.partial_epoch={\"steps_done\":2,\"loss_sum\":1,\"steps\":3,\"skipped_batches\":-1,\"non_finite_steps\":0,\"seconds\":1}")]
    [TestCase("its interrupted epoch ran 9 steps, more than the 3 of an epoch of this data", "trainer.step=15",
        "trainer.partial_epoch={\"steps_done\":9,\"loss_sum\":1,\"steps\":9,\"skipped_batches\":0,\"non_finite_steps\":0,\"seconds\":1}")]
    [TestCase("lacks the momentum of pe_proj.bias", "-optimizer.pe_proj.bias.momentum_buffer")]
    [TestCase("its head subtracts space bias only but its run's settings say both biases: the checkpoint contradicts itself", "bias=space")]
    public void ATamperedCheckpointIsNotResumed(string problem, params string[] edits)
    {
        string output = "tamper-" + Guid.NewGuid().ToString("N");
        NewTrainer(output, seed: 2).Run(query, null, null);
        string last = Path.Combine(root, output, Trainer.LastCheckpoint);
        string[] dropped = [.. edits.Where(e => e.StartsWith('-')).Select(e => e[1..])];
        CheckpointTensors.Rewrite(last, metadata =>
        {
            foreach (string edit in edits.Where(e => !e.StartsWith('-')))
                metadata[edit[..edit.IndexOf('=')]] = edit[(edit.IndexOf('=') + 1)..];
        }, name => !dropped.Contains(name));
        var error = Assert.Throws<InvalidDataException>(() => NewTrainer(output, seed: 2).Run(query, null, last));
        Assert.That(error!.Message, Does.StartWith(last).And.Contain(problem));
    }

    private const string EpochZero =
        "{\"epoch\":0,\"learning_rate\":0.01,\"mean_loss\":1,\"steps\":3,\"skipped_batches\":0,\"non_finite_steps\":0,\"validation_miou\":null,\"seconds\":1}";

    [Test]
    public void BestCheckpointFollowsTheValidationScore()
    {
        double[] scores = [0.5, 0.3];
        int calls = 0;
        TrainingState state = NewTrainer("best").Run(query, _ => scores[calls++], null);
        Assert.That(state.Best!.Epoch, Is.EqualTo(0));
        using HeadCheckpoint best = HeadCheckpoint.Open(Path.Combine(root, "best", Trainer.BestCheckpoint));
        Assert.That(best.Metadata["trainer.next_epoch"], Is.EqualTo("1"), "best.safetensors holds the head after epoch 0");
    }

    [Test]
    public void BatchesWhoseFirstImageHasNoHypothesisAreSkipped()
    {
        var epochs = new List<EpochRecord>();
        NewTrainer("skip", hypotheses: Hypotheses(firstEmpty: true), epochDone: epochs.Add).Run(query, null, null);
        Assert.That(epochs.All(e => e.Steps == 0 && e.SkippedBatches == 3 && e.MeanLoss is null), Is.True);
        string history = File.ReadAllText(Path.Combine(root, "skip", Trainer.HistoryFile));
        Assert.That(history, Does.Contain("\"mean_loss\":null").And.Not.Contain("NaN"), "an epoch without steps has no mean loss, written as JSON null");
    }

    [Test]
    public void HypothesesOfAnotherSplitAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => NewTrainer("count", hypotheses: [[0]]).Run(query, null, null));
        Assert.That(error!.Message, Does.Contain("1 hypotheses for 5 training images"));
    }

    /// <summary>
    /// Ranks in threads with the in-process transport, perRank images each, against one process with batch
    /// ranks × perRank: two epochs of ceil(5 / batch) = 2 steps, the second batch short, so that a rank holds no image
    /// in it. Rank 0 alone writes; its checkpoint holds the single run's tensors (and BatchNorm statistics) within
    /// the tolerance, its history the same losses, and it records the combined batch, so the single process accepts
    /// it for a resume.
    /// </summary>
    [TestCase(2, 2)]
    [TestCase(3, 1)]
    public void DataParallelRanksEndWhereOneProcessWithTheirCombinedBatchEnds(int ranks, int perRank)
    {
        string single = $"single-{ranks}", parallel = $"parallel-{ranks}";
        TrainingState expected = NewTrainer(single, seed: 9, batchSize: ranks * perRank).Run(query, null, null);
        TrainingState[] states = InProcessGroup.Run(ranks, group => NewTrainer(parallel, seed: 9, batchSize: perRank, group: group).Run(query, null, null));
        Assert.That(states.Select(s => s.Step), Is.All.EqualTo(expected.Step));
        Assert.That(states[0].History.Select(e => e.MeanLoss), Is.EqualTo(expected.History.Select(e => e.MeanLoss)).Within(DataParallelTolerance));
        var differences = CheckpointTensors.Differences(Path.Combine(root, single, Trainer.LastCheckpoint), Path.Combine(root, parallel, Trainer.LastCheckpoint));
        Assert.Multiple(() =>
        {
            foreach ((string name, double difference, double scale) in differences)
                Assert.That(difference, Is.LessThanOrEqualTo(DataParallelTolerance * scale + RoundingNoiseBound), $"{name}: max |Δ| {difference:G3} of max |x| {scale:G3}");
        });
        double worst = differences.Where(d => !d.Name.Contains("decoder_conv2.bias", StringComparison.Ordinal)).Max(d => d.Difference / d.Scale);
        TestContext.Out.WriteLine($"{ranks} ranks × {perRank}: largest difference {worst:G3} of a tensor's largest element");
        TrainingState resumed = NewTrainer(parallel, seed: 9, batchSize: ranks * perRank).Run(query, null, Path.Combine(root, parallel, Trainer.LastCheckpoint));
        Assert.That(resumed.NextEpoch, Is.EqualTo(2), "a single process resumes the data-parallel run (nothing left to run)");
    }

    /// <summary>
    /// With the towers on a GPU one process trains its head there too, its steps replayed as CUDA graphs or queued kernel
    /// by kernel. Its run ends where the CPU's does, up to the order of float32 sums (cuBLAS and our kernels against our CPU
    /// GEMMs): the data-parallel test's bound for the losses, <see cref="GpuTolerance"/> for the tensors. Its checkpoints
    /// are written from the card, and a resume from them continues there (the epoch's last batch is short: a second graph).
    /// With the towers overlapped in the graphs (the text forward on a second stream) the same holds.
    /// </summary>
    [TestCase(true, false)]
    [TestCase(false, false)]
    [TestCase(true, true)]
    public void TrainingOnAGpuEndsWhereTheCpuEnds(bool cudaGraphs, bool overlapTowers)
    {
        Requires.CudaDevice();
        using ClipWeights onGpu = weights.ToDevice(Device.Cuda());
        string cpu = $"on-cpu-{cudaGraphs}-{overlapTowers}", gpu = $"on-gpu-{cudaGraphs}-{overlapTowers}";
        TrainingState expected = NewTrainer(cpu, seed: 12).Run(query, null, null);
        using var stop = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() =>
            NewTrainer(gpu, seed: 12, clip: onGpu, epochDone: _ => stop.Cancel(), cudaGraphs: cudaGraphs, overlapTowers: overlapTowers).Run(query, null, null, stop.Token));
        string last = Path.Combine(root, gpu, Trainer.LastCheckpoint);
        TrainingState resumed = NewTrainer(gpu, seed: 12, clip: onGpu, cudaGraphs: cudaGraphs, overlapTowers: overlapTowers).Run(query, null, last);
        Assert.That(resumed.History.Select(e => e.MeanLoss), Is.EqualTo(expected.History.Select(e => e.MeanLoss)).Within(DataParallelTolerance));
        var differences = CheckpointTensors.Differences(Path.Combine(root, cpu, Trainer.LastCheckpoint), last);
        Assert.Multiple(() =>
        {
            foreach ((string name, double difference, double scale) in differences)
                Assert.That(difference, Is.LessThanOrEqualTo(GpuTolerance * scale + RoundingNoiseBound), $"{name}: max |Δ| {difference:G3} of max |x| {scale:G3}");
        });
    }

    [Test]
    public void RanksResumingFromDifferentPointsAreRefused()
    {
        NewTrainer("rank-resume", seed: 2).Run(query, null, null);
        string last = Path.Combine(root, "rank-resume", Trainer.LastCheckpoint);
        var error = Assert.Throws<ArgumentException>(() => InProcessGroup.Run(2, group =>
            NewTrainer($"rank-resume-{group.Rank}", seed: 2, batchSize: 1, group: group).Run(query, null, group.Rank == 0 ? null : last)));
        Assert.That(error!.Message, Does.Contain("different points of the run").And.Contain("--resume"));
    }

    [Test]
    public void RanksWithOtherSettingsAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => InProcessGroup.Run(2, group =>
            NewTrainer($"rank-settings-{group.Rank}", seed: (ulong)(2 + group.Rank), batchSize: 1, group: group).Run(query, null, null)));
        Assert.That(error!.Message, Does.Contain("other settings").And.Contain("every rank"));
    }

    [Test]
    public void RanksWithAnotherHypothesisFileAreRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => InProcessGroup.Run(2, group =>
        {
            int[][] hypotheses = Hypotheses();
            if (group.Rank == 1) hypotheses[^1] = [.. hypotheses[^1], 0];
            return NewTrainer($"rank-data-{group.Rank}", seed: 2, hypotheses: hypotheses, batchSize: 1, group: group).Run(query, null, null);
        }));
        Assert.That(error!.Message, Does.Contain("hypothesis file").And.Contain("every rank"));
    }
}
