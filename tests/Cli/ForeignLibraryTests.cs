using System.Text.Json;
using ReClip.Model.Data;
using ReClip.Model.Data.Synthetic;
using ReClip.Runtime.Cuda;
using ReClip.Tests.Model;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>
/// A file under a CUDA library's name that is not that library (another shared library, or no library at all), put
/// first in the search through RECLIP_CUDA_LIBS. It is passed over: "auto" runs on the CPU, a CUDA device asked for is
/// refused with one line naming the file, and `reclip info` says what the file is. Each command is its own process,
/// as the search runs once per process.
/// </summary>
[TestFixture]
public sealed class ForeignLibraryTests
{
    private const string DriverFile = "libcuda.so.1";

    /// <summary>Where a Linux system keeps zlib, a shared library with none of CUDA's entry points.</summary>
    private static readonly string[] LibraryFolders =
        ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib"];

    private static readonly string[] Names = ["sky", "horse", "grass"];

    private string folder = "";
    private string libraries = "";
    private string data = "";
    private string image = "";

    [OneTimeSetUp]
    public void CreateFolder()
    {
        folder = Directory.CreateTempSubdirectory("reclip-foreign-library-").FullName;
        data = Path.Combine(folder, "data");
        SyntheticDataset.Write(data, 2, seed: 4);
        CachedQueryBank.Store(folder, SyntheticClasses.Names);
        CachedQueryBank.Store(folder, Names);
        image = Path.Combine(folder, "image.png");
        var picture = new RgbImage(40, 30);
        for (int i = 0; i < picture.Pixels.Length; i++) picture.Pixels[i] = (byte)(i * 5 % 251);
        PngFiles.WriteRgb(image, picture);
    }

    [OneTimeTearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [SetUp]
    public void CreateLibraryFolder() => libraries = Directory.CreateDirectory(Path.Combine(folder, TestContext.CurrentContext.Test.ID)).FullName;

    [TearDown]
    public void DeleteLibraryFolder() => Directory.Delete(libraries, recursive: true);

    /// <summary>A copy of zlib named <paramref name="name"/> in the test's library folder; skips where no zlib is found.</summary>
    private string PlantSharedLibrary(string name)
    {
        string? zlib = LibraryFolders.Select(directory => Path.Combine(directory, "libz.so.1")).FirstOrDefault(File.Exists);
        if (zlib is null)
            Assert.Ignore($"no libz.so.1 in {string.Join(", ", LibraryFolders)} to stand in for a CUDA library");
        string path = Path.Combine(libraries, name);
        File.Copy(zlib, path);
        return path;
    }

    private ReclipProcess.Result Reclip(params string[] arguments)
    {
        Dictionary<string, string> environment = CachedQueryBank.Environment(folder);
        environment[NativeLibraries.SearchPathVariable] = libraries;
        return ReclipProcess.Run(environment, arguments);
    }

    private ReclipProcess.Result Eval(params string[] arguments) =>
        Reclip(["eval", "--weights", ClipFixture.PathOf("weights_openai.safetensors"), "--dataset", "folder", "--root", data, "--method", "maskclip", "--json", .. arguments]);

    private static void SkipWhereTheDriverLoads()
    {
        if (NativeLibraries.Driver.IsLoaded)
            Assert.Ignore($"a CUDA driver ({NativeLibraries.Driver.Path}) lies later in the search and takes the planted file's place");
    }

    private static void AssertOneLine(ReclipProcess.Result result, string file, string reason)
    {
        Assert.That(result.ExitCode, Is.EqualTo(2), result.Stderr);
        Assert.That(result.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1), result.Stderr);
        Assert.That(result.Stderr, Does.Contain(file).And.Contain(reason));
    }

    [TestCase(DriverFile)]
    [TestCase("libnvrtc.so.13")]
    [TestCase("libcublas.so.13")]
    [TestCase("libcublasLt.so.13")]
    public void AutoDeviceRunsOnWhatIsUsable(string name)
    {
        PlantSharedLibrary(name);
        ReclipProcess.Result result = Eval();
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        Assert.That(report.RootElement.GetProperty("images").GetInt32(), Is.EqualTo(2));
    }

    [Test]
    public void SegmentWithoutADeviceRuns()
    {
        PlantSharedLibrary(DriverFile);
        string mask = Path.Combine(libraries, "mask.png");
        ReclipProcess.Result result = Reclip("segment", "--weights", ClipFixture.PathOf("weights_openai.safetensors"), "--image", image,
            "--short-side", "24", "--classes", string.Join(',', Names), "--out", mask);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(File.Exists(mask), Is.True);
    }

    [Test]
    public void CudaDeviceIsRefusedWithOneLineNamingTheFile()
    {
        SkipWhereTheDriverLoads();
        string planted = PlantSharedLibrary(DriverFile);
        ReclipProcess.Result result = Eval("--device", "cuda");
        AssertOneLine(result, planted, "has no cuInit");
        Assert.That(result.Stderr, Does.StartWith("reclip: --device cuda: "));
    }

    [Test]
    public void SelfcheckOnCudaFailsWithOneLineNamingTheFile()
    {
        SkipWhereTheDriverLoads();
        string planted = PlantSharedLibrary(DriverFile);
        AssertOneLine(Reclip("selfcheck", "--device", "cuda"), planted, "has no cuInit");
    }

    [Test]
    public void AFileThatIsNoLibraryIsRefusedWithTheLoadersReason()
    {
        SkipWhereTheDriverLoads();
        string planted = Path.Combine(libraries, DriverFile);
        File.WriteAllText(planted, string.Concat(Enumerable.Repeat("not a shared library\n", 16)));
        ReclipProcess.Result result = Reclip("selfcheck", "--device", "cuda", "--op", "layernorm");
        AssertOneLine(result, planted, $"{planted} does not load: ");
        Assert.That(result.Stderr, Does.Not.Contain("LD_DEBUG"), "the loader's reason, without .NET's advice around it");
    }

    /// <summary>
    /// `reclip info` names the planted file and the entry point it lacks, or, where the real library lies later in the
    /// search (NVRTC is installed on CI machines), shows that one.
    /// </summary>
    [TestCase(DriverFile, "driver", "cuInit")]
    [TestCase("libnvrtc.so.13", "nvrtc", "nvrtcVersion")]
    [TestCase("libcublas.so.13", "cublas", "cublasCreate_v2")]
    [TestCase("libcublasLt.so.13", "cublas_lt", "cublasLtCreate")]
    public void InfoTellsWhatThePlantedFileLacks(string name, string component, string entryPoint)
    {
        string planted = PlantSharedLibrary(name);
        ReclipProcess.Result result = Reclip("info", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement status = report.RootElement.GetProperty("system").GetProperty(component);
        if (status.GetProperty("found").GetBoolean())
            Assert.That(status.GetProperty("path").GetString(), Is.Not.EqualTo(planted));
        else
            Assert.That(status.GetProperty("problem").GetString(), Does.Contain($"{planted} has no {entryPoint}"));
    }
}
