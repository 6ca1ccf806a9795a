using ReClip.Runtime.IO;
using ReClip.Tests.Support;

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

    /// <summary>The system names the temporary file, which is deleted by the time the message is read.</summary>
    [Test]
    public void ASystemFailureNamesTheDestinationNotTheTemporaryFile()
    {
        string path = Path.Combine(folder, "out.bin");
        Assert.That(() => AtomicFile.Write(path, stream => throw new IOException($"No space left on device : '{((FileStream)stream).Name}'")),
            Throws.TypeOf<IOException>().With.Message.EqualTo($"{path}: No space left on device"));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty);
    }

    [Test]
    public void APathUnderAFileOrOnAFolderIsRefusedByName()
    {
        string file = Path.Combine(folder, "plain");
        File.WriteAllText(file, "");
        Assert.Multiple(() =>
        {
            Assert.That(() => AtomicFile.WriteAllText(Path.Combine(file, "deeper", "out.txt"), "x"),
                Throws.TypeOf<OutputPathException>().With.Message.EqualTo($"{Path.Combine(file, "deeper", "out.txt")}: {file} is a file, not a folder"));
            Assert.That(() => AtomicFile.WriteAllText(folder, "x"),
                Throws.TypeOf<OutputPathException>().With.Message.EqualTo($"{folder} is a folder, not a file"));
            Assert.That(() => OutputPath.CreateFolder(file), Throws.TypeOf<OutputPathException>().With.Message.EqualTo($"{file} is a file, not a folder"));
        });
        Assert.That(Directory.GetFileSystemEntries(folder), Is.EqualTo(new[] { file }));
    }

    /// <summary>
    /// A destination on a file system that takes no files (/proc here; a read-only mount elsewhere) is refused before any
    /// work, by name, and the check leaves nothing behind where it can write.
    /// </summary>
    [Test]
    public void ADestinationThatCannotBeWrittenIsRefusedBeforeTheWork()
    {
        if (!Directory.Exists("/proc/self"))
            Assert.Ignore("no /proc here to stand for a file system that takes no files");
        Assert.Multiple(() =>
        {
            Assert.That(() => OutputPath.CheckFile("/proc/reclip-out.json"),
                Throws.TypeOf<OutputPathException>().With.Message.StartsWith("/proc/reclip-out.json: ").And.Message.Contain("in /proc"));
            Assert.That(() => OutputPath.CheckFolder("/proc/reclip-run/deeper"),
                Throws.TypeOf<OutputPathException>().With.Message.StartsWith("/proc/reclip-run/deeper: ").And.Message.Contain("in /proc"));
        });
        OutputPath.CheckFile(Path.Combine(folder, "new", "out.json"));
        OutputPath.CheckFolder(Path.Combine(folder, "run"));
        Assert.That(Directory.GetFileSystemEntries(folder), Is.Empty, "the probes are gone and no folder was made");
    }

    /// <summary>Regression: a finished file renamed over a named pipe or a device put a plain file in its place.</summary>
    [Test]
    public void ANamedPipeOrADeviceIsRefusedAndKept()
    {
        Requires.Program("mkfifo");
        string pipe = Path.Combine(folder, "pipe");
        using (var make = System.Diagnostics.Process.Start("mkfifo", pipe))
            make.WaitForExit();
        Assert.Multiple(() =>
        {
            Assert.That(() => AtomicFile.WriteAllText(pipe, "x"),
                Throws.TypeOf<OutputPathException>().With.Message.EqualTo($"{pipe} is a named pipe, not a regular file to write"));
            Assert.That(FileKind.Special(pipe), Is.EqualTo("a named pipe"), "the pipe is still there");
            Assert.That(() => OutputPath.CheckFile("/dev/null"),
                Throws.TypeOf<OutputPathException>().With.Message.EqualTo("/dev/null is a character device, not a regular file to write"));
            Assert.That(Directory.GetFiles(folder), Is.EqualTo(new[] { pipe }), "no temporary file is left behind");
        });
    }

    /// <summary>Writing to a symbolic link changes its target, as writing through a link does, and leaves the link a link.</summary>
    [Test]
    public void ALinkIsWrittenThrough()
    {
        string target = Path.Combine(folder, "real.txt"), link = Path.Combine(folder, "link.txt");
        File.WriteAllText(target, "old");
        File.CreateSymbolicLink(link, target);

        AtomicFile.WriteAllText(link, "new");

        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllText(target), Is.EqualTo("new"));
            Assert.That(new FileInfo(link).LinkTarget, Is.EqualTo(target));
        });
    }

    /// <summary>A read-only file is refused, not replaced; a process its permissions do not bind (root) writes it, as it could anyway.</summary>
    [Test]
    public void AReadOnlyFileIsRefusedAndKept()
    {
        string path = Path.Combine(folder, "kept.txt");
        File.WriteAllText(path, "kept");
        if (OperatingSystem.IsWindows())
            Assert.Ignore("Unix permissions");
        else
            File.SetUnixFileMode(path, UnixFileMode.UserRead);
        try
        {
            using (new FileStream(path, FileMode.Open, FileAccess.Write)) { }
            Assert.Ignore("this process may write read-only files (it runs as root)");
        }
        catch (UnauthorizedAccessException)
        {
        }
        Assert.That(() => AtomicFile.WriteAllText(path, "replaced"),
            Throws.TypeOf<OutputPathException>().With.Message.EqualTo($"{path}: permission denied writing the file (it is read-only)"));
        Assert.That(File.ReadAllText(path), Is.EqualTo("kept"));
    }

    [Test]
    public void StagedFilesAppearOnlyWhenCommitted()
    {
        string first = Path.Combine(folder, "a.txt"), second = Path.Combine(folder, "b.txt");
        using (StagedFile staged = StagedFile.Write(first, stream => stream.Write("a"u8)))
        {
            Assert.That(File.Exists(first), Is.False);
            staged.Commit();
        }
        using (StagedFile.Write(second, stream => stream.Write("b"u8)))
        {
        }
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllText(first), Is.EqualTo("a"));
            Assert.That(Directory.GetFiles(folder), Is.EqualTo(new[] { first }), "the uncommitted one left nothing");
        });
    }
}
