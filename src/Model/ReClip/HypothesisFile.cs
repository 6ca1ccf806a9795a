using System.Globalization;
using System.Text;
using System.Text.Json;
using ReClip.Runtime.IO;

namespace ReClip.Model.ReClip;

/// <summary>
/// The hypothesis file of spec §8: one JSON array of class ids per image, in the dataset's sample order
/// (<c>[8, 11]</c>, <c>[]</c>), LF line ends and a trailing newline, as the authors' script writes it.
/// <para>
/// Reading gives what the authors' training reader gives (ids sorted ascending) but checks what it does not: it
/// cuts the first and the last two characters of each line and splits on commas, so a line without its newline,
/// a CRLF file or a stray space breaks it silently. Here every line must be a JSON array of integer ids in
/// [0, C) without repeats, the file must have exactly one line per image, and an error names file:line.
/// </para>
/// <para>
/// The format holds no trace of the images, so another split's file of the same length would be read as this one's. Ours
/// write a second file beside it, FILE<see cref="SplitSuffix"/>, with the digest of the split's sample ids in order
/// (<see cref="Data.Datasets.SegmentationDataset.SampleDigest"/>), and a reader that is told the split's digest refuses a file made for
/// other images; a file without it (the authors') is taken on its line count alone.
/// </para>
/// </summary>
public static class HypothesisFile
{
    public const string SplitSuffix = ".split";

    private const string DigestPrefix = "samples sha256 ";

    /// <summary>
    /// Writes the hypotheses and, with <paramref name="sampleDigest"/>, the split file beside them (without, a split file an
    /// earlier run left is removed); each atomically, both written in full before either is put in place, so a failure
    /// while writing changes neither.
    /// </summary>
    public static void Write(string path, IReadOnlyList<IReadOnlyList<int>> hypotheses, string? sampleDigest = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(hypotheses);
        var text = new StringBuilder();
        foreach (IReadOnlyList<int> classes in hypotheses)
            text.Append('[').AppendJoin(", ", classes.Select(c => c.ToString(CultureInfo.InvariantCulture))).Append("]\n");
        using StagedFile lines = StagedFile.Write(path, stream => stream.Write(Encoding.UTF8.GetBytes(text.ToString())));
        using StagedFile? split = sampleDigest is null ? null
            : StagedFile.Write(path + SplitSuffix, stream => stream.Write(Encoding.UTF8.GetBytes(DigestPrefix + sampleDigest + "\n")));
        lines.Commit();
        if (split is not null)
            split.Commit();
        else
            File.Delete(path + SplitSuffix);
    }

    /// <summary>
    /// The hypothesis of each of <paramref name="images"/> images, ids sorted ascending, each checked against [0, <paramref name="classes"/>);
    /// with <paramref name="sampleDigest"/>, a split file beside it must name the same images.
    /// </summary>
    public static int[][] Read(string path, int images, int classes, string? sampleDigest = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfNegative(images);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: hypothesis file not found", path);
        string splitPath = path + SplitSuffix;
        if (sampleDigest is not null && File.Exists(splitPath) && File.ReadAllText(splitPath).TrimEnd('\n', '\r') != DigestPrefix + sampleDigest)
            throw new InvalidDataException($"{path}: was made for other images than this split's ({splitPath} does not name them; hypothesize this split)");
        var result = new List<int[]>(images);
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            result.Add(ParseLine(line.TrimEnd('\r'), classes, $"{path}:{number}"));
        }
        if (result.Count != images)
            throw new InvalidDataException($"{path}: {result.Count} lines for {images} images (one hypothesis per image, in sample order)");
        return [.. result];
    }

    private static int[] ParseLine(string line, int classes, string where)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{where}: not a JSON array of class ids ({(line.Length == 0 ? "empty line" : JsonErrorText.Of(e))})", e);
        }
        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
                throw new InvalidDataException($"{where}: a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an array of class ids");
            var ids = new int[root.GetArrayLength()];
            int i = 0;
            foreach (JsonElement item in root.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out int id))
                    throw new InvalidDataException($"{where}: '{item.GetRawText()}' is not an integer class id");
                if (id < 0 || id >= classes)
                    throw new InvalidDataException($"{where}: class id {id} is outside [0, {classes})");
                ids[i++] = id;
            }
            Array.Sort(ids);
            for (int k = 1; k < ids.Length; k++)
                if (ids[k] == ids[k - 1])
                    throw new InvalidDataException($"{where}: class id {ids[k]} is listed twice");
            return ids;
        }
    }
}
