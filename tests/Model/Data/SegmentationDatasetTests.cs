using ReClip.Model.Data;
using ReClip.Model.Data.Datasets;
using ReClip.Model.Data.Synthetic;

namespace ReClip.Tests.Model.Data;

[TestFixture]
public sealed class SegmentationDatasetTests
{
    // Raw values as stored, and what REDUCE_ZERO_LABEL makes of them: 0 → 255, v → v − 1, 255 stays.
    private static readonly byte[,] VocRaw = { { 0, 1, 20 }, { 255, 15, 0 } };
    private static readonly byte[] VocReduced = [255, 0, 19, 255, 14, 255];

    private DatasetFolders folders = null!;

    [SetUp]
    public void CreateFolder() => folders = new DatasetFolders();

    [TearDown]
    public void DeleteFolder() => folders.Dispose();

    [Test]
    public void VocKeepsTheSplitFileOrderAndReducesZeroInPaletteLabels()
    {
        WriteVoc("2007_000033", "2007_000032");
        SegmentationDataset voc = SegmentationDataset.Open(DatasetPreset.Voc, folders.Root, "train");
        Assert.That(voc.Samples.Select(s => s.Id), Is.EqualTo(new[] { "2007_000033", "2007_000032" }));
        Assert.That(voc.Samples[0].ImagePath, Is.EqualTo(folders.PathOf("JPEGImages/2007_000033.jpg")));
        Assert.That(voc.Samples[0].LabelPath, Is.EqualTo(folders.PathOf("SegmentationClass/2007_000033.png")));
        Assert.That(voc.Classes, Has.Count.EqualTo(20));
        Assert.That(voc.Classes[0], Is.EqualTo("airplane"));
        Assert.That(voc.Classes[19], Is.EqualTo("tv monitor"));
        (RgbImage image, LabelMap labels) = voc.Read(voc.Samples[0]);
        Assert.That((image.Width, image.Height), Is.EqualTo((3, 2)));
        Assert.That(labels.Labels, Is.EqualTo(VocReduced));
    }

    [Test]
    public void ContextReadsGrayLabelsWithReducedZero()
    {
        folders.Text("ImageSets/SegmentationContext/val.txt", "2008_000002");
        folders.Jpeg("JPEGImages/2008_000002.jpg", 3, 2);
        folders.GrayLabels("SegmentationClassContext/2008_000002.png", new byte[,] { { 0, 1, 59 }, { 30, 255, 2 } });
        SegmentationDataset context = SegmentationDataset.Open(DatasetPreset.Context, folders.Root, "val");
        Assert.That(context.Classes, Has.Count.EqualTo(59));
        Assert.That(context.Preset.NumClasses, Is.EqualTo(59));
        Assert.That(context.ReadLabels(context.Samples[0]).Labels, Is.EqualTo(new byte[] { 255, 0, 58, 29, 255, 1 }));
    }

    [Test]
    public void AdeListsEveryJpegOfTheSplitFolderInOrdinalOrder()
    {
        foreach (string id in new[] { "ADE_val_00000002", "ADE_val_00000010", "ADE_val_00000001" })
        {
            folders.Jpeg($"images/validation/{id}.jpg", 4, 4);
            folders.GrayLabels($"annotations/validation/{id}.png", new byte[,] { { 0, 150, 1, 2 }, { 0, 0, 0, 0 }, { 3, 3, 3, 3 }, { 4, 4, 4, 4 } });
        }
        folders.Text("images/validation/notes.txt", "not an image");
        SegmentationDataset ade = SegmentationDataset.Open(DatasetPreset.Ade, folders.Root, "val");
        Assert.That(ade.Samples.Select(s => s.Id), Is.EqualTo(new[] { "ADE_val_00000001", "ADE_val_00000002", "ADE_val_00000010" }));
        Assert.That(ade.Samples[0].LabelPath, Is.EqualTo(folders.PathOf("annotations/validation/ADE_val_00000001.png")));
        Assert.That(ade.Classes, Has.Count.EqualTo(150));
        Assert.That(ade.Classes[7], Is.EqualTo("bed "));
        Assert.That(ade.ReadLabels(ade.Samples[0]).Labels[..4], Is.EqualTo(new byte[] { 255, 149, 0, 1 }));
    }

