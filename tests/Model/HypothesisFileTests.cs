using ReClip.Model.ReClip;

namespace ReClip.Tests.Model;

/// <summary>The hypothesis file of spec §8: the authors' line format, read back sorted, and every malformed line named by file:line.</summary>
[TestFixture]
public sealed class HypothesisFileTests
{
    private string folder = null!;

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-hypothesis-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public void WritesOneJsonArrayPerLineWithLfAndATrailingNewline()
    {
        string path = Path.Combine(folder, "h.json");
        HypothesisFile.Write(path, [[8, 11], [], [0], [19, 3, 7]]);
        Assert.That(File.ReadAllText(path), Is.EqualTo("[8, 11]\n[]\n[0]\n[19, 3, 7]\n"));
        Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(1), "no temporary file left behind");
    }

    /// <summary>
    /// With the split's digest, a split file beside the hypotheses names the images they were made for: a reader told another
    /// split's digest refuses them, a file without one (the authors') is read on its line count, and writing without a digest
    /// removes a split file an earlier run left.
    /// </summary>
    [Test]
    public void ASplitFileTellsTheImagesTheHypothesesWereMadeFor()
    {
        string path = Path.Combine(folder, "h.jsonl"), split = path + HypothesisFile.SplitSuffix;
        HypothesisFile.Write(path, [[1], [2]], sampleDigest: "abc");
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllText(split), Is.EqualTo("samples sha256 abc\n"));
            Assert.That(HypothesisFile.Read(path, images: 2, classes: 5, sampleDigest: "abc"), Has.Length.EqualTo(2));
            Assert.That(() => HypothesisFile.Read(path, images: 2, classes: 5, sampleDigest: "def"),
                Throws.InstanceOf<InvalidDataException>().With.Message.StartsWith($"{path}: was made for other images than this split's"));
        });
        HypothesisFile.Write(path, [[1], [2]]);
        Assert.Multiple(() =>
        {
            Assert.That(File.Exists(split), Is.False, "a split file of an earlier run is removed");
            Assert.That(HypothesisFile.Read(path, images: 2, classes: 5, sampleDigest: "def"), Has.Length.EqualTo(2));
        });
    }

    [Test]
    public void ReadsBackSortedAsTheAuthorsReaderDoes()
    {
        string path = Path.Combine(folder, "h.json");
        HypothesisFile.Write(path, [[8, 11], [], [19, 3, 7]]);
        Assert.That(HypothesisFile.Read(path, images: 3, classes: 20), Is.EqualTo(new[] { new[] { 8, 11 }, [], new[] { 3, 7, 19 } }));
    }

    [Test]
    public void AcceptsCrlfAndAMissingFinalNewline()
    {
        string path = Path.Combine(folder, "h.json");
        File.WriteAllText(path, "[2, 1]\r\n[ 4 ]");
        Assert.That(HypothesisFile.Read(path, images: 2, classes: 5), Is.EqualTo(new[] { new[] { 1, 2 }, new[] { 4 } }));
    }

    [TestCase("[1, 2]\n[3\n", 2, "h.json:2: not a JSON array")]
    [TestCase("[1, 2]\n\n[3]\n", 3, "h.json:2: not a JSON array of class ids (empty line)")]
    [TestCase("[1]\n{\"a\": 1}\n", 2, "h.json:2: a JSON object, not an array")]
    [TestCase("[1, 2.5]\n", 1, "h.json:1: '2.5' is not an integer class id")]
    [TestCase("[\"cat\"]\n", 1, "h.json:1: '\"cat\"' is not an integer class id")]
    [TestCase("[1]\n[20]\n", 2, "h.json:2: class id 20 is outside [0, 20)")]
    [TestCase("[-1]\n", 1, "h.json:1: class id -1 is outside [0, 20)")]
    [TestCase("[3, 5, 3]\n", 1, "h.json:1: class id 3 is listed twice")]
    [TestCase("[1]\n[2]\n", 3, "h.json: 2 lines for 3 images")]
    [TestCase("[1]\n[2]\n[3]\n", 2, "h.json: 3 lines for 2 images")]
    public void RefusesAMalformedFileNamingTheLine(string content, int images, string message)
    {
        string path = Path.Combine(folder, "h.json");
        File.WriteAllText(path, content);
        var error = Assert.Throws<InvalidDataException>(() => HypothesisFile.Read(path, images, classes: 20));
        Assert.That(error!.Message, Does.StartWith(Path.Combine(folder, message)));
    }

    [Test]
    public void AMissingFileIsNamed()
    {
        string path = Path.Combine(folder, "absent.json");
        var error = Assert.Throws<FileNotFoundException>(() => HypothesisFile.Read(path, 1, 20));
        Assert.That(error!.Message, Does.StartWith(path));
    }
}
