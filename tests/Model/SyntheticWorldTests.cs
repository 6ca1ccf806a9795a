using ReClip.Model.Data;
using ReClip.Model.Data.Synthetic;
using ReClip.Tests.Support;

namespace ReClip.Tests.Model;

[TestFixture]
public sealed class SyntheticWorldTests
{
    private static readonly SyntheticScene[] Scenes = [.. Enumerable.Range(0, 200).Select(i => SyntheticWorld.Generate(7, i))];

    [Test]
    public void TheSameSeedAndIndexGiveTheSameScene()
    {
        SyntheticScene again = SyntheticWorld.Generate(7, 3);
        Assert.That(again.Image.Pixels, Is.EqualTo(Scenes[3].Image.Pixels));
        Assert.That(again.Labels.Labels, Is.EqualTo(Scenes[3].Labels.Labels));
        Assert.That(again.Caption, Is.EqualTo(Scenes[3].Caption));
        Assert.That(SyntheticWorld.Generate(8, 3).Image.Pixels, Is.Not.EqualTo(Scenes[3].Image.Pixels));
    }

    [Test]
    public void LabelsAreClassIndicesAndListedClassesAreThePresentOnes()
    {
        foreach (SyntheticScene scene in Scenes)
        {
            Assert.That(scene.Labels.Labels, Is.All.LessThan(SyntheticClasses.Names.Count));
            Assert.That(scene.Classes, Is.EquivalentTo(scene.Labels.Labels.Distinct().Select(l => (int)l)));
        }
    }

    [Test]
    public void EveryClassAppearsAndCaptionsNameTheThingsShown()
    {
        var seen = new HashSet<int>();
        foreach (SyntheticScene scene in Scenes)
        {
            seen.UnionWith(scene.Classes);
            foreach (int thing in scene.Classes.Where(c => !SyntheticClasses.IsStuff(c)))
            {
                string name = SyntheticClasses.Names[thing];
                Assert.That(scene.Caption, Does.Contain(name), $"a scene shows a {name} its caption does not name");
            }
        }
        Assert.That(seen, Is.EquivalentTo(Enumerable.Range(0, SyntheticClasses.Names.Count)));
    }

    [Test]
    public void SkyIsOnTopAndRoadAtTheBottom()
    {
        // The space prior built into the world: the top row is sky (or a thing reaching into the sky: the sun, a
        // crown, a sail, a canopy), and on average sky lies in the upper third while road lies in the lower half.
        double skyRows = 0, skyCount = 0, roadRows = 0, roadCount = 0;
        foreach (SyntheticScene scene in Scenes)
        {
            LabelMap labels = scene.Labels;
            int skyOnTop = Enumerable.Range(0, labels.Width).Count(x => labels[x, 0] == SyntheticClasses.Sky || !SyntheticClasses.IsStuff(labels[x, 0]));
            Assert.That(skyOnTop, Is.EqualTo(labels.Width));
            for (int y = 0; y < labels.Height; y++)
                for (int x = 0; x < labels.Width; x++)
                {
                    if (labels[x, y] == SyntheticClasses.Sky) { skyRows += y; skyCount++; }
                    if (labels[x, y] == SyntheticClasses.Road) { roadRows += y; roadCount++; }
                }
        }
        Assert.That(skyRows / skyCount, Is.LessThan(SyntheticWorld.DefaultSize / 3.0));
        Assert.That(roadRows / roadCount, Is.GreaterThan(SyntheticWorld.DefaultSize / 2.0));
    }

    [Test]
    public void ThingsSitOnTheirSurface()
    {
        // Class co-occurrence by design: a boat only appears in scenes with water, a car with road, a tree with grass, an umbrella with sand.
        (int Thing, int Host)[] pairs = [(SyntheticClasses.Boat, SyntheticClasses.Water), (SyntheticClasses.Car, SyntheticClasses.Road),
            (SyntheticClasses.Tree, SyntheticClasses.Grass), (SyntheticClasses.Umbrella, SyntheticClasses.Sand)];
        foreach (SyntheticScene scene in Scenes)
            foreach ((int thing, int host) in pairs)
                if (scene.Classes.Contains(thing))
                    Assert.That(scene.Classes, Does.Contain(host));
    }

