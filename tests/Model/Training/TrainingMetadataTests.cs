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

    [Test]
    public void TensorFloat32StepsAreASettingThatFloat32RunsDoNotWrite()
    {
        var options = new TrainerOptions(DatasetPreset.Folder with { NumClasses = 2 }, "unused", Seed: 1);
        string float32 = new TrainingMetadata(options, ["sky", "sea"]).Settings;
        string tf32 = new TrainingMetadata(options with { TensorFloat32 = true }, ["sky", "sea"]).Settings;
        Assert.Multiple(() =>
        {
            Assert.That(float32, Does.Not.Contain("float32_gemms"));
            Assert.That(tf32, Does.Contain("\"float32_gemms\":\"tf32\""), "so that a resume with other GEMMs is refused");
        });
    }
}
