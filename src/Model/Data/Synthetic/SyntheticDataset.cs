using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using ReClip.Runtime.IO;

namespace ReClip.Model.Data.Synthetic;

/// <summary>
/// Writes generated scenes in the generic folder layout: images/&lt;id&gt;.png (RGB), labels/&lt;id&gt;.png
/// (grayscale class indices), classes.txt (one name per line, in label order) and captions.jsonl (one
/// {"id", "caption"} object per line, for training a small CLIP on the same world).
/// </summary>
public static class SyntheticDataset
{
    /// <summary>The most scenes one dataset holds: ids have six digits (<see cref="Id"/>), so file names sort in scene order.</summary>
    public const int MaxCount = 1_000_000;

    /// <summary>
    /// Writes the scenes as the new folder <paramref name="directory"/>, which must not exist or must be empty. They are
    /// written into a staging folder beside it that takes its name only when complete (<see cref="StagedFolder"/>), so
    /// a failure or a cancellation part-way leaves neither a partial dataset nor the staging folder.
    /// </summary>
    public static void Write(string directory, int count, int seed, int size = SyntheticWorld.DefaultSize, IProgress<int>? progress = null,
        CancellationToken cancel = default)
    {
        CheckSettings(count, size);
        using StagedFolder staged = StagedFolder.Create(directory);
        staged.Fill(folder => WriteScenes(folder, count, seed, size, progress, cancel));
        staged.Commit();
    }

    private static void CheckSettings(int count, int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, MaxCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, SyntheticWorld.MinSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, SyntheticWorld.MaxSize);
    }

    private static void WriteScenes(string directory, int count, int seed, int size, IProgress<int>? progress, CancellationToken cancel)
    {
        string images = Path.Combine(directory, "images"), labels = Path.Combine(directory, "labels");
        OutputPath.CreateFolder(images);
        OutputPath.CreateFolder(labels);
        AtomicFile.WriteAllText(Path.Combine(directory, "classes.txt"), string.Join('\n', SyntheticClasses.Names) + "\n");
        string[] captions = new string[count];
        int written = 0;
        try
        {
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancel }, index =>
            {
                SyntheticScene scene = SyntheticWorld.Generate(seed, index, size);
                string id = Id(index);
                PngFiles.WriteRgb(Path.Combine(images, id + ".png"), scene.Image);
                PngFiles.WriteLabels(Path.Combine(labels, id + ".png"), scene.Labels);
                captions[index] = JsonSerializer.Serialize(new CaptionLine(id, scene.Caption), SyntheticJson.Default.CaptionLine);
                progress?.Report(Interlocked.Increment(ref written));
            });
        }
        catch (AggregateException e)
        {
            // Every scene in flight fails alike (a full disk fails them all): the first failure says what went wrong.
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
        var text = new StringBuilder();
        foreach (string line in captions)
            text.Append(line).Append('\n');
        AtomicFile.WriteAllText(Path.Combine(directory, "captions.jsonl"), text.ToString());
    }

    /// <summary>
    /// Writes the scenes into <paramref name="directory"/> unless a complete earlier write of the same (count, seed,
    /// size) by the same version of the generator is there; returns whether it wrote. Completeness is a marker file
    /// written last, so a write that was interrupted is redone rather than reused.
    /// </summary>
    public static bool EnsureWritten(string directory, int count, int seed, int size = SyntheticWorld.DefaultSize, IProgress<int>? progress = null)
    {
        CheckSettings(count, size);
        string marker = Path.Combine(directory, CompleteMarker);
        string expected = $"world {SyntheticWorld.Version} count {count} seed {seed} size {size} classes {string.Join(',', SyntheticClasses.Names)}\n";
        if (File.Exists(marker) && File.ReadAllText(marker) == expected)
            return false;
        // Only the scene folders are removed, so scenes of another count cannot linger; nothing else in the folder is touched.
        foreach (string folder in new[] { "images", "labels" }.Select(f => Path.Combine(directory, f)).Where(Directory.Exists))
            Directory.Delete(folder, recursive: true);
        WriteScenes(directory, count, seed, size, progress, CancellationToken.None);
        AtomicFile.WriteAllText(marker, expected);
        return true;
    }

    /// <summary>The file that marks a finished <see cref="EnsureWritten"/>.</summary>
    public const string CompleteMarker = ".complete";

    public static string Id(int index) => index.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
}

public sealed record CaptionLine(string Id, string Caption);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(CaptionLine))]
internal sealed partial class SyntheticJson : System.Text.Json.Serialization.JsonSerializerContext;
