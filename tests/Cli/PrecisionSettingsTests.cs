using ReClip.Cli.Commands;

namespace ReClip.Tests.Cli;

/// <summary>What a shard records of --image-bf16 and --tf32: only what differs from float32, so that older float32 shards still merge.</summary>
[TestFixture]
public sealed class PrecisionSettingsTests
{
    [TestCase(false, false, new string[0])]
    [TestCase(true, false, new[] { "image_tower=bfloat16" })]
    [TestCase(false, true, new[] { "float32_gemms=tf32" })]
    [TestCase(true, true, new[] { "image_tower=bfloat16", "float32_gemms=tf32" })]
    public void OnlyWhatIsNotFloat32IsRecorded(bool imageInBFloat16, bool tensorFloat32, string[] expected) =>
        Assert.That(PipelineOptions.PrecisionSettings(imageInBFloat16, tensorFloat32).Select(setting => $"{setting.Key}={setting.Value}"), Is.EqualTo(expected));
}
