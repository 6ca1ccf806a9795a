using System.Diagnostics;
using ReClip.Cli;
using ReClip.Cli.Commands;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;
using ReClip.Tests.Runtime;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>
/// `reclip info --weights FILE` on every file of <see cref="HostileWeightCorpus"/>: exit code 1, one line
/// naming the file and the problem, bounded time and allocation, no payload run. The corpus goes through
/// the command's own code in-process (<see cref="WeightsReport.Read"/>, <see cref="Failure"/>); a handful
/// of files also go through a real `reclip` process.
/// </summary>
[TestFixture]
public sealed class HostileWeightFileTests
{
    /// <summary>The slowest refusal (inflating a 32 MiB bomb, a million-entry memo) takes well under a second; 5 s leaves room for a loaded machine.</summary>
    private static readonly TimeSpan MaxTimePerFile = TimeSpan.FromSeconds(5);

    /// <summary>The biggest legitimate cost is the 32 MiB bomb inflated once, and a million stack or memo slots; 500 MB is an order of magnitude above.</summary>
    private const long MaxAllocatedBytes = 500L << 20;

    /// <summary>A `reclip` process refusing a file peaks at ~45 MB resident, ~80 MB for the 32 MiB bomb (its inflated record); 500 MB means a bound is missing.</summary>
    private const long MaxPeakWorkingSet = 500L << 20;

    /// <summary>The corpus as the issue asks for it: at least fifty hostile files.</summary>
    private const int MinCorpusSize = 50;

    private static readonly string[] ProcessCases =
    [
        "st-truncated-at-9", "st-header-length-u64-max", "pt-zip-path-parent", "pt-zip-bomb-32mib-of-zeros", "global-os.system", "pickle-memo-shared-dag",
    ];

    private string folder = "";

    [SetUp]
    public void CreateFolder()
    {
        folder = Directory.CreateTempSubdirectory("reclip-hostile-").FullName;
        Directory.CreateDirectory(HostileWeightCorpus.MarkerFolder);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private static IEnumerable<TestCaseData> Corpus() =>
        HostileWeightCorpus.All().Select(file => new TestCaseData(file).SetArgDisplayNames(file.Name));

    private static IEnumerable<TestCaseData> ProcessCorpus() =>
        HostileWeightCorpus.All().Where(file => ProcessCases.Contains(file.Name)).Select(file => new TestCaseData(file).SetArgDisplayNames(file.Name));

    [Test]
    public void AFolderIsNotAWeightFile()
    {
        var error = Assert.Throws<WeightFileException>(() => WeightFiles.Open(folder).Dispose());
        Assert.That(error!.Message, Is.EqualTo($"{folder}: is a folder, not a weight file"));
    }

    [Test]
    public void TheCorpusIsLargeAndEachCaseIsNamedOnce()
    {
        string[] names = [.. HostileWeightCorpus.All().Select(file => file.Name)];
        Assert.That(names, Has.Length.GreaterThanOrEqualTo(MinCorpusSize).And.Unique);
        Assert.That(ProcessCases, Is.SubsetOf(names));
    }

    [TestCaseSource(nameof(Corpus))]
    public void InfoRefusesWithBadInputAndOneLine(HostileWeightFile file)
    {
        string path = Write(file);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        Exception? error = null;
        try
        {
            WeightsReport.Read(path);
        }
        catch (Exception e)
        {
            error = e;
        }
        clock.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        Assert.That(error, Is.Not.Null, "the file was accepted");
        string line = $"reclip: {Failure.OneLine(error!)}";
        Assert.Multiple(() =>
        {
            Assert.That(error, Is.InstanceOf<WeightFileException>(), error!.ToString());
            Assert.That(Failure.ExitCodeOf(error!), Is.EqualTo(ExitCode.BadInput));
            Assert.That(line, Does.Contain(path).And.Contain(file.Expected));
            Assert.That(line, Does.Not.Contain('\n').And.Not.Contain('\r'));
            Assert.That(clock.Elapsed, Is.LessThan(MaxTimePerFile));
            Assert.That(allocated, Is.LessThan(MaxAllocatedBytes));
            if (file.Marker is not null)
                Assert.That(File.Exists(file.Marker), Is.False, "the payload ran");
        });
    }

    [TestCaseSource(nameof(ProcessCorpus))]
    public void TheReclipProcessRefusesWithExitCodeOneAndOneStderrLine(HostileWeightFile file)
    {
        string path = Write(file);
        var clock = Stopwatch.StartNew();
        ReclipProcess.Result result = ReclipProcess.Run("info", "--weights", path);
        clock.Stop();
        TestContext.Out.WriteLine($"{file.Name}: {clock.Elapsed.TotalMilliseconds:F0} ms, peak working set {result.PeakWorkingSet >> 20} MiB");
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput), result.Stderr);
            Assert.That(result.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
            Assert.That(result.Stderr, Does.StartWith("reclip: ").And.Contain(path).And.Contain(file.Expected));
            // A process start costs ~1 s of this on the 2-core CI machine.
            Assert.That(clock.Elapsed, Is.LessThan(MaxTimePerFile + TimeSpan.FromSeconds(5)));
            Assert.That(result.PeakWorkingSet, Is.GreaterThan(0L).And.LessThan(MaxPeakWorkingSet), "peak working set, sampled");
            if (file.Marker is not null)
                Assert.That(File.Exists(file.Marker), Is.False, "the payload ran");
        });
    }

    /// <summary>NaN weights are a well-formed file: opening and loading succeed, and <see cref="WeightChecks.RequireFinite"/> is what catches them.</summary>
    [TestCase(DType.F32)]
    [TestCase(DType.F16)]
    [TestCase(DType.BF16)]
    public void NaNWeightsLoadAndAreCaughtByRequireFinite(DType dtype)
    {
        string path = Path.Combine(folder, "nan.safetensors");
        using (Tensor good = FromFloats([1, 2, 3], dtype))
        using (Tensor bad = FromFloats([1, float.NaN, float.PositiveInfinity], dtype))
            SafetensorsWriter.Write(path, [new("good", good), new("bad", bad)]);

        using IWeightFile weights = WeightFiles.Open(path);
        using Tensor finite = weights.Load("good");
        using Tensor loaded = weights.Load("bad");
        Assert.DoesNotThrow(() => WeightChecks.RequireFinite(finite, path, "good"));
        var error = Assert.Throws<WeightFileException>(() => WeightChecks.RequireFinite(loaded, path, "bad"));
        Assert.That(error.Message, Does.StartWith(path).And.Contain("tensor 'bad'").And.Contain("element 1 is NaN"));
    }

    private static Tensor FromFloats(float[] values, DType dtype) => dtype switch
    {
        DType.F32 => Tensor.FromSpan<float>(values, [values.Length]),
        DType.F16 => Tensor.FromSpan<Half>([.. values.Select(v => (Half)v)], [values.Length]),
        DType.BF16 => Tensor.FromSpan<BFloat16>([.. values.Select(v => (BFloat16)v)], [values.Length]),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a float dtype"),
    };

    private string Write(HostileWeightFile file)
    {
        string path = Path.Combine(folder, file.Name + (file.Name.StartsWith("st-", StringComparison.Ordinal) ? ".safetensors" : ".pt"));
        File.WriteAllBytes(path, file.Bytes);
        if (file.Marker is not null)
            File.Delete(file.Marker);
        return path;
    }
}
