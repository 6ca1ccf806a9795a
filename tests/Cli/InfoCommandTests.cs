using System.Text.Json;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

[TestFixture]
public sealed class InfoCommandTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-info-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public void InfoRunsWithoutAGpuAndReportsEveryComponent()
    {
        ReclipProcess.Result result = ReclipProcess.Run("info", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement root = report.RootElement.GetProperty("system");
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("reclip_version").GetString(), Is.Not.Empty);
            Assert.That(root.GetProperty("threads").GetInt32(), Is.GreaterThan(0));
            Assert.That(root.GetProperty("simd").GetString(), Is.AnyOf("avx512", "avx2_fma", "portable"));
            foreach (string component in new[] { "driver", "nvrtc", "cublas" })
            {
                JsonElement status = root.GetProperty(component);
                bool found = status.GetProperty("found").GetBoolean();
                string? detail = found ? status.GetProperty("path").GetString() : status.GetProperty("problem").GetString();
                Assert.That(detail, Is.Not.Null.And.Not.Empty, $"{component}: a path when found, a reason when not");
            }
        });
    }

    [Test]
    public void InfoPrintsPlainLinesWhenRedirected()
    {
        ReclipProcess.Result result = ReclipProcess.Run("info");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(result.Stdout, Does.Contain("cpu kernels: ").And.Contain("CUDA driver: "));
    }

    [Test]
    public void WeightsOptionListsTheTensorsOfAFile()
    {
        string path = Path.Combine(folder, "tiny.safetensors");
        using (Tensor weight = Tensor.FromSpan<float>([1, 2, 3, 4, 5, 6], [2, 3]))
        using (Tensor bias = Tensor.FromSpan<Half>([(Half)1, (Half)2], [2]))
            SafetensorsWriter.Write(path, [new("proj.weight", weight), new("proj.bias", bias)]);
        ReclipProcess.Result result = ReclipProcess.Run("info", "--json", "--weights", path);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement weights = report.RootElement.GetProperty("weights");
        Assert.That(weights.GetProperty("parameters").GetInt64(), Is.EqualTo(8));
        Assert.That(weights.GetProperty("tensors").EnumerateArray().Select(t => t.GetProperty("name").GetString()),
            Is.EquivalentTo(new[] { "proj.weight", "proj.bias" }));
    }

    [TestCase("garbage.safetensors", new byte[] { 1, 2, 3 }, "shorter than the 8-byte header length")]
    [TestCase("garbage.pt", new byte[] { (byte)'P', (byte)'K', 3, 4, 0, 0 }, "garbage.pt")]
    public void MalformedWeightFileExitsWithBadInputAndOneLine(string name, byte[] bytes, string expected)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, bytes);
        ReclipProcess.Result result = ReclipProcess.Run("info", "--weights", path);
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain(path).And.Contain(expected));
    }

    [Test]
    public void UnknownOptionExitsWithBadInput()
    {
        ReclipProcess.Result result = ReclipProcess.Run("info", "--no-such-option");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("--no-such-option"));
    }
}
