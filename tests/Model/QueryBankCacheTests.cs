using ReClip.Model.Clip;
using ReClip.Model.ReClip;
using ReClip.Runtime.IO;
using ReClip.Runtime.Platform;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model;

/// <summary>The Query bank's disk cache: miss, hit, and every kind of bad file rebuilt rather than used.</summary>
[TestFixture]
public sealed class QueryBankCacheTests
{
    private const int Embed = 8;
    private static readonly string[] Names = ["sky", "horse", "grass"];

    private string folder = null!;
    private string weightsFile = null!;
    private int builds;

    [SetUp]
    public void Create()
    {
        folder = Path.Combine(Path.GetTempPath(), $"reclip-query-cache-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        weightsFile = Path.Combine(folder, "weights.safetensors");
        File.Copy(ClipFixture.PathOf("weights_openai.safetensors"), weightsFile);
        builds = 0;
    }

    [TearDown]
    public void Remove() => Directory.Delete(folder, recursive: true);

    private Tensor Build()
    {
        builds++;
        float[] values = new float[Names.Length * Embed];
        for (int i = 0; i < values.Length; i++) values[i] = i * 0.125f - 1;
        return Tensor.FromSpan<float>(values, [Names.Length, Embed]);
    }

    private const string Computation = "vocabulary, device and build";

    private Tensor Get(out QueryBankSource source, IReadOnlyList<string>? names = null) =>
        QueryBankCache.GetOrBuild(weightsFile, names ?? Names, Embed, Computation, Build, out source, Path.Combine(folder, "query"));

    private string CacheFile => QueryBankCache.FileFor(weightsFile, Names, Computation, Path.Combine(folder, "query"));

    [Test]
    public void MissBuildsAndStoresThenHitReads()
    {
        using Tensor built = Get(out QueryBankSource first);
        using Tensor cached = Get(out QueryBankSource second);
        Assert.Multiple(() =>
        {
            Assert.That((first, second, builds), Is.EqualTo((QueryBankSource.Built, QueryBankSource.Cache, 1)));
            Assert.That(File.Exists(CacheFile));
            Assert.That(cached.AsSpan<float>().ToArray(), Is.EqualTo(built.AsSpan<float>().ToArray()));
            Assert.That(Directory.GetFiles(Path.Combine(folder, "query")), Has.Length.EqualTo(1), "no temporary file is left behind");
        });
    }

    [Test]
    public void KeyDependsOnClassesTheirOrderAndTheWeightsFile()
    {
        string before = CacheFile;
        string other = QueryBankCache.FileFor(weightsFile, ["horse", "sky", "grass"], Computation, folder);
        string computedElsewise = QueryBankCache.FileFor(weightsFile, Names, "another vocabulary", Path.Combine(folder, "query"));
        File.SetLastWriteTimeUtc(weightsFile, File.GetLastWriteTimeUtc(weightsFile).AddSeconds(-10));
        Assert.Multiple(() =>
        {
            Assert.That(Path.GetFileName(other), Is.Not.EqualTo(Path.GetFileName(before)));
            Assert.That(computedElsewise, Is.Not.EqualTo(before), "a bank computed otherwise has its own key");
            Assert.That(CacheFile, Is.Not.EqualTo(before), "a rewritten weights file gets a new key");
            Assert.That(() => QueryBankCache.FileFor(Path.Combine(folder, "none.pt"), Names, Computation, folder), Throws.TypeOf<FileNotFoundException>());
        });
    }

    [Test]
    public void ComputationNamesTheVocabularyTheDeviceAndTheBuild()
    {
        string computation = QueryBankCache.Computation(ClipTokenizer.Default, Device.Cpu);
        Assert.Multiple(() =>
        {
            Assert.That(computation, Does.Contain(ClipTokenizer.Default.Fingerprint));
            Assert.That(computation, Does.Contain($"cpu {CpuInfo.Simd}"));
            Assert.That(computation, Does.Contain(typeof(QueryBank).Assembly.ManifestModule.ModuleVersionId.ToString()));
            Assert.That(QueryBankCache.Computation(ClipTokenizer.Default, Device.Cpu), Is.EqualTo(computation), "the same every time");
            Assert.That(QueryBankCache.Computation(ClipTokenizer.Default, new Device(DeviceKind.Cuda, 1)), Does.Contain("cuda:1"));
        });
    }

    [Test]
    public void GarbageFileIsRebuilt()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(CacheFile)!);
        File.WriteAllBytes(CacheFile, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
        AssertRebuilt();
    }

    [Test]
    public void NonFiniteValueIsRebuilt()
    {
        using (Tensor bad = Build())
        {
            bad.AsSpan<float>()[5] = float.NaN;
            QueryBankCache.Store(CacheFile, bad, Names);
        }
        AssertRebuilt();
    }

    [Test]
    public void WrongShapeIsRebuilt()
    {
        using (Tensor bad = Tensor.Zeros([Names.Length, Embed + 1]))
            QueryBankCache.Store(CacheFile, bad, Names);
        AssertRebuilt();
    }

    [Test]
    public void FileOfOtherClassesIsRebuilt()
    {
        using (Tensor bank = Build())
            QueryBankCache.Store(CacheFile, bank, ["a", "b", "c"]);
        AssertRebuilt();
    }

    [Test]
    public void DirectoryFollowsTheEnvironment()
    {
        string? saved = Environment.GetEnvironmentVariable(CacheFolders.Variable);
        try
        {
            Environment.SetEnvironmentVariable(CacheFolders.Variable, folder);
            Assert.That(QueryBankCache.Directory, Is.EqualTo(Path.Combine(folder, "query")));
        }
        finally
        {
            Environment.SetEnvironmentVariable(CacheFolders.Variable, saved);
        }
    }

    private void AssertRebuilt()
    {
        builds = 0;
        using Tensor bank = Get(out QueryBankSource source);
        using Tensor again = Get(out QueryBankSource next);
        Assert.Multiple(() =>
        {
            Assert.That((source, next, builds), Is.EqualTo((QueryBankSource.Rebuilt, QueryBankSource.Cache, 1)));
            Assert.That(bank.AsSpan<float>().ToArray(), Is.All.Matches<float>(float.IsFinite));
        });
    }
}
