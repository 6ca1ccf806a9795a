using System.Text.Json;
using ReClip.Model.Data;
using ReClip.Model.Data.Synthetic;
using ReClip.Model.Training;
using ReClip.Tests.Model.Data;
using ReClip.Tests.Support;
using SkiaSharp;

namespace ReClip.Tests.Cli;

/// <summary>
/// The method end to end on a dataset in VOC 2012's own layout (JPEGImages, palette SegmentationClass with 0 =
/// background, ImageSets/Segmentation split lists), made from synthetic scenes: hypothesize → train → eval with the
/// checkpoint, through the VOC preset (REDUCE_ZERO_LABEL, crop 336, window 56/28). Scores are meaningless here
/// (the tiny CLIP never saw VOC's names); the point is that every stage reads the standard layout and hands over.
/// </summary>
[TestFixture]
public sealed class VocPipelineTests
{
    private string folder = "";

    [OneTimeSetUp]
    public void CreateVocFolder()
    {
        folder = Directory.CreateTempSubdirectory("reclip-cli-voc-").FullName;
        string root = Path.Combine(folder, "VOC2012");
        foreach (string sub in new[] { "JPEGImages", "SegmentationClass", "ImageSets/Segmentation" })
            Directory.CreateDirectory(Path.Combine(root, sub));
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            SyntheticScene scene = SyntheticWorld.Generate(31, i);
            string id = $"2007_{i:D6}";
            ids.Add(id);
            using (SKBitmap bitmap = PngFiles.ToBitmap(scene.Image))
            using (SKData jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95))
                File.WriteAllBytes(Path.Combine(root, "JPEGImages", id + ".jpg"), jpeg.ToArray());
            // Class c of the world becomes VOC label c + 1 (0 is VOC's background, which REDUCE_ZERO_LABEL ignores).
            var values = new byte[scene.Labels.Height, scene.Labels.Width];
            for (int y = 0; y < scene.Labels.Height; y++)
                for (int x = 0; x < scene.Labels.Width; x++)
                    values[y, x] = (byte)(scene.Labels[x, y] + 1);
            File.WriteAllBytes(Path.Combine(root, "SegmentationClass", id + ".png"), TestPng.Encode(values, 8, 3, _ => 0));
        }
        File.WriteAllLines(Path.Combine(root, "ImageSets", "Segmentation", "train.txt"), ids.Take(3));
        File.WriteAllLines(Path.Combine(root, "ImageSets", "Segmentation", "val.txt"), ids.Skip(3));
    }

    [OneTimeTearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private ReclipProcess.Result Reclip(params string[] arguments) =>
        ReclipProcess.Run(new Dictionary<string, string> { ["RECLIP_CACHE"] = Path.Combine(folder, "cache") },
            [arguments[0], "--weights", CheckoutFile.Find("assets/tinyclip/tinyclip-synthetic.safetensors"), "--dataset", "voc",
                "--root", Path.Combine(folder, "VOC2012"), .. arguments[1..]]);

    [Test]
    public void HypothesizeTrainAndEvaluateOnTheVocLayout()
    {
        string hypothesis = Path.Combine(folder, "voc-hypothesis.jsonl"), run = Path.Combine(folder, "run");
        ReclipProcess.Result hypothesize = Reclip("hypothesize", "--out", hypothesis);
        Assert.That(hypothesize.ExitCode, Is.Zero, hypothesize.Stderr);
        Assert.That(File.ReadAllLines(hypothesis), Has.Length.EqualTo(3));

        ReclipProcess.Result train = Reclip("train", "--hypothesis", hypothesis, "--out", run, "--epochs", "1", "--max-epoch", "2", "--json");
        Assert.That(train.ExitCode, Is.Zero, train.Stderr);
        using (JsonDocument report = JsonDocument.Parse(train.Stdout))
            Assert.That(report.RootElement.GetProperty("best_validation_miou").GetDouble(), Is.InRange(0, 1), "validated on val.txt");

        ReclipProcess.Result eval = Reclip("eval", "--checkpoint", Path.Combine(run, Trainer.BestCheckpoint), "--json");
        Assert.That(eval.ExitCode, Is.Zero, eval.Stderr);
        using JsonDocument scores = JsonDocument.Parse(eval.Stdout);
        Assert.That(scores.RootElement.GetProperty("images").GetInt32(), Is.EqualTo(2));
        Assert.That(scores.RootElement.GetProperty("classes").GetArrayLength(), Is.EqualTo(20), "VOC's 20 classes");
    }
}
