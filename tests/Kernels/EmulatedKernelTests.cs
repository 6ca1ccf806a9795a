using System.Diagnostics;
using ReClip.Kernels.Cuda;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

/// <summary>
/// Every kernel source runs on the CPU emulator of tools/cuda-emulator against a double-precision reference of its
/// own, so the kernels' indexing, masking and reductions are checked on machines without a GPU (skipped where g++
/// is missing). The checks mirror the launchers' grids and arguments; on a GPU, OpCatalogTests runs the real thing.
/// </summary>
[TestFixture]
public sealed class EmulatedKernelTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    private static string Folder => Path.GetDirectoryName(CheckoutFile.Find("tools/cuda-emulator/run.sh"))!;

    private static IEnumerable<TestCaseData> Checks() =>
        Directory.GetFiles(Path.Combine(Folder, "checks"), "*.cpp").Order(StringComparer.Ordinal)
            .Select(file => new TestCaseData(Path.GetFileNameWithoutExtension(file)).SetArgDisplayNames(Path.GetFileNameWithoutExtension(file)));

    [Test]
    public void EveryKernelSourceHasACheck()
    {
        string[] checks = [.. Checks().Select(data => (string)data.Arguments[0]!)];
        Assert.That(KernelSources.All.Select(source => source.Name), Is.SubsetOf(checks), "a kernels/*.cu without tools/cuda-emulator/checks/<name>.cpp");
    }

    [TestCaseSource(nameof(Checks))]
    public void PassesOnTheEmulator(string name)
    {
        Requires.Program("g++");
        string build = Directory.CreateTempSubdirectory("reclip-emulator-").FullName;
        try
        {
            var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(Path.Combine(Folder, "run.sh"));
            start.ArgumentList.Add(name);
            start.Environment["RECLIP_EMULATOR_BUILD"] = build;
            using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start bash");
            Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Limit))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"the emulated check {name} did not finish within {Limit}");
            }
            Assert.That(process.ExitCode, Is.Zero, $"{stdout.Result}\n{stderr.Result}");
        }
        finally
        {
            Directory.Delete(build, recursive: true);
        }
    }
}
