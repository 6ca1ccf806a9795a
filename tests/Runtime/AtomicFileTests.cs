using ReClip.Runtime.IO;

namespace ReClip.Tests.Runtime;

[TestFixture]
public sealed class AtomicFileTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-atomic-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public void WritesTheWholeFile()
    {
        string path = Path.Combine(folder, "out.txt");
        AtomicFile.WriteAllText(path, "hello");
        Assert.That(File.ReadAllText(path), Is.EqualTo("hello"));
        Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(1), "no temporary file is left behind");
    }

    [Test]
    public void AFailedWriteKeepsTheOldFileAndLeavesNoTemporary()
    {
        string path = Path.Combine(folder, "checkpoint.bin");
        AtomicFile.WriteAllText(path, "good");
        Assert.Throws<IOException>(() => AtomicFile.Write(path, stream =>
        {
            stream.Write("partial"u8);
            throw new IOException("disk full");
        }));
        Assert.That(File.ReadAllText(path), Is.EqualTo("good"));
        Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(1));
    }
}
