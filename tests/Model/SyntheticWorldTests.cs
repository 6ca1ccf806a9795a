using ReClip.Model.Data;
using ReClip.Model.Data.Synthetic;

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
}
