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

    /// <summary>Every command takes --debug-kernels (kernel sources and compile logs go to stderr), so stdout stays the command's.</summary>
    [Test]
    public void EveryCommandTakesDebugKernels()
    {
        ReclipProcess.Result result = ReclipProcess.Run("info", "--json", "--debug-kernels");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        Assert.That(report.RootElement.TryGetProperty("system", out _), Is.True);
        Assert.That(ReclipProcess.Run("train", "--help").Stdout, Does.Contain("--debug-kernels"));
    }

    [Test]
    public void AStubsFolderIsNeverSearched()
    {
        // CUDA's stubs folders hold link-time stand-ins that load but fail every call (a stub libcuda made cuInit
        // fail on a GPU machine): a library there must be passed over for the next place the search looks.
        if (!ReClip.Runtime.Cuda.NativeLibraries.Nvrtc.IsLoaded)
            Assert.Ignore("NVRTC is not installed here");
        string found = ReClip.Runtime.Cuda.NativeLibraries.Nvrtc.Path!;
        string real = Path.IsPathRooted(found) ? found : Path.Combine("/lib/x86_64-linux-gnu", found);
        if (!File.Exists(real))
            Assert.Ignore($"NVRTC was found as {found}, not at a path this test can link to");
        string stubs = Directory.CreateDirectory(Path.Combine(folder, "stubs")).FullName;
        File.CreateSymbolicLink(Path.Combine(stubs, Path.GetFileName(real)), real);
        ReclipProcess.Result result = ReclipProcess.Run(new Dictionary<string, string> { ["RECLIP_CUDA_LIBS"] = stubs }, "info", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement nvrtc = report.RootElement.GetProperty("system").GetProperty("nvrtc");
        Assert.That(nvrtc.GetProperty("found").GetBoolean(), Is.True);
        Assert.That(nvrtc.GetProperty("path").GetString(), Does.Not.StartWith(stubs));
    }

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
            foreach (string component in new[] { "driver", "nvrtc", "cublas", "cublas_lt" })
            {
                JsonElement status = root.GetProperty(component);
                bool found = status.GetProperty("found").GetBoolean();
                string? detail = found ? status.GetProperty("path").GetString() : status.GetProperty("problem").GetString();
                Assert.That(detail, Is.Not.Null.And.Not.Empty, $"{component}: a path when found, a reason when not");
            }
            // What the kernels compile to, per device: sm_XX machine code or compute_XX PTX (null without NVRTC; no entry without a GPU).
            JsonElement targets = root.GetProperty("kernel_targets");
            Assert.That(targets.GetArrayLength(), Is.EqualTo(root.GetProperty("devices").GetArrayLength()));
            foreach (JsonElement target in targets.EnumerateArray().Where(t => t.ValueKind != JsonValueKind.Null))
                Assert.That(target.GetString(), Does.Match("^(sm_[0-9]+ \\(machine code\\)|compute_[0-9]+ \\(PTX|NVRTC )"));
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
        Assert.That(weights.GetProperty("checksum").GetString(), Is.EqualTo("the data section's CRC-32 ok"));
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

    /// <summary>
    /// `info --weights` checks a PyTorch checkpoint's every entry against its CRC-32, so a corrupt weight shows there,
    /// where it lists tensors without loading them.
    /// </summary>
    [Test]
    public void ACheckpointsChecksumsAreCheckedOverTheWholeFile()
    {
        string source = Path.Combine(AppContext.BaseDirectory, "fixtures", "clip", "weights_torchscript.pt");
        ReclipProcess.Result intact = ReclipProcess.Run("info", "--weights", source);
        Assert.That(intact.Stdout, Does.Contain("checksums: the CRC-32 of 155 zip entries ok"));

        byte[] bytes = File.ReadAllBytes(source);
        using var archive = new System.IO.Compression.ZipArchive(new MemoryStream(bytes));
        System.IO.Compression.ZipArchiveEntry largest = archive.Entries.MaxBy(e => e.Length)!;
        byte[] first = new byte[64];
        using (Stream content = largest.Open())
            content.ReadExactly(first);
        // PyTorch stores its entries uncompressed, so the entry's bytes are the file's.
        int at = bytes.AsSpan().IndexOf(first);
        Assert.That(at, Is.GreaterThan(0), "the largest entry is stored");
        bytes[at + 40] ^= 0x01;
        string corrupt = Path.Combine(folder, "corrupt.pt");
        File.WriteAllBytes(corrupt, bytes);
        ReclipProcess.Result result = ReclipProcess.Run("info", "--weights", corrupt);
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain($"{corrupt}: zip: entry '{largest.FullName}' fails its CRC-32 check"));
    }

    [Test]
    public void UnknownOptionExitsWithBadInput()
    {
        ReclipProcess.Result result = ReclipProcess.Run("info", "--no-such-option");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("--no-such-option"));
    }
}
