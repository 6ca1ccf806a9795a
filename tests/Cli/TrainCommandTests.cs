using System.Text.Json;
using ReClip.Cli;
using ReClip.Model.Clip;
using ReClip.Model.Data.Synthetic;
using ReClip.Model.ReClip;
using ReClip.Model.Training;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>`reclip train` on a few synthetic scenes with the bundled tiny CLIP (it has OpenAI's vocabulary): a run, a resume, the errors.</summary>
[TestFixture]
public sealed class TrainCommandTests
{
    private const int TrainImages = 4;

    /// <summary>Data-parallel ranks against one process, relative to each tensor's largest element: see TrainerTests.DataParallelTolerance.</summary>
    private const double DataParallelTolerance = 1e-4;

    /// <summary>The zero-gradient conv bias's momentum is rounding noise: see TrainerTests.RoundingNoiseBound.</summary>
    private const double RoundingNoiseBound = 1e-6;
    private string folder = "";

    [OneTimeSetUp]
    public void CreateFolders()
    {
        folder = Directory.CreateTempSubdirectory("reclip-cli-train-").FullName;
        SyntheticDataset.Write(Path.Combine(folder, "train"), TrainImages, seed: 21);
        SyntheticDataset.Write(Path.Combine(folder, "val"), 2, seed: 22);
        HypothesisFile.Write(Path.Combine(folder, "hypothesis.jsonl"), [[0, 1], [0, 2, 6], [0, 4, 7], [0, 3]]);
        File.WriteAllText(Path.Combine(folder, "short.jsonl"), "[0]\n");
    }

    [OneTimeTearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private string[] CommonArguments => ["train", "--weights", CheckoutFile.Find("assets/tinyclip/tinyclip-synthetic.safetensors"), "--dataset", "folder",
        "--root", Path.Combine(folder, "train")];

    /// <summary>The test's own cache folder, where the commands keep the Query bank they build.</summary>
    private Dictionary<string, string> Environment => new() { ["RECLIP_CACHE"] = Path.Combine(folder, "cache") };

    /// <summary>A training process to stop from outside, its stdout drained so that it never blocks.</summary>
    private System.Diagnostics.Process StartTraining(string[] arguments)
    {
        var process = ReclipProcess.Start(Environment, [.. CommonArguments, .. arguments]);
        _ = process.StandardOutput.ReadToEndAsync();
        return process;
    }

    private ReclipProcess.Result Train(params string[] arguments) => ReclipProcess.Run(Environment, [.. CommonArguments, .. WithSchedule(arguments)]);

    /// <summary>The short schedule of these tests unless the arguments set their own.</summary>
    private static string[] WithSchedule(string[] arguments) => arguments.Contains("--epochs") ? arguments : ["--epochs", "2", "--max-epoch", "4", .. arguments];

    [Test]
    public void TrainsValidatesAndResumes()
    {
        string output = Path.Combine(folder, "run");
        ReclipProcess.Result result = Train("--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--val-root", Path.Combine(folder, "val"), "--out", output, "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using (JsonDocument report = JsonDocument.Parse(result.Stdout))
        {
            JsonElement json = report.RootElement;
            Assert.That(json.GetProperty("epochs").GetInt32(), Is.EqualTo(2));
            Assert.That(json.GetProperty("steps").GetInt64(), Is.EqualTo(2 * TrainImages));
            Assert.That(json.GetProperty("best_validation_miou").GetDouble(), Is.InRange(0, 1));
        }
        Assert.That(result.Stderr, Does.Contain("epoch 2/2:").And.Contain("val mIoU"));
        foreach (string file in new[] { Trainer.BestCheckpoint, Trainer.LastCheckpoint, Trainer.HistoryFile })
            Assert.That(File.Exists(Path.Combine(output, file)), file);

        // A finished run resumed with the same settings has nothing left to do and keeps its history.
        ReclipProcess.Result resumed = Train("--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--val-root", Path.Combine(folder, "val"),
            "--out", output, "--resume", Path.Combine(output, Trainer.LastCheckpoint), "--json");
        Assert.That(resumed.ExitCode, Is.Zero, resumed.Stderr);
        Assert.That(resumed.Stderr, Does.Not.Contain("epoch 1/2"));
        using JsonDocument again = JsonDocument.Parse(resumed.Stdout);
        Assert.That(again.RootElement.GetProperty("epochs").GetInt32(), Is.EqualTo(2));
        // Resumed into another folder, such a run writes nothing there, and says so instead of naming files that are not there.
        string elsewhere = Path.Combine(folder, "run-elsewhere");
        ReclipProcess.Result moved = Train("--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--val-root", Path.Combine(folder, "val"),
            "--out", elsewhere, "--resume", Path.Combine(output, Trainer.LastCheckpoint), "--json");
        Assert.That(moved.ExitCode, Is.Zero, moved.Stderr);
        Assert.That(moved.Stderr, Does.Contain("nothing to train"));
        using (JsonDocument report = JsonDocument.Parse(moved.Stdout))
            Assert.That(report.RootElement.GetProperty("last_checkpoint").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(Directory.Exists(elsewhere), Is.False);

        ReclipProcess.Result other = Train("--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--out", output,
            "--resume", Path.Combine(output, Trainer.LastCheckpoint), "--seed", "9");
        Assert.That(other.ExitCode, Is.EqualTo(1));
        Assert.That(other.Stderr, Does.Contain("other settings"));
    }

    /// <summary>
    /// A run with --class-token keeps the token in its checkpoints, refuses a resume without it, and a head evaluated from
    /// them runs its image tower with that token (the shard's identity names its digest) and refuses another.
    /// </summary>
    [Test]
    public void AClassTokenTrainedWithStaysWithTheHead()
    {
        string weights = CheckoutFile.Find("assets/tinyclip/tinyclip-synthetic.safetensors"), tokenFile = Path.Combine(folder, "cls_token.safetensors");
        int width;
        using (ClipWeights clip = ClipWeights.Load(weights))
            width = clip.Config.VisionWidth;
        float[] token = [.. Enumerable.Range(0, width).Select(i => MathF.Sin(i))];
        using (Tensor stored = Tensor.FromSpan<float>(token, [1, 1, width]))
            SafetensorsWriter.Write(tokenFile, [KeyValuePair.Create("cls_token", stored)]);
        string output = Path.Combine(folder, "token-run"), last = Path.Combine(output, Trainer.LastCheckpoint);
        string[] run = ["--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--out", output, "--epochs", "1"];

        ReclipProcess.Result trained = Train([.. run, "--class-token", tokenFile]);
        Assert.That(trained.ExitCode, Is.Zero, trained.Stderr);
        using (HeadCheckpoint checkpoint = HeadCheckpoint.Open(last))
            Assert.That(checkpoint.ClassToken(width), Is.EqualTo(token));
        ReclipProcess.Result resumed = Train([.. run, "--resume", last]);
        Assert.That(resumed.ExitCode, Is.EqualTo(1));
        Assert.That(resumed.Stderr, Does.Contain("other settings").And.Contain("--class-token"));

        string[] eval = ["eval", "--weights", weights, "--dataset", "folder", "--root", Path.Combine(folder, "train"), "--checkpoint", last];
        ReclipProcess.Result both = ReclipProcess.Run(Environment, [.. eval, "--class-token", tokenFile]);
        Assert.That(both.ExitCode, Is.EqualTo(1));
        Assert.That(both.Stderr, Does.Contain("--class-token: the head of " + last));
        string shard = Path.Combine(folder, "token-shard.json");
        ReclipProcess.Result scored = ReclipProcess.Run(Environment, [.. eval, "--shard", "0/1", "--out", shard]);
        Assert.That(scored.ExitCode, Is.Zero, scored.Stderr);
        Assert.That(File.ReadAllText(shard), Does.Contain(ClassTokenFile.Digest(token)));
        ReclipProcess.Result baseline = ReclipProcess.Run(Environment,
            [.. eval[..^2], "--method", "maskclip", "--class-token", tokenFile, "--shard", "0/1", "--out", shard]);
        Assert.That(baseline.ExitCode, Is.Zero, baseline.Stderr);
        Assert.That(File.ReadAllText(shard), Does.Contain(ClassTokenFile.Digest(token)), "MaskCLIP with the token given");
    }

    /// <summary>
    /// `train --bias space` trains the ablation's head, which keeps its bias: `eval` reports it (JSON and table), its shards
    /// name it and merge into a report that names it too.
    /// </summary>
    [Test]
    public void AnAblationsHeadIsEvaluatedAsOne()
    {
        string weights = CheckoutFile.Find("assets/tinyclip/tinyclip-synthetic.safetensors");
        string output = Path.Combine(folder, "space-run"), last = Path.Combine(output, Trainer.LastCheckpoint);
        ReclipProcess.Result trained = Train("--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--out", output, "--epochs", "1", "--bias", "space");
        Assert.That(trained.ExitCode, Is.Zero, trained.Stderr);

        string[] eval = ["eval", "--weights", weights, "--dataset", "folder", "--root", Path.Combine(folder, "train"), "--checkpoint", last];
        ReclipProcess.Result json = ReclipProcess.Run(Environment, [.. eval, "--json"]);
        Assert.That(json.ExitCode, Is.Zero, json.Stderr);
        using (JsonDocument report = JsonDocument.Parse(json.Stdout))
            Assert.That(report.RootElement.GetProperty("bias").GetString(), Is.EqualTo("space"));
        ReclipProcess.Result table = ReclipProcess.Run(Environment, eval);
        Assert.That(table.Stdout, Does.Contain("reclippp (space bias only)"));
        string shard = Path.Combine(folder, "space-shard.json"), merged = Path.Combine(folder, "space-merged.json");
        Assert.That(ReclipProcess.Run(Environment, [.. eval, "--shard", "0/1", "--out", shard]).ExitCode, Is.Zero);
        ReclipProcess.Result merge = ReclipProcess.Run(Environment, "merge", merged, shard);
        Assert.That(merge.ExitCode, Is.Zero, merge.Stderr);
        using JsonDocument joined = JsonDocument.Parse(File.ReadAllText(merged));
        Assert.That(joined.RootElement.GetProperty("bias").GetString(), Is.EqualTo("space"));
    }

    /// <summary>Ctrl-C (SIGINT) stops between steps with exit code 130 and says where to resume from.</summary>
    [Test]
    public void InterruptExitsWith130AndPointsAtTheLastCheckpoint()
    {
        string output = Path.Combine(folder, "interrupted");
        (int exitCode, string rest) = InterruptedRun.Of(Environment,
            [.. CommonArguments, "--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--out", output, "--epochs", "500", "--max-epoch", "501"],
            "epoch 1/500:");
        Assert.That(exitCode, Is.EqualTo(130));
        Assert.That(rest, Does.Contain("interrupted").And.Contain("--resume " + Path.Combine(output, Trainer.LastCheckpoint)));
    }

    /// <summary>
    /// A training process killed outright (SIGKILL) mid-run leaves a valid last.safetensors (written atomically), and
    /// resuming from it ends with the same bits as a run that was never killed.
    /// </summary>
    [Test]
    public void KilledRunResumesToTheSameParameters()
    {
        string[] run = ["--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--epochs", "30", "--max-epoch", "31"];
        string whole = Path.Combine(folder, "whole"), killed = Path.Combine(folder, "killed");
        Assert.That(Train([.. run, "--out", whole]).ExitCode, Is.Zero);
        using (System.Diagnostics.Process process = StartTraining([.. run, "--out", killed]))
        {
            InterruptedRun.WaitForLine(process, "epoch 2/30:");
            process.Kill();
            process.WaitForExit();
        }
        string last = Path.Combine(killed, Trainer.LastCheckpoint);
        using (HeadCheckpoint saved = HeadCheckpoint.Open(last))
            Assert.That(int.Parse(saved.Metadata["trainer.next_epoch"], System.Globalization.CultureInfo.InvariantCulture), Is.InRange(2, 29), "killed mid-run");
        ReclipProcess.Result resumed = Train([.. run, "--out", killed, "--resume", last]);
        Assert.That(resumed.ExitCode, Is.Zero, resumed.Stderr);
        Assert.That(CheckpointTensors.Bytes(last), Is.EqualTo(CheckpointTensors.Bytes(Path.Combine(whole, Trainer.LastCheckpoint))));
    }

    [Test]
    public void AHypothesisFileOfAnotherSplitIsRefused()
    {
        ReclipProcess.Result result = Train("--hypothesis", Path.Combine(folder, "short.jsonl"), "--no-val", "--out", Path.Combine(folder, "short"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("short.jsonl"));
        Assert.That(Directory.Exists(Path.Combine(folder, "short")), Is.False, "nothing written");

        // As many lines as this split has images, but made by `hypothesize` for other images: its split file says so.
        string other = Path.Combine(folder, "other.jsonl");
        HypothesisFile.Write(other, [[0], [1], [2], [3]], sampleDigest: new string('0', 64));
        ReclipProcess.Result mismatched = Train("--hypothesis", other, "--no-val", "--out", Path.Combine(folder, "other"));
        Assert.That(mismatched.ExitCode, Is.EqualTo(1));
        Assert.That(mismatched.Stderr, Does.Contain($"{other}: was made for other images than this split's"));
        Assert.That(Directory.Exists(Path.Combine(folder, "other")), Is.False, "nothing written");
    }

    /// <summary>Runs that fail before their first checkpoint leave no output folder; a bad --out or --epochs is named.</summary>
    [Test]
    public void FailuresBeforeTheFirstCheckpointLeaveNothing()
    {
        string renamed = Path.Combine(folder, "other-classes");
        SyntheticDataset.Write(renamed, 2, seed: 23);
        File.WriteAllText(Path.Combine(renamed, "classes.txt"), File.ReadAllText(Path.Combine(renamed, "classes.txt")).Replace("ball", "kite"));
        string file = Path.Combine(folder, "a-file");
        File.WriteAllText(file, "");
        string output = Path.Combine(folder, "failed");
        (string[] Arguments, string Message)[] cases =
        [
            (["--no-val", "--resume", Path.Combine(folder, "none.safetensors")], "none.safetensors"),
            (["--val-root", renamed], $"--val-root {renamed} has the classes"),
            (["--no-val", "--epochs", "0"], "--epochs 0: a run has at least one epoch"),
        ];
        foreach ((string[] arguments, string message) in cases)
        {
            ReclipProcess.Result result = Train(["--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--out", output, .. arguments]);
            Assert.Multiple(() =>
            {
                Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput), result.Stderr);
                Assert.That(result.Stderr, Does.Contain(message));
                Assert.That(Directory.Exists(output), Is.False, $"{string.Join(' ', arguments)}: no folder left behind");
            });
        }
        ReclipProcess.Result onAFile = Train("--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--out", file);
        Assert.That(onAFile.ExitCode, Is.EqualTo(ExitCode.BadInput));
        Assert.That(onAFile.Stderr, Is.EqualTo($"reclip: cannot write: {file} is a file, not a folder\n"));
    }

    [Test]
    public void TheFolderLayoutNeedsAValidationRoot()
    {
        ReclipProcess.Result result = Train("--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--out", Path.Combine(folder, "noval"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("--val-root"));
    }

    [TestCase("--rank 2 must lie in 0..1 for --world-size 2", "--world-size", "2", "--rank", "2", "--init", "meet")]
    [TestCase("--rank -1 must lie in 0..0 for --world-size 1", "--rank", "-1")]
    [TestCase("--world-size must be at least 1, not 0", "--world-size", "0")]
    [TestCase("--world-size 3 needs --init FILE or tcp://HOST:PORT", "--world-size", "3", "--rank", "1")]
    [TestCase("--init is for a data-parallel run", "--init", "meet")]
    [TestCase("--backend tcp exchanges over the rendezvous connections", "--world-size", "2", "--backend", "tcp", "--init", "meet")]
    [TestCase("--overlap-towers overlaps the towers within a step's CUDA graph", "--overlap-towers", "--no-cuda-graphs")]
    public void ArgumentsThatDoNotGoTogetherAreRefusedBeforeAnythingRuns(string error, params string[] arguments)
    {
        string output = Path.Combine(folder, "dp-arguments");
        ReclipProcess.Result result = Train(["--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--out", output, .. arguments]);
        string[] lines = result.Stderr.TrimEnd().Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput), result.Stderr);
            Assert.That(lines[..^1], Has.Some.Contain(error));
            Assert.That(lines[^1], Does.StartWith("usage: reclip train [options]"));
            Assert.That(Directory.Exists(output), Is.False, "nothing written");
        });
    }

    [Test]
    public void TensorFloat32OnTheCpuIsBadInput()
    {
        string output = Path.Combine(folder, "tf32-on-cpu");
        ReclipProcess.Result result = Train("--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--out", output, "--device", "cpu", "--tf32");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput), result.Stderr);
            Assert.That(result.Stderr.Trim(), Is.EqualTo("reclip: invalid argument: --tf32 multiplies on a GPU's tensor cores; give --device cuda (the CPU computes in float32)"));
            Assert.That(Directory.Exists(output), Is.False, "nothing written");
        });
    }

    [Test]
    public void AMalformedTcpAddressIsBadInput()
    {
        ReclipProcess.Result result = Train("--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--out", Path.Combine(folder, "dp-tcp"),
            "--world-size", "2", "--rank", "1", "--init", "tcp://localhost");
        Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput));
        Assert.That(result.Stderr, Does.Contain("--init tcp://localhost: expected tcp://HOST:PORT"));
    }

    /// <summary>Without NCCL or a GPU, a data-parallel rank stops at once with one line saying what is missing, before waiting for the others.</summary>
    [Test]
    public void ADataParallelRankWithoutNcclSaysSoInOneLine()
    {
        if (ReClip.Runtime.Cuda.NativeLibraries.Nccl.IsLoaded && ReClip.Runtime.Cuda.CudaDriver.IsAvailable)
            Assert.Ignore("NCCL and a CUDA driver are present on this machine");
        string output = Path.Combine(folder, "dp-nccl"), meet = Path.Combine(folder, "dp-meet");
        ReclipProcess.Result result = Train("--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--out", output,
            "--world-size", "2", "--rank", "0", "--init", meet);
        Assert.That(result.ExitCode, Is.EqualTo(ExitCode.RuntimeFailure), result.Stderr);
        Assert.That(result.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(result.Stderr, Does.StartWith("reclip: data-parallel training needs "));
        Assert.That(File.Exists(meet) || Directory.Exists(output), Is.False, "nothing written");
    }

    /// <summary>
    /// Two processes on this CPU (--backend tcp), one image each per step, end where one process with batch 2 ends
    /// (tolerance as in TrainerTests: only the order of sums differs); rank 0 alone writes and reports.
    /// </summary>
    [Test]
    public void TwoRankProcessesEndWhereOneProcessWithTheirCombinedBatchEnds()
    {
        // Both on the CPU: where a GPU is usable, one process would train its head there, while ranks keep theirs on the
        // host, and the GPU's sums come in other orders (TrainerTests' GPU bound), not what this test holds to its own.
        string[] run = ["--hypothesis", Path.Combine(folder, "hypothesis.jsonl"), "--no-val", "--seed", "4", "--json", "--device", "cpu"];
        string single = Path.Combine(folder, "dp-single"), parallel = Path.Combine(folder, "dp-parallel");
        ReclipProcess.Result one = Train([.. run, "--batch-size", "2", "--out", single]);
        Assert.That(one.ExitCode, Is.Zero, one.Stderr);
        int port = LocalPort.Free();
        Task<ReclipProcess.Result>[] ranks = [.. Enumerable.Range(0, 2).Select(rank => Task.Run(() => Train([.. run, "--batch-size", "1", "--out", parallel,
            "--world-size", "2", "--rank", rank.ToString(System.Globalization.CultureInfo.InvariantCulture), "--backend", "tcp", "--init", $"tcp://127.0.0.1:{port}"])))];
        Task.WaitAll(ranks);
        Assert.That(ranks.Select(r => r.Result.ExitCode), Is.All.Zero, string.Join("\n", ranks.Select(r => r.Result.Stderr)));
        Assert.That(ranks[1].Result.Stdout, Is.Empty, "rank 1 reports nothing");
        using (JsonDocument a = JsonDocument.Parse(one.Stdout), b = JsonDocument.Parse(ranks[0].Result.Stdout))
            Assert.That(b.RootElement.GetProperty("steps").GetInt64(), Is.EqualTo(a.RootElement.GetProperty("steps").GetInt64()));
        Assert.Multiple(() =>
        {
            foreach ((string name, double difference, double scale) in CheckpointTensors.Differences(Path.Combine(single, Trainer.LastCheckpoint), Path.Combine(parallel, Trainer.LastCheckpoint)))
                Assert.That(difference, Is.LessThanOrEqualTo(DataParallelTolerance * scale + RoundingNoiseBound), name);
        });
    }
}
