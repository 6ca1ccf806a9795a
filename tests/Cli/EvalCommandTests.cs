using System.Text.Json;
using ReClip.Model.Data.Synthetic;
using ReClip.Tests.Model;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>`reclip eval` on two synthetic scenes with the tiny CLIP: the table, --json, and the option errors.</summary>
[TestFixture]
public sealed class EvalCommandTests
{
    private string folder = "";
    private string root = "";

    [OneTimeSetUp]
    public void CreateFolder()
    {
        folder = Directory.CreateTempSubdirectory("reclip-cli-eval-").FullName;
        root = Path.Combine(folder, "data");
        SyntheticDataset.Write(root, 2, seed: 4);
        CachedQueryBank.Store(folder, SyntheticClasses.Names);
    }

    [OneTimeTearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private ReclipProcess.Result Eval(params string[] arguments) =>
        ReclipProcess.Run(CachedQueryBank.Environment(folder),
            ["eval", "--weights", ClipFixture.PathOf("weights_openai.safetensors"), "--dataset", "folder", "--root", root, .. arguments]);

    [Test]
    public void CudaWithoutADriverIsRefusedWithTheReason()
    {
        if (ReClip.Runtime.Cuda.CudaDriver.IsAvailable)
            Assert.Ignore("a CUDA driver loads here; tools/gpu/run.sh runs the towers there");
        ReclipProcess.Result result = Eval("--method", "maskclip", "--device", "cuda");
        Assert.That(result.ExitCode, Is.EqualTo(2), result.Stderr);
        Assert.That(result.Stdout, Is.Empty);
        Assert.That(result.Stderr, Does.StartWith("reclip: --device cuda: ").And.Contain("use --device cpu"));
    }

    /// <summary>Ctrl-C part-way exits with 130, says so, and writes no report.</summary>
    [Test]
    public void InterruptExitsWith130AndWritesNothing()
    {
        string many = Path.Combine(folder, "many"), output = Path.Combine(folder, "interrupted.json");
        InterruptedRun.LinkedDataset(root, many, 20_000);
        (int exitCode, string stderr) = InterruptedRun.Of(CachedQueryBank.Environment(folder),
            ["eval", "--weights", ClipFixture.PathOf("weights_openai.safetensors"), "--dataset", "folder", "--root", many, "--method", "maskclip",
                "--out", output], "eval");
        Assert.That(exitCode, Is.EqualTo(130), stderr);
        Assert.That(stderr, Does.EndWith($"reclip: interrupted; nothing was written to {output}\n"));
        Assert.That(File.Exists(output), Is.False);
    }

    [Test]
    public void JsonReportsScoresAndEveryClass()
    {
        ReclipProcess.Result result = Eval("--method", "maskclip", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement json = report.RootElement;
        JsonElement[] classes = [.. json.GetProperty("classes").EnumerateArray()];
        double miou = json.GetProperty("miou").GetDouble();
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("method").GetString(), Is.EqualTo("maskclip"));
            Assert.That(json.GetProperty("images").GetInt32(), Is.EqualTo(2));
            Assert.That(json.GetProperty("prompt_denoising").GetDouble(), Is.EqualTo(1.0), "the folder preset's TEST.PD");
            Assert.That(miou, Is.InRange(0, 1));
            Assert.That(classes.Select(c => c.GetProperty("name").GetString()), Is.EqualTo(SyntheticClasses.Names));
            Assert.That(classes.Average(c => c.GetProperty("iou").GetDouble()), Is.EqualTo(miou).Within(1e-12));
            Assert.That(json.GetProperty("images_per_second").GetDouble(), Is.Positive);
            Assert.That(result.Stderr, Does.Contain("2/2"), "progress on stderr");
        });
    }

    [Test]
    public void TablePrintsTheScores()
    {
        ReclipProcess.Result result = Eval("--method", "maskclip", "--no-pd", "--slide");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.Multiple(() =>
        {
            foreach (string line in new[] { "mIoU: ", "pixel accuracy: ", "class-preference score: ", "space-preference score: ", "images/s: ", "prompt denoising: off", "inference: sliding window" })
                Assert.That(result.Stdout, Does.Contain(line));
            Assert.That(result.Stdout, Does.Contain("IoU per class").And.Contain("sky\t"));
        });
    }

    [TestCase("--image-bf16", "--image-bf16 runs the image tower on a GPU")]
    [TestCase("--tf32", "--tf32 multiplies on a GPU's tensor cores")]
    public void TensorCoreOptionsOnTheCpuAreBadInput(string option, string reason)
    {
        ReclipProcess.Result result = Eval("--method", "maskclip", "--device", "cpu", option);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stdout, Is.Empty);
            Assert.That(result.Stderr.Trim(), Is.EqualTo($"reclip: invalid argument: {reason}; give --device cuda (the CPU computes in float32)"));
        });
    }

    [Test]
    public void ReClipWithoutCheckpointIsBadInput()
    {
        ReclipProcess.Result result = Eval();
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain("needs --checkpoint"));
        });
    }

    [TestCase("--pd", "1.5")]
    [TestCase("--pd", "0")]
    public void ThresholdOutsideTheUnitIntervalIsBadInput(string option, string value)
    {
        ReclipProcess.Result result = Eval("--method", "maskclip", option, value);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain("(0, 1]"));
        });
    }

    [Test]
    public void PdAndNoPdContradict()
    {
        ReclipProcess.Result result = Eval("--method", "maskclip", "--pd", "0.5", "--no-pd");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain("contradict"));
        });
    }

    [Test]
    public void MissingCheckpointIsBadInput()
    {
        string missing = Path.Combine(folder, "none.safetensors");
        ReclipProcess.Result result = Eval("--checkpoint", missing);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain(missing));
        });
    }
}
