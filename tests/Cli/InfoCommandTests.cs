using System.Text.Json;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

[TestFixture]
public sealed class InfoCommandTests
{
    [Test]
    public void InfoRunsWithoutAGpuAndReportsEveryComponent()
    {
        ReclipProcess.Result result = ReclipProcess.Run("info", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement root = report.RootElement;
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
    public void UnknownOptionExitsWithBadInput()
    {
        ReclipProcess.Result result = ReclipProcess.Run("info", "--no-such-option");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("--no-such-option"));
    }
}
