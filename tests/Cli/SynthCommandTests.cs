using System.Diagnostics;
using ReClip.Cli;
using ReClip.Model.Data.Synthetic;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>`reclip synth`: the folder layout, its bounds, and a dataset folder that appears complete or not at all.</summary>
[TestFixture]
public sealed class SynthCommandTests
{
    /// <summary>Minutes of 64-pixel scenes on two cores, so that the signal lands part-way whatever the machine.</summary>
    private const string LongRunCount = "200000";

    private static readonly TimeSpan ScenesAppearWithin = TimeSpan.FromMinutes(1);

    private string parent = "";

    [SetUp]
    public void CreateFolder() => parent = Directory.CreateTempSubdirectory("reclip-synth-cli-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(parent, recursive: true);

    private string World => Path.Combine(parent, "world");

    [Test]
    public void WritesTheFolderLayout()
    {
        ReclipProcess.Result result = ReclipProcess.Run("synth", "--out", World, "--count", "2", "--seed", "5");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(result.Stdout, Is.EqualTo($"wrote 2 scenes ({SyntheticClasses.Names.Count} classes) to {World}\n"));
        Assert.That(Directory.GetFiles(Path.Combine(World, "images")), Has.Length.EqualTo(2));
        Assert.That(Directory.GetFiles(Path.Combine(World, "labels")), Has.Length.EqualTo(2));
        Assert.That(Directory.GetFileSystemEntries(parent), Is.EqualTo(new[] { World }));
    }

    /// <summary>Refused while parsing, before anything is created; a side past the bound once overflowed the image's byte count after minutes of work.</summary>
    [TestCase("--size", "100000", "--size must lie in 64..1024, not 100000")]
    [TestCase("--size", "63", "--size must lie in 64..1024, not 63")]
    [TestCase("--count", "0", "--count must lie in 1..1000000, not 0")]
    [TestCase("--count", "1000001", "--count must lie in 1..1000000, not 1000001")]
    public void AValueOutOfBoundsIsRefusedBeforeWriting(string option, string value, string error)
    {
        ReclipProcess.Result result = ReclipProcess.Run("synth", "--out", World, option, value);
        Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput), result.Stderr);
        Assert.That(result.Stderr, Does.StartWith($"reclip: {error}\nusage: reclip synth"));
        Assert.That(Directory.GetFileSystemEntries(parent), Is.Empty);
    }

    /// <summary>An existing dataset is not overwritten (nor mixed with a new one's scenes): the command refuses it in one line.</summary>
    [Test]
    public void AFolderThatHoldsSomethingIsRefusedAndLeftAsItWas()
    {
        SyntheticDataset.Write(World, 5, seed: 3, size: 64);
        IReadOnlyList<string> before = FolderListing.Of(World);
        ReclipProcess.Result result = ReclipProcess.Run("synth", "--out", World, "--count", "3");
        Assert.That(result.ExitCode, Is.EqualTo(ExitCode.BadInput), result.Stderr);
        Assert.That(result.Stderr, Is.EqualTo($"reclip: cannot write: {World} already exists and is not empty: give a new or an empty folder\n"));
        Assert.That(FolderListing.Of(World), Is.EqualTo(before));
        Assert.That(Directory.GetFileSystemEntries(parent), Is.EqualTo(new[] { World }));
    }

    /// <summary>Ctrl-C part-way exits with 130, says so, and leaves neither the dataset nor its staging folder.</summary>
    [Test]
    public void InterruptExitsWith130AndLeavesNothing()
    {
        Interrupt.RequireDeliverable();
        using Process process = ReclipProcess.Start(new Dictionary<string, string>(), ["synth", "--out", World, "--count", LongRunCount, "--size", "64"]);
        _ = process.StandardOutput.ReadToEndAsync();
        try
        {
            WaitForScenes(process);
            Interrupt.Send(process);
            string stderr = process.StandardError.ReadToEnd();
            Assert.That(process.WaitForExit(60_000), Is.True, "stopped after the signal");
            Assert.That(process.ExitCode, Is.EqualTo(ExitCode.Interrupted), stderr);
            Assert.That(stderr, Is.EqualTo($"reclip: interrupted; nothing was written to {World}\n"));
            Assert.That(Directory.GetFileSystemEntries(parent), Is.Empty);
        }
        finally
        {
            // A failed check must not leave minutes of writing running into the folder the teardown deletes.
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Waits until the staging folder holds a scene, so that the signal lands part-way through the writing.</summary>
    private void WaitForScenes(Process process)
    {
        var clock = Stopwatch.StartNew();
        while (!Directory.EnumerateDirectories(parent).Select(staging => Path.Combine(staging, "images"))
            .Any(images => Directory.Exists(images) && Directory.EnumerateFiles(images).Any()))
        {
            Assert.That(process.HasExited, Is.False, "synth ended before writing a scene");
            Assert.That(clock.Elapsed, Is.LessThan(ScenesAppearWithin), "no scene was written");
            Thread.Sleep(20);
        }
        Assert.That(Directory.Exists(World), Is.False, "the dataset is not in place while it is written");
    }
}
