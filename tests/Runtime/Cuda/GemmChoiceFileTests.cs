using ReClip.Runtime.Cuda;

namespace ReClip.Tests.Runtime.Cuda;

/// <summary>The tuned GEMM choices kept on disk between runs, without a GPU.</summary>
[TestFixture]
public sealed class GemmChoiceFileTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-gemm-choices-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public void AChoiceKeptIsFoundByTheNextRun()
    {
        string path = Path.Combine(folder, "cache", "gemm-choices.tsv");
        var first = new GemmChoiceFile(path);
        Assert.That(first.Find("NVIDIA H100", "13.1.0", "NT 134×1536×512"), Is.Null);
        first.Keep("NVIDIA H100", "13.1.0", "NT 134×1536×512", 3);
        first.Keep("NVIDIA H100", "13.1.0", "NT 134×512×2048", 0);
        Assert.That(first.Find("NVIDIA H100", "13.1.0", "NT 134×1536×512"), Is.EqualTo(3));

        var next = new GemmChoiceFile(path);
        Assert.That(next.Find("NVIDIA H100", "13.1.0", "NT 134×1536×512"), Is.EqualTo(3));
        Assert.That(next.Find("NVIDIA H100", "13.1.0", "NT 134×512×2048"), Is.Zero);
        Assert.That(next.Find("NVIDIA H200", "13.1.0", "NT 134×1536×512"), Is.Null, "another card");
        Assert.That(next.Find("NVIDIA H100", "13.2.0", "NT 134×1536×512"), Is.Null, "another library");
        next.Keep("NVIDIA H100", "13.1.0", "NT 134×1536×512", 5);
        Assert.That(new GemmChoiceFile(path).Find("NVIDIA H100", "13.1.0", "NT 134×1536×512"), Is.EqualTo(5), "a later choice replaces the earlier");
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(path)!), Is.EqualTo(new[] { path }), "written whole, no temporary file left");
    }

    [Test]
    public void LinesItCannotReadArePassedOverAndDroppedAtTheNextWrite()
    {
        string path = Path.Combine(folder, "gemm-choices.tsv");
        File.WriteAllLines(path, ["garbage", "card\tlibrary\tproblem\tseven", "card\tlibrary\tproblem\t2", "too\tfew\t1", "\t\t\t\t"]);
        var file = new GemmChoiceFile(path);
        Assert.That(file.Find("card", "library", "problem"), Is.EqualTo(2));
        file.Keep("card", "library", "other\tproblem\nhere", 1);
        Assert.That(File.ReadAllLines(path), Is.EqualTo(new[] { "card\tlibrary\tother problem here\t1", "card\tlibrary\tproblem\t2" }),
            "the readable choices, sorted; tabs and line breaks within a part become spaces");
        Assert.That(new GemmChoiceFile(path).Find("card", "library", "other\tproblem\nhere"), Is.EqualTo(1));
    }

    [Test]
    public void AFileThatCannotBeWrittenCostsOnlyTheNextRunsTiming()
    {
        string blocker = Path.Combine(folder, "a-file");
        File.WriteAllText(blocker, "");
        var file = new GemmChoiceFile(Path.Combine(blocker, "gemm-choices.tsv"));
        Assert.DoesNotThrow(() => file.Keep("card", "library", "problem", 4));
        Assert.That(file.Find("card", "library", "problem"), Is.EqualTo(4), "this run still takes it");
        Assert.That(() => file.Keep("card", "library", "problem", -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