    [Test]
    public void CityscapesNamesFilesFromTheSplitEntriesAndKeepsTrainIds()
    {
        folders.Text("train.txt", "aachen/aachen_000000_000019");
        folders.RgbPng("leftImg8bit/train/aachen/aachen_000000_000019_leftImg8bit.png", 2, 2);
        folders.GrayLabels("gtFine/train/aachen/aachen_000000_000019_gtFine_labelTrainIds.png", new byte[,] { { 0, 18 }, { 255, 7 } });
        SegmentationDataset city = SegmentationDataset.Open(DatasetPreset.Cityscapes, folders.Root, "train");
        Assert.That(city.Classes, Has.Count.EqualTo(19));
        Assert.That(city.Read(city.Samples[0]).Labels.Labels, Is.EqualTo(new byte[] { 0, 18, 255, 7 }));
    }

    [Test]
    public void CocoStuffPairsEachJpegWithIts27LabelTrainIds()
    {
        folders.Jpeg("images/train2017/000000000009.jpg", 2, 1);
        folders.GrayLabels("annotations/train2017/000000000009_27labelTrainIds.png", new byte[,] { { 0, 26 } });
        SegmentationDataset coco = SegmentationDataset.Open(DatasetPreset.CocoStuff, folders.Root, "train");
        Assert.That(coco.Classes, Has.Count.EqualTo(27));
        Assert.That(coco.Classes[26], Is.EqualTo("water"));
        Assert.That(coco.ReadLabels(coco.Samples[0]).Labels, Is.EqualTo(new byte[] { 0, 26 }));
    }

    [Test]
    public void TheFolderThatSynthWritesReadsBack()
    {
        SyntheticDataset.Write(folders.Root, 3, seed: 5, size: 64);
        SegmentationDataset folder = SegmentationDataset.Open(DatasetPreset.Folder, folders.Root, "train");
        Assert.That(folder.Classes, Is.EqualTo(SyntheticClasses.Names));
        Assert.That(folder.Preset.NumClasses, Is.EqualTo(SyntheticClasses.Names.Count));
        Assert.That(folder.Samples.Select(s => s.Id), Is.EqualTo(new[] { "000000", "000001", "000002" }));
        (RgbImage image, LabelMap labels) = folder.Read(folder.Samples[1]);
        SyntheticScene scene = SyntheticWorld.Generate(5, 1, 64);
        Assert.That(image.Pixels, Is.EqualTo(scene.Image.Pixels));
        Assert.That(labels.Labels, Is.EqualTo(scene.Labels.Labels));
    }

