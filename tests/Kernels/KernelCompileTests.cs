using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

/// <summary>Every embedded kernel source compiles with NVRTC for Ampere and Hopper; runs without a GPU, so CI checks every kernel.</summary>
[TestFixture]
public sealed class KernelCompileTests
{
    private static IEnumerable<TestCaseData> Sources() =>
        from source in KernelSources.All
        from architecture in new[] { 80, 90 }
        select new TestCaseData(source.Name, architecture).SetArgDisplayNames(source.Name, $"compute_{architecture}");

    [Test]
    public void KernelsAreEmbedded() => Assert.That(KernelSources.All.Select(s => s.Name), Does.Contain("layernorm"));

    [TestCaseSource(nameof(Sources))]
    public void Compiles(string name, int architecture)
    {
        Requires.Nvrtc();
        KernelSource source = KernelSources.Get(name);
        CompiledProgram program = Nvrtc.Compile(source.Code, name + ".cu", KernelCache.Options(architecture), source.NameExpressions, source.Headers);
        Assert.That(program.Ptx, Does.Contain($".target sm_{architecture}"));
        foreach (string expression in source.NameExpressions)
            Assert.That(program.Ptx, Does.Contain(program.LoweredNames[expression]), expression);
    }

    [Test]
    public void UnknownSourceNamesTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => KernelSources.Get("nope"));
        Assert.That(e!.Message, Does.Contain("layernorm"));
    }

    [Test]
    public void CompiledPtxIsCachedOnDisk()
    {
        Requires.Nvrtc();
        string folder = Directory.CreateTempSubdirectory("reclip-kernels-").FullName;
        try
        {
            var source = new KernelSource("cache_probe", "template <int N> __global__ void fill(float* x) { x[threadIdx.x] = N; }\n", ["fill<3>"]);
            CompiledProgram first = KernelCache.Compile(source, 80, folder);
            Assert.That(Directory.GetFiles(folder, "cache_probe-*.ptx"), Has.Length.EqualTo(1));
            CompiledProgram second = KernelCache.Compile(source, 80, folder);
            Assert.That(second.Ptx, Is.EqualTo(first.Ptx));
            Assert.That(second.LoweredNames["fill<3>"], Is.EqualTo(first.LoweredNames["fill<3>"]).And.StartWith("_Z"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void ArchitectureIsCappedAtWhatNvrtcSupports()
    {
        Requires.Nvrtc();
        int newest = Nvrtc.SupportedArchitectures().Max();
        Assert.That(KernelCache.ArchitectureFor(99, 9), Is.EqualTo(newest));
        Assert.That(KernelCache.ArchitectureFor(8, 6), Is.EqualTo(86).Or.EqualTo(80));
    }
}
