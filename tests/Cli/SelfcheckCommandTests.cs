using System.Text.Json;
using ReClip.Runtime.Cuda;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

[TestFixture]
public sealed class SelfcheckCommandTests
{
    [Test]
    public void CpuSelfcheckOfOneOpPassesAndReportsEveryOutput()
    {
        ReclipProcess.Result result = ReclipProcess.Run("selfcheck", "--device", "cpu", "--op", "layernorm", "--json");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement[] rows = [.. report.RootElement.GetProperty("results").EnumerateArray()];
        Assert.That(rows.Select(r => r.GetProperty("output").GetString()).Distinct(), Is.EquivalentTo(new[] { "y", "mean", "rstd", "y in bfloat16", "dx", "dgamma", "dbeta", "dx added to a stream", "x kept",
            "y beside x kept", "x kept beside a float32 y", "y in place" }));
        Assert.That(rows.All(r => r.GetProperty("passed").GetBoolean()), Is.True);
    }

    [Test]
    public void PlainOutputIsATableWithASummary()
    {
        ReclipProcess.Result result = ReclipProcess.Run("selfcheck", "--op", "argmax");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(result.Stdout, Does.Contain("op\tcase\toutput").And.Contain("outputs within tolerance"));
    }

    [Test]
    public void UnknownOpIsBadInput()
    {
        ReclipProcess.Result result = ReclipProcess.Run("selfcheck", "--op", "nosuchop");
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("nosuchop").And.Contain("LayerNorm"));
    }

    [Test]
    public void CudaWithoutADriverFailsWithOneLine()
    {
        if (CudaDriver.IsAvailable)
            Assert.Ignore("a CUDA driver is present on this machine");
        ReclipProcess.Result result = ReclipProcess.Run("selfcheck", "--device", "cuda", "--op", "layernorm");
        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Stderr.Trim().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("CUDA driver"));
    }
}
