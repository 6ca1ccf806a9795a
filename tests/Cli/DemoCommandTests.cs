using System.Text.Json;
using ReClip.Cli;
using ReClip.Cli.Commands;
using ReClip.Runtime.Platform;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>`reclip demo` at a tiny size: the JSON table, every picture and the report; a learning rate it refuses.</summary>
[TestFixture]
public sealed class DemoCommandTests
{
    private string folder = "";

    [OneTimeSetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-cli-demo-").FullName;

    [OneTimeTearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    /// <summary>Where the demo runs by default: on a usable GPU (its towers), else on the CPU alone.</summary>
    private static string Where => PipelineOptions.ResolveDevice("auto") is { IsCpu: false } gpu ? $"the frozen towers on {gpu}" : "CPU only";

    [Test]
    public void RunsEndToEndAndWritesThePictures()
    {
        string output = Path.Combine(folder, "out");
        ReclipProcess.Result result = ReclipProcess.Run(new Dictionary<string, string> { ["RECLIP_CACHE"] = Path.Combine(folder, "cache") },
            "demo", "--quick", "--train-images", "6", "--val-images", "3", "--epochs", "1", "--seed", "3", "--world", Path.Combine(folder, "world"), "--out", output, "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement json = report.RootElement;
        Assert.Multiple(() =>
        {
            foreach (string method in new[] { "maskclip", "reclippp" })
                foreach (string score in new[] { "miou", "pixel_accuracy", "class_preference", "space_preference" })
                    Assert.That(json.GetProperty(method).TryGetProperty(score, out _), $"{method}.{score}");
            Assert.That(json.GetProperty("maskclip").GetProperty("miou").GetDouble(), Is.InRange(0, 1));
            Assert.That(json.GetProperty("seconds").GetDouble(), Is.Positive);
            foreach (string file in new[] { "report.md", "loss.png", "validation-miou.png", "hypothesis.jsonl", "train/best.safetensors" })
                Assert.That(File.Exists(Path.Combine(output, file)), file);
            Assert.That(Directory.GetFiles(output, "overlay-*.png"), Has.Length.EqualTo(3));
            Assert.That(File.ReadAllText(Path.Combine(output, "report.md")), Does.Contain("| MaskCLIP |").And.Contain("| ReCLIP++ |").And.Contain(", seed 3, ")
                .And.Contain($"{CpuInfo.KernelName(CpuInfo.Simd)} kernels), {Where}."), "the machine and its kernels, which the scores depend on");
        });
    }

    [TestCase("0")]
    [TestCase("-0.01")]
    [TestCase("NaN")]
    public void RefusesALearningRateThatIsNotPositive(string learningRate)
    {
        string output = Path.Combine(folder, "refused");
        ReclipProcess.Result result = ReclipProcess.Run(new Dictionary<string, string> { ["RECLIP_CACHE"] = Path.Combine(folder, "cache") },
            "demo", "--quick", "--lr", learningRate, "--world", Path.Combine(folder, "world"), "--out", output);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput), result.Stderr);
            Assert.That(result.Stderr.Trim(), Does.Contain("learning rate must be a positive number").And.Not.Contain("\n"));
            Assert.That(Directory.Exists(output), Is.False, "nothing written");
        });
    }
}