    [Test]
    public void DatasetFolderRoundTripsExactLabels()
    {
        string folder = Directory.CreateTempSubdirectory("reclip-synth-").FullName;
        try
        {
            SyntheticDataset.Write(folder, 3, seed: 7);
            Assert.That(File.ReadAllLines(Path.Combine(folder, "classes.txt")), Is.EqualTo(SyntheticClasses.Names));
            Assert.That(File.ReadAllLines(Path.Combine(folder, "captions.jsonl")), Has.Length.EqualTo(3));
            LabelMap labels = PngFiles.ReadLabels(Path.Combine(folder, "labels", "000002.png"));
            RgbImage image = PngFiles.ReadRgb(Path.Combine(folder, "images", "000002.png"));
            Assert.That(labels.Labels, Is.EqualTo(Scenes[2].Labels.Labels));
            Assert.That(image.Pixels, Is.EqualTo(Scenes[2].Image.Pixels));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// A finished write is reused; another count rewrites without leftovers; an interrupted one (no marker) and one by
    /// another version of the generator are redone.
    /// </summary>
    [Test]
    public void EnsureWrittenReusesOnlyAFinishedWriteOfTheSameSettings()
    {
        string folder = Path.Combine(Directory.CreateTempSubdirectory("reclip-synth-").FullName, "world");
        try
        {
            Assert.That(SyntheticDataset.EnsureWritten(folder, 3, seed: 7, size: 64), Is.True);
            Assert.That(SyntheticDataset.EnsureWritten(folder, 3, seed: 7, size: 64), Is.False, "same settings: reused");
            Assert.That(SyntheticDataset.EnsureWritten(folder, 2, seed: 7, size: 64), Is.True, "another count: rewritten");
            Assert.That(Directory.GetFiles(Path.Combine(folder, "images")), Has.Length.EqualTo(2), "no scene of the earlier count lingers");
            File.Delete(Path.Combine(folder, SyntheticDataset.CompleteMarker));
            Assert.That(SyntheticDataset.EnsureWritten(folder, 2, seed: 7, size: 64), Is.True, "no marker: redone");
            string marker = Path.Combine(folder, SyntheticDataset.CompleteMarker);
            File.WriteAllText(marker, File.ReadAllText(marker).Replace($"world {SyntheticWorld.Version} ", $"world {SyntheticWorld.Version - 1} "));
            Assert.That(SyntheticDataset.EnsureWritten(folder, 2, seed: 7, size: 64), Is.True, "written by another version of the generator: redone");
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
        }
    }

    [Test]
    public void TruncatedPngIsAnErrorNamingTheFile()
    {
        string folder = Directory.CreateTempSubdirectory("reclip-png-").FullName;
        try
        {
            string path = Path.Combine(folder, "cut.png");
            PngFiles.WriteRgb(path, Scenes[0].Image);
            byte[] bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var e = Assert.Throws<InvalidDataException>(() => PngFiles.ReadRgb(path));
            Assert.That(e!.Message, Does.StartWith(path));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public void SynthCommandWritesTheFolderLayout()
    {
        string folder = Directory.CreateTempSubdirectory("reclip-synth-cli-").FullName;
        try
        {
            ReclipProcess.Result result = ReclipProcess.Run("synth", "--out", folder, "--count", "2", "--seed", "5");
            Assert.That(result.ExitCode, Is.Zero, result.Stderr);
            Assert.That(Directory.GetFiles(Path.Combine(folder, "images")), Has.Length.EqualTo(2));
            Assert.That(Directory.GetFiles(Path.Combine(folder, "labels")), Has.Length.EqualTo(2));
            Assert.That(ReclipProcess.Run("synth", "--out", folder, "--count", "0").ExitCode, Is.EqualTo(1));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
