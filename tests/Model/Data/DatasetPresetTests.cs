using ReClip.Model.Data.Datasets;

namespace ReClip.Tests.Model.Data;

[TestFixture]
public sealed class DatasetPresetTests
{
    [TestCase("voc", 20, true, 336, 336, 1.0, 56, 28, 0.01, 1)]
    [TestCase("context", 59, true, 448, 480, 0.85, 80, 40, 0.01, 1)]
    [TestCase("ade", 150, true, 512, 512, 0.5, 85, 42, 0.01, 1)]
    [TestCase("cityscapes", 19, false, 448, 512, 0.5, 85, 42, 0.16, 16)]
    [TestCase("stuff", 27, false, 512, 512, 0.95, 85, 42, 0.01, 1)]
    public void PresetsHoldTheHeadConfigs(string name, int classes, bool reduceZero, int shortSide, int crop, double pd, int window, int stride, double lr, int batch)
    {
        DatasetPreset preset = DatasetPreset.Named(name);
        Assert.That(preset.NumClasses, Is.EqualTo(classes));
        Assert.That(DatasetClasses.Of(preset.Layout), Has.Count.EqualTo(classes));
        Assert.That(preset.ReduceZeroLabel, Is.EqualTo(reduceZero));
        Assert.That((preset.TrainScaleLong, preset.TrainScaleShort, preset.TestScaleLong, preset.TestScaleShort), Is.EqualTo((2048, shortSide, 2048, shortSide)));
        Assert.That(preset.CropSize, Is.EqualTo(crop));
        Assert.That((preset.RatioMin, preset.RatioMax, preset.CatMaxRatio), Is.EqualTo((0.5, 2.0, 0.75)));
        Assert.That(preset.PromptDenoisingThreshold, Is.EqualTo(pd));
        Assert.That((preset.HypothesisWindow, preset.HypothesisStride), Is.EqualTo((window, stride)));
        Assert.That((preset.LearningRate, preset.BatchSize), Is.EqualTo((lr, batch)));
    }

    [Test]
    public void AnyValueCanBeOverridden()
    {
        DatasetPreset voc512 = DatasetPreset.Voc with { TrainScaleShort = 512, CropSize = 512 };
        Assert.That((voc512.TrainScaleShort, voc512.CropSize, voc512.NumClasses), Is.EqualTo((512, 512, 20)));
        Assert.That(DatasetPreset.Voc.CropSize, Is.EqualTo(336));
    }

    [Test]
    public void AnUnknownNameListsTheKnownOnes()
    {
        Assert.That(() => DatasetPreset.Named("kitti"), Throws.ArgumentException.With.Message.Contains("voc, context, ade, cityscapes, stuff, folder"));
    }
}