    [Test]
    public void AFolderWithoutLabelsListsImagesOnly()
    {
        folders.Text("classes.txt", "cat", "dog");
        folders.RgbPng("images/b.png", 2, 2);
        folders.Jpeg("images/a.jpg", 2, 2);
        SegmentationDataset folder = SegmentationDataset.Open(DatasetPreset.Folder, folders.Root, "train");
        Assert.That(folder.HasLabels, Is.False);
        Assert.That(folder.Samples.Select(s => s.Id), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(() => folder.ReadLabels(folder.Samples[0]), Throws.InvalidOperationException);
    }

    [Test]
    public void AMissingSplitFileIsNamed()
    {
        Directory.CreateDirectory(folders.Root);
        string expected = folders.PathOf("ImageSets/Segmentation/val.txt");
        Assert.That(() => SegmentationDataset.Open(DatasetPreset.Voc, folders.Root, "val"),
            Throws.InstanceOf<FileNotFoundException>().With.Message.Contains(expected));
        Assert.That(() => SegmentationDataset.Open(DatasetPreset.Ade, folders.Root, "train"),
            Throws.InstanceOf<DirectoryNotFoundException>().With.Message.Contains(folders.PathOf("images/training")));
        Assert.That(() => SegmentationDataset.Open(DatasetPreset.Voc, folders.Root, "test"), Throws.ArgumentException);
    }

    [Test]
    public void AnImageWithoutItsLabelIsNamed()
    {
        WriteVoc("a");
        folders.Text("ImageSets/Segmentation/train.txt", "a", "b");
        folders.Jpeg("JPEGImages/b.jpg", 3, 2);
        Assert.That(() => SegmentationDataset.Open(DatasetPreset.Voc, folders.Root, "train"),
            Throws.InstanceOf<FileNotFoundException>().With.Message.Contains(folders.PathOf("SegmentationClass/b.png")));
    }

    [Test]
    public void ALabelOutsideTheClassesIsNamedWithItsValue()
    {
        folders.Text("ImageSets/Segmentation/train.txt", "a");
        folders.Jpeg("JPEGImages/a.jpg", 2, 1);
        folders.PaletteLabels("SegmentationClass/a.png", new byte[,] { { 1, 21 } });
        SegmentationDataset voc = SegmentationDataset.Open(DatasetPreset.Voc, folders.Root, "train");
        Assert.That(() => voc.ReadLabels(voc.Samples[0]), Throws.InstanceOf<InvalidDataException>()
            .With.Message.Contains(folders.PathOf("SegmentationClass/a.png")).And.Message.Contains("label value 21"));

        folders.Text("train.txt", "c/x");
        folders.RgbPng("leftImg8bit/train/c/x_leftImg8bit.png", 2, 1);
        folders.GrayLabels("gtFine/train/c/x_gtFine_labelTrainIds.png", new byte[,] { { 19, 0 } });
        SegmentationDataset city = SegmentationDataset.Open(DatasetPreset.Cityscapes, folders.Root, "train");
        Assert.That(() => city.ReadLabels(city.Samples[0]), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("label value 19"));
    }

    [Test]
    public void LabelsOfAnotherSizeThanTheImageAreAnError()
    {
        folders.Text("ImageSets/Segmentation/train.txt", "a");
        folders.Jpeg("JPEGImages/a.jpg", 4, 4);
        folders.PaletteLabels("SegmentationClass/a.png", new byte[,] { { 1, 2 } });
        SegmentationDataset voc = SegmentationDataset.Open(DatasetPreset.Voc, folders.Root, "train");
        Assert.That(() => voc.Read(voc.Samples[0]), Throws.InstanceOf<InvalidDataException>().With.Message.Contains("2x1"));
    }

    [Test]
    public void AFolderWithoutClassesTxtIsNamed()
    {
        folders.RgbPng("images/a.png", 2, 2);
        Assert.That(() => SegmentationDataset.Open(DatasetPreset.Folder, folders.Root, "train"),
            Throws.InstanceOf<FileNotFoundException>().With.Message.Contains(folders.PathOf("classes.txt")));
    }

    [Test]
    public void AClassListNamingAClassTwiceIsRefused()
    {
        folders.Text("classes.txt", "sky", "grass", "Sky");
        folders.RgbPng("images/a.png", 2, 2);
        Assert.That(() => SegmentationDataset.Open(DatasetPreset.Folder, folders.Root, "train"),
            Throws.InstanceOf<InvalidDataException>().With.Message.StartsWith($"{folders.PathOf("classes.txt")}: line 3 names \"Sky\" again (line 1;"));
    }

    [Test]
    public void AClassListInAnotherEncodingOrWithControlCharactersIsRefused()
    {
        folders.RgbPng("images/a.png", 2, 2);
        string list = folders.PathOf("classes.txt");
        File.WriteAllBytes(list, [.. "sky\n"u8, 0xE9, .. "t\u00e9\n"u8]);
        Assert.That(() => SegmentationDataset.Open(DatasetPreset.Folder, folders.Root, "train"),
            Throws.InstanceOf<InvalidDataException>().With.Message.EqualTo($"{list}: not UTF-8 text"));
        folders.Text("classes.txt", "sky", "gr\0ass");
        Assert.That(() => SegmentationDataset.Open(DatasetPreset.Folder, folders.Root, "train"),
            Throws.InstanceOf<InvalidDataException>().With.Message.EqualTo($"{list}: line 2 holds a control character"));
    }

    private void WriteVoc(params string[] ids)
    {
        folders.Text("ImageSets/Segmentation/train.txt", ids);
        foreach (string id in ids)
        {
            folders.Jpeg($"JPEGImages/{id}.jpg", 3, 2);
            folders.PaletteLabels($"SegmentationClass/{id}.png", VocRaw);
        }
    }
}
