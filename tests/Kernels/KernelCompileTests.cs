using System.Text.RegularExpressions;
using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

/// <summary>
/// Every embedded kernel source compiles with NVRTC for Ampere and Hopper, to PTX and through ptxas to machine code (which
/// catches what only the assembler checks: registers, shared memory, inline PTX an architecture lacks), and no kernel
/// spills registers; runs without a GPU, so CI checks every kernel.
/// </summary>
[TestFixture]
public sealed partial class KernelCompileTests
{
    private static IEnumerable<TestCaseData> Sources() =>
        from source in KernelSources.All
        from architecture in new[] { 80, 90 }
        select new TestCaseData(source.Name, architecture).SetArgDisplayNames(source.Name, $"sm_{architecture}");

    [Test]
    public void KernelsAreEmbedded() => Assert.That(KernelSources.All.Select(s => s.Name), Does.Contain("layernorm"));

    [TestCaseSource(nameof(Sources))]
    public void Compiles(string name, int architecture)
    {
        Requires.Nvrtc();
        KernelSource source = KernelSources.Get(name);
        CompiledProgram program = Nvrtc.Compile(source.Code, name + ".cu", [.. KernelCache.Options(new KernelTarget(architecture, MachineCode: true)), "--ptxas-options=-v"],
            source.NameExpressions, source.Headers);
        MatchCollection functions = FunctionProperties().Matches(program.Log);
        Assert.That(functions, Is.Not.Empty, $"ptxas's report:\n{program.Log}");
        string[] local = [.. functions.Where(f => f.Groups[2].Value != "0" || f.Groups[3].Value != "0" || f.Groups[4].Value != "0")
            .Select(f => $"{f.Groups[1].Value}: {f.Groups[2].Value} bytes stack frame, {f.Groups[3].Value} bytes spilled")];
        Assert.That(local, Is.Empty, $"no kernel keeps values in local memory (a stack frame or spilled registers), which is slow; ptxas's report:\n{program.Log}");
        Assert.That(program.Ptx, Does.Contain($".target sm_{architecture}"));
        Assert.That(program.Cubin, Is.Not.Null.And.Length.GreaterThan(4));
        Assert.That(program.Cubin![..4], Is.EqualTo(ElfMagic), "machine code is an ELF image");
        foreach (string expression in source.NameExpressions)
            Assert.That(program.Ptx, Does.Contain(program.LoweredNames[expression]), expression);
    }

    private static readonly byte[] ElfMagic = [0x7F, (byte)'E', (byte)'L', (byte)'F'];

    /// <summary>ptxas -v's lines for one kernel: its name, then its stack frame, spill stores and spill loads in bytes.</summary>
    [GeneratedRegex(@"Function properties for (\S+)\s*\n\s*ptxas\s*\.\s*(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex FunctionProperties();

    [Test]
    public void UnknownSourceNamesTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => KernelSources.Get("nope"));
        Assert.That(e!.Message, Does.Contain("layernorm"));
    }

    [TestCase(true, "cubin")]
    [TestCase(false, "ptx")]
    public void CompiledKernelsAreCachedOnDisk(bool machineCode, string extension)
    {
        Requires.Nvrtc();
        string folder = Directory.CreateTempSubdirectory("reclip-kernels-").FullName;
        try
        {
            var target = new KernelTarget(80, machineCode);
            KernelImage first = KernelCache.Compile(CacheProbe, target, folder);
            string[] files = Directory.GetFiles(folder, $"cache_probe-*.{extension}");
            Assert.That(files, Has.Length.EqualTo(1));
            Assert.That(File.ReadAllBytes(files[0]), Is.EqualTo(first.Image), "the file holds what the driver loads");
            if (machineCode)
                Assert.That(first.Image[..4], Is.EqualTo(ElfMagic));
            else
                Assert.That(first.Image[^1], Is.Zero, "PTX reaches the driver NUL-terminated");
            KernelImage second = KernelCache.Compile(CacheProbe, target, folder);
            Assert.That(second.Image, Is.EqualTo(first.Image));
            Assert.That(second.Target, Is.EqualTo(target));
            Assert.That(second.LoweredNames["fill<3>"], Is.EqualTo(first.LoweredNames["fill<3>"]).And.StartWith("_Z"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void ADamagedCacheEntryIsCompiledAgain()
    {
        Requires.Nvrtc();
        string folder = Directory.CreateTempSubdirectory("reclip-kernels-").FullName;
        try
        {
            var target = new KernelTarget(80, MachineCode: true);
            KernelImage first = KernelCache.Compile(CacheProbe, target, folder);
            string file = Directory.GetFiles(folder, "cache_probe-*.cubin").Single();
            File.WriteAllBytes(file, first.Image[..(first.Image.Length / 2)]);
            Assert.That(KernelCache.Compile(CacheProbe, target, folder).Image, Is.EqualTo(first.Image), "a truncated image is not handed to the driver");
            Assert.That(File.ReadAllBytes(file), Is.EqualTo(first.Image), "and is rewritten");
            File.WriteAllText(Path.ChangeExtension(file, ".json"), "{ not json");
            Assert.That(KernelCache.Compile(CacheProbe, target, folder).Image, Is.EqualTo(first.Image));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void ADeviceNvrtcKnowsGetsMachineCodeANewerOnePtx()
    {
        Requires.Nvrtc();
        int[] supported = Nvrtc.SupportedArchitectures();
        Assert.That(KernelCache.TargetFor(99, 9), Is.EqualTo(new KernelTarget(supported.Max(), MachineCode: false)), "PTX the driver compiles forward");
        Assert.That(KernelCache.TargetFor(8, 0), Is.EqualTo(new KernelTarget(80, MachineCode: true)));
        Assert.That(KernelCache.TargetFor(8, 0).Option, Is.EqualTo("--gpu-architecture=sm_80"));
        Assert.That(new KernelTarget(90, MachineCode: false).Option, Is.EqualTo("--gpu-architecture=compute_90"));
        Assert.That(() => KernelCache.TargetFor(1, 0), Throws.TypeOf<CudaUnavailableException>().With.Message.Contains("cannot target compute capability 1.0"));
    }

    [Test]
    public void ALoadFailureFromAnNvrtcNewerThanTheDriverSaysSo()
    {
        var cubin = new KernelTarget(90, MachineCode: true);
        var ptx = new KernelTarget(90, MachineCode: false);
        Assert.That(KernelCache.NewerThanDriverHint(cubin, new Version(13, 2), new Version(13, 0)), Is.Null, "machine code loads across minor versions");
        Assert.That(KernelCache.NewerThanDriverHint(ptx, new Version(13, 2), new Version(13, 0)),
            Is.EqualTo("NVRTC 13.2 is newer than the driver's CUDA 13.0; update the driver, or point RECLIP_CUDA_LIBS at the folder of an NVRTC no newer than CUDA 13.0"));
        Assert.That(KernelCache.NewerThanDriverHint(cubin, new Version(13, 0), new Version(12, 8)), Does.StartWith("NVRTC 13.0 is newer than the driver's CUDA 12.8"));
        Assert.That(KernelCache.NewerThanDriverHint(ptx, new Version(12, 4), new Version(13, 0)), Is.Null, "an older NVRTC is not the cause");
        Assert.That(KernelCache.NewerThanDriverHint(ptx, new Version(13, 0), new Version(13, 0)), Is.Null);
    }

    private static readonly KernelSource CacheProbe = new("cache_probe", "template <int N> __global__ void fill(float* x) { x[threadIdx.x] = N; }\n", ["fill<3>"]);
}
