using ReClip.Runtime.IO;

namespace ReClip.Tests.Runtime;

[TestFixture]
public sealed class StagedFolderTests
{
    private string parent = "";

    [SetUp]
    public void CreateFolder() => parent = Directory.CreateTempSubdirectory("reclip-staged-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(parent, recursive: true);

    private string Destination => Path.Combine(parent, "out");

    [Test]
    public void TheFolderAppearsOnlyWhenCommitted()
    {
        using StagedFolder staged = StagedFolder.Create(Destination);
        staged.Fill(folder => File.WriteAllText(Path.Combine(folder, "a.txt"), "a"));
        Assert.That(Path.GetDirectoryName(staged.Staging), Is.EqualTo(parent), "beside the destination, so that the rename is atomic");
        Assert.That(Path.GetFileName(staged.Staging), Does.StartWith("."), "hidden while it is filled");
        Assert.That(Directory.Exists(Destination), Is.False);
        staged.Commit();
        Assert.That(File.ReadAllText(Path.Combine(Destination, "a.txt")), Is.EqualTo("a"));
        Assert.That(Directory.GetFileSystemEntries(parent), Is.EqualTo(new[] { Destination }));
    }

    [Test]
    public void AnUncommittedFolderLeavesNothing()
    {
        using (StagedFolder staged = StagedFolder.Create(Destination))
            staged.Fill(folder => File.WriteAllText(Path.Combine(Directory.CreateDirectory(Path.Combine(folder, "deep")).FullName, "a.txt"), "a"));
        Assert.That(Directory.GetFileSystemEntries(parent), Is.Empty);
    }

    [Test]
    public void ParentFoldersMadeForAnUncommittedFolderGoWithIt()
    {
        string deep = Path.Combine(parent, "made", "for", "it", "world");
        using (StagedFolder staged = StagedFolder.Create(deep))
            File.WriteAllText(Path.Combine(staged.Staging, "a.txt"), "a");
        Assert.That(Directory.GetFileSystemEntries(parent), Is.Empty);
        Directory.CreateDirectory(Path.Combine(parent, "kept"));
        using (StagedFolder staged = StagedFolder.Create(Path.Combine(parent, "kept", "new", "world"))) { }
        Assert.That(Directory.GetFileSystemEntries(parent), Is.EqualTo(new[] { Path.Combine(parent, "kept") }), "a folder that was there stays");
        Assert.That(Directory.GetFileSystemEntries(Path.Combine(parent, "kept")), Is.Empty);
    }

    [Test]
    public void AnEmptyFolderIsFilledInPlaceAndOneThatHoldsSomethingRefused()
    {
        Directory.CreateDirectory(Destination);
        // Its own permissions show that the folder is the same one after the commit, not one renamed into its place.
        const UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(Destination, Mode);
        using (StagedFolder staged = StagedFolder.Create(Destination + Path.DirectorySeparatorChar))
        {
            staged.Fill(folder => File.WriteAllText(Path.Combine(folder, "a.txt"), "a"));
            staged.Commit();
        }
        Assert.That(() => StagedFolder.Create(Destination),
            Throws.TypeOf<OutputPathException>().With.Message.EqualTo($"{Destination} already exists and is not empty: give a new or an empty folder"));
        Assert.That(Directory.GetFileSystemEntries(parent), Is.EqualTo(new[] { Destination }));
        Assert.That(Directory.GetFileSystemEntries(Destination), Is.EqualTo(new[] { Path.Combine(Destination, "a.txt") }));
        if (!OperatingSystem.IsWindows())
            Assert.That(File.GetUnixFileMode(Destination), Is.EqualTo(Mode));
    }

    /// <summary>The staging folder is gone when the message is read: a failure inside it names the destination, keeping its type (and so its exit code).</summary>
    [Test]
    public void AFailureNamesTheDestinationNotTheStagingFolder()
    {
        string file = Path.Combine(Destination, "images", "000001.png");
        using (StagedFolder staged = StagedFolder.Create(Destination))
            Assert.That(() => staged.Fill(folder => AtomicFile.Write(Path.Combine(folder, "images", "000001.png"),
                    stream => throw new IOException($"No space left on device : '{((FileStream)stream).Name}'"))),
                Throws.TypeOf<IOException>().With.Message.EqualTo($"{file}: No space left on device"));
        using (StagedFolder staged = StagedFolder.Create(Destination))
            Assert.That(() => staged.Fill(folder => throw new OutputPathException($"{Path.Combine(folder, "images")}: permission denied creating the folder")),
                Throws.TypeOf<OutputPathException>().With.Message.EqualTo($"{Path.Combine(Destination, "images")}: permission denied creating the folder"));
        Assert.That(Directory.GetFileSystemEntries(parent), Is.Empty);
    }
}
