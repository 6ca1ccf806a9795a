using ReClip.Model.Data.Datasets;
using ReClip.Model.Training;

namespace ReClip.Tests.Model.Training;

[TestFixture]
public sealed class TrainingMetadataTests
{
    [Test]
    public void AnImageTowerInBFloat16IsASettingThatFloat32RunsDoNotWrite()
    {
        var options = new TrainerOptions(DatasetPreset.Folder with { NumClasses = 2 }, "unused", Seed: 1);
        string float32 = new TrainingMetadata(options, ["sky", "sea"]).Settings;
        string bfloat16 = new TrainingMetadata(options, ["sky", "sea"], imageInBFloat16: true).Settings;
        Assert.Multiple(() =>
        {
            // Absent for float32, so the checkpoints of float32 runs written before the setting existed still resume.
            Assert.That(float32, Does.Not.Contain("image_tower"));
            Assert.That(bfloat16, Does.Contain("\"image_tower\":\"bfloat16\""));
        });
    }
}
