using System.Security.Cryptography;
using System.Text;
using ReClip.Model.Data;
using ReClip.Model.Data.Synthetic;
using ReClip.Runtime.IO;
using ReClip.Tests.Support;

namespace ReClip.Tests.Model;

/// <summary>The synthetic world written as a dataset folder: its exact bytes, and a folder that appears only when complete.</summary>
[TestFixture]
public sealed class SyntheticDatasetTests
{
    /// <summary>
    /// SHA-256 of the <see cref="FolderListing"/> of 7 scenes, seed 0, 64 px (names and bytes of all 16 files): datasets
    /// and the tiny CLIP trained on them rely on the same arguments writing the same files.
    /// </summary>
    private const string PinnedListingDigest = "aefa6fa447e115a219770abfcdb1cf89a9488d9497e2dca739432088e3525a62";

    /// <summary>Scenes enough that a failure at the third leaves others in flight, written or not.</summary>
    private const int ScenesPartWay = 40;

    private string parent = "";

    [SetUp]
    public void CreateFolder() => parent = Directory.CreateTempSubdirectory("reclip-synth-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(parent, recursive: true);

    private string World => Path.Combine(parent, "world");

    [Test]
    public void TheSameArgumentsWriteTheSameFiles()
    {
        SyntheticDataset.Write(World, 7, seed: 0, size: 64);
        string listing = string.Concat(FolderListing.Of(World).Select(line => line + "\n"));
        Assert.That(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing))), Is.EqualTo(PinnedListingDigest), listing);
        Assert.That(Directory.GetFileSystemEntries(parent), Is.EqualTo(new[] { World }), "no staging folder is left beside it");
    }

    [Test]
    public void DatasetFolderRoundTripsExactLabels()
    {
        SyntheticDataset.Write(World, 3, seed: 7);
        SyntheticScene scene = SyntheticWorld.Generate(7, 2);
        Assert.That(File.ReadAllLines(Path.Combine(World, "classes.txt")), Is.EqualTo(SyntheticClasses.Names));
        Assert.That(File.ReadAllLines(Path.Combine(World, "captions.jsonl")), Has.Length.EqualTo(3));
        Assert.That(PngFiles.ReadLabels(Path.Combine(World, "labels", "000002.png")).Labels, Is.EqualTo(scene.Labels.Labels));
        Assert.That(PngFiles.ReadRgb(Path.Combine(World, "images", "000002.png")).Pixels, Is.EqualTo(scene.Image.Pixels));
    }

    [Test]
    public void AnEmptyFolderTakesTheDataset()
    {
        Directory.CreateDirectory(World);
        SyntheticDataset.Write(World, 2, seed: 1, size: 64);
        Assert.That(Directory.GetFiles(Path.Combine(World, "images")), Has.Length.EqualTo(2));
        Assert.That(Directory.GetFileSystemEntries(parent), Is.EqualTo(new[] { World }));
    }

    [Test]
    public void AFolderThatHoldsSomethingIsRefusedAndLeftAsItWas()
    {
        SyntheticDataset.Write(World, 3, seed: 7, size: 64);
        IReadOnlyList<string> before = FolderListing.Of(World);
        Assert.That(() => SyntheticDataset.Write(World, 2, seed: 8, size: 64),
            Throws.TypeOf<OutputPathException>().With.Message.EqualTo($"{World} already exists and is not empty: give a new or an empty folder"));
        Assert.That(FolderListing.Of(World), Is.EqualTo(before));
        Assert.That(Directory.GetFileSystemEntries(parent), Is.EqualTo(new[] { World }));
    }

    /// <summary>
    /// A failure while scenes are being written (a full disk fails every scene in flight) surfaces as that one failure,
    /// not as the parallel loop's aggregate of them, and leaves neither the dataset nor its staging folder.
    /// </summary>
    [Test]
    public void AFailurePartWayIsOneErrorAndLeavesNothing()
    {
        var fullDisk = new OnScene(3, () => throw new IOException("No space left on device"));
        Assert.That(() => SyntheticDataset.Write(World, ScenesPartWay, seed: 1, size: 64, fullDisk),
            Throws.TypeOf<IOException>().With.Message.EqualTo("No space left on device"));
        Assert.That(Directory.GetFileSystemEntries(parent), Is.Empty);
    }

    [Test]
    public void ACancellationPartWayLeavesNothing()
    {
        using var cancel = new CancellationTokenSource();
        Assert.That(() => SyntheticDataset.Write(World, ScenesPartWay, seed: 1, size: 64, new OnScene(3, cancel.Cancel), cancel.Token),
            Throws.InstanceOf<OperationCanceledException>());
        Assert.That(Directory.GetFileSystemEntries(parent), Is.Empty);
    }

    /// <summary>
    /// A finished write is reused; another count rewrites without leftovers; an interrupted one (no marker) and one by
    /// another version of the generator are redone.
    /// </summary>
    [Test]
    public void EnsureWrittenReusesOnlyAFinishedWriteOfTheSameSettings()
    {
        Assert.That(SyntheticDataset.EnsureWritten(World, 3, seed: 7, size: 64), Is.True);
        Assert.That(SyntheticDataset.EnsureWritten(World, 3, seed: 7, size: 64), Is.False, "same settings: reused");
        Assert.That(SyntheticDataset.EnsureWritten(World, 2, seed: 7, size: 64), Is.True, "another count: rewritten");
        Assert.That(Directory.GetFiles(Path.Combine(World, "images")), Has.Length.EqualTo(2), "no scene of the earlier count lingers");
        File.Delete(Path.Combine(World, SyntheticDataset.CompleteMarker));
        Assert.That(SyntheticDataset.EnsureWritten(World, 2, seed: 7, size: 64), Is.True, "no marker: redone");
        string marker = Path.Combine(World, SyntheticDataset.CompleteMarker);
        File.WriteAllText(marker, File.ReadAllText(marker).Replace($"world {SyntheticWorld.Version} ", $"world {SyntheticWorld.Version - 1} "));
        Assert.That(SyntheticDataset.EnsureWritten(World, 2, seed: 7, size: 64), Is.True, "written by another version of the generator: redone");
    }

    /// <summary>Runs <paramref name="act"/> on every report from the <paramref name="scene"/>-th written scene on, from whichever thread wrote it.</summary>
    private sealed class OnScene(int scene, Action act) : IProgress<int>
    {
        public void Report(int value)
        {
            if (value >= scene)
                act();
        }
    }
}
