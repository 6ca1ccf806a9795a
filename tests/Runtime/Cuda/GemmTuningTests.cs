using ReClip.Runtime.Cuda;

namespace ReClip.Tests.Runtime.Cuda;

/// <summary>The choice among timed GEMM algorithms and the switch that turns tuning on, without a GPU (the timing itself is in CublasTests).</summary>
[TestFixture]
public sealed class GemmTuningTests
{
    [Test]
    public void TheLeastTimeWinsAndAnAlgorithmThatDidNotRunNever()
    {
        ulong[] first = [1], second = [2], third = [3];
        Assert.That(GemmTuning.Fastest([first, second, third], a => a[0] switch { 1 => 0.03, 2 => 0.01, _ => 0.02 }), Is.EqualTo(1));
        Assert.That(GemmTuning.Fastest([first, second, third], a => a[0] == 2 ? null : a[0] * 0.01), Is.Zero, "the refused one is passed over");
        Assert.That(GemmTuning.Fastest([first, second], _ => null), Is.Zero, "the heuristic's first choice stands when none ran");
        Assert.That(GemmTuning.Fastest([first, second], _ => 0.01), Is.Zero, "a tie keeps the heuristic's order");
    }

    [TestCase(null, false)]
    [TestCase("", false)]
    [TestCase(" 0 ", false)]
    [TestCase("1", true)]
    public void TheVariableTurnsTuningOnWithOne(string? value, bool tuned) =>
        Assert.That(CublasLt.TuningRequested(value), Is.EqualTo(tuned));

    [TestCase("yes")]
    [TestCase("2")]
    public void AnyOtherValueIsRefusedWithTheVariableNamed(string value) =>
        Assert.That(() => CublasLt.TuningRequested(value),
            Throws.ArgumentException.With.Message.EqualTo($"RECLIP_TUNE_GEMMS: expected 1 (tune) or 0 (do not), got '{value}'"));
}
