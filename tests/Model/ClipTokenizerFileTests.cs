using System.IO.Compression;
using System.Text;
using System.Text.Json;
using ReClip.Model.Clip;

namespace ReClip.Tests.Model;

/// <summary>
/// Vocabulary files that are missing, damaged or do not belong together: each must fail with one line that names
/// the file and the problem. The damaged files are made from the real ones, changed in one place.
/// </summary>
[TestFixture]
public sealed class ClipTokenizerFileTests
{
    private const int OpenAiMergeCount = 49152 - 256 - 2;

    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-bpe-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [Test]
    public void MissingFileIsNamed()
    {
        string path = Path.Combine(folder, "bpe_simple_vocab_16e6.txt.gz");
        AssertFails<FileNotFoundException>(() => ClipTokenizer.FromOpenAiVocabulary(path), path, "no such file");
    }

    [Test]
    public void TruncatedGzipIsDetected()
    {
        byte[] whole = File.ReadAllBytes(ClipBpeFixtures.ShippedOpenAiVocabulary);
        string path = WriteBytes("cut.txt.gz", whole[..(whole.Length / 2)]);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromOpenAiVocabulary(path), path, "truncated");
    }

    [Test]
    public void CorruptGzipIsDetected()
    {
        byte[] bytes = File.ReadAllBytes(ClipBpeFixtures.ShippedOpenAiVocabulary);
        for (int i = bytes.Length / 2; i < bytes.Length / 2 + 64; i++)
            bytes[i] ^= 0x5A;
        string path = WriteBytes("corrupt.txt.gz", bytes);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromOpenAiVocabulary(path), path, "gzip");
    }

    [Test]
    public void TextThatIsNotUtf8IsRejected()
    {
        string path = WriteGzip("latin1.txt.gz", [(byte)'#', 0xE9, 0xFF, (byte)'\n']);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromOpenAiVocabulary(path), path, "not UTF-8");
    }

    [Test]
    public void OpenAiFileWithTooFewMergesIsRejected()
    {
        string[] lines = OpenAiLines();
        string path = WriteText("short.txt.gz", lines[..1001]);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromOpenAiVocabulary(path), path, $"has 1000 merge lines after its header, CLIP's vocabulary needs {OpenAiMergeCount}");
    }

    [Test]
    public void MergeLineWithoutTwoSymbolsIsRejectedWithItsLineNumber()
    {
        string[] lines = OpenAiLines();
        lines[4] = "abc";
        string path = WriteText("bad-line.txt.gz", lines);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromOpenAiVocabulary(path), $"{path} line 5", "two symbols separated by one space", "\"abc\"");
    }

    [Test]
    public void MergeOfASymbolNoEarlierMergeMadeIsRejected()
    {
        string[] lines = OpenAiLines();
        lines[2] = "zzz q";
        string path = WriteText("unreachable.txt.gz", lines);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromOpenAiVocabulary(path), $"{path} line 3", "\"zzz\" is neither a byte symbol nor the result of an earlier merge");
    }

    [Test]
    public void PlainHuggingFaceFilesGiveTheSameTokenizerAsCompressedOnes()
    {
        File.WriteAllText(Path.Combine(folder, "vocab.json"), Decompressed("vocab.json.gz"));
        File.WriteAllText(Path.Combine(folder, "merges.txt"), Decompressed("merges.txt.gz"));
        ClipTokenizer plain = ClipTokenizer.FromHuggingFaceDirectory(folder);
        ClipTokenizer compressed = ClipTokenizer.FromHuggingFaceDirectory(ClipBpeFixtures.Folder);
        Assert.That(plain.Tokens, Is.EqualTo(compressed.Tokens));
        Assert.That(plain.EncodeForContext("a photo of a cat."), Is.EqualTo(compressed.EncodeForContext("a photo of a cat.")));
    }

    [Test]
    public void FingerprintFollowsTheVocabularyNotItsFileFormat()
    {
        ClipTokenizer openAi = ClipTokenizer.FromOpenAiVocabulary(ClipBpeFixtures.ShippedOpenAiVocabulary);
        ClipTokenizer huggingFace = ClipTokenizer.FromHuggingFaceDirectory(ClipBpeFixtures.Folder);
        Dictionary<string, int> ids = HuggingFaceIds();
        (ids["a"], ids["b"]) = (ids["b"], ids["a"]);
        ClipTokenizer exchanged = ClipTokenizer.FromHuggingFace(WriteJson(ids), FixturePath("merges.txt.gz"));
        Assert.Multiple(() =>
        {
            Assert.That(huggingFace.Fingerprint, Is.EqualTo(openAi.Fingerprint), "one vocabulary in two formats");
            Assert.That(exchanged.Fingerprint, Is.Not.EqualTo(huggingFace.Fingerprint), "two ids exchanged");
        });
    }

    [Test]
    public void MergesThatDoNotFitTheVocabularyCountAreRejected()
    {
        string[] lines = Decompressed("merges.txt.gz").TrimEnd('\n').Split('\n');
        string merges = WriteText("merges.txt", lines[..^1]);
        string vocabulary = WriteText("vocab.json", [Decompressed("vocab.json.gz")]);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromHuggingFace(vocabulary, merges),
            merges, $"has {OpenAiMergeCount - 1} merges", vocabulary, $"need {OpenAiMergeCount}");
    }

    [Test]
    public void VocabularyThatIsNotJsonIsRejected()
    {
        string json = Decompressed("vocab.json.gz");
        string vocabulary = WriteText("vocab.json", [json[..(json.Length / 2)]]);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromHuggingFace(vocabulary, FixturePath("merges.txt.gz")), vocabulary, "not valid JSON");
    }

    [Test]
    public void TwoTokensWithOneIdAreRejected()
    {
        Dictionary<string, int> ids = HuggingFaceIds();
        ids["!"] = ids["\""];
        string vocabulary = WriteJson(ids);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromHuggingFace(vocabulary, FixturePath("merges.txt.gz")), vocabulary, "have the same id 1");
    }

    [Test]
    public void VocabularyWithoutAByteSymbolIsRejected()
    {
        Dictionary<string, int> ids = HuggingFaceIds();
        ids["¡¡"] = ids["!"];
        ids.Remove("!");
        string vocabulary = WriteJson(ids);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromHuggingFace(vocabulary, FixturePath("merges.txt.gz")), vocabulary, "has no token \"!\" (the symbol of byte 0x21)");
    }

    [Test]
    public void TokenThatSpellsNoBytesIsRejected()
    {
        Dictionary<string, int> ids = HuggingFaceIds();
        ids["€uro"] = ids["funko"];
        ids.Remove("funko");
        string vocabulary = WriteJson(ids);
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromHuggingFace(vocabulary, FixturePath("merges.txt.gz")), vocabulary, "\"€uro\" contains U+20AC");
    }

    [Test]
    public void MergeWhoseResultIsNoTokenIsRejected()
    {
        Dictionary<string, int> ids = HuggingFaceIds();
        ids["ÄÄÄÄ"] = ids["in"];
        ids.Remove("in");
        string vocabulary = WriteJson(ids);
        string merges = FixturePath("merges.txt.gz");
        AssertFails<InvalidDataException>(() => ClipTokenizer.FromHuggingFace(vocabulary, merges), vocabulary, "has no token \"in\"", $"{merges} line 2");
    }

    [Test]
    public void FolderWithoutMergesIsNamed()
    {
        WriteText("vocab.json", [Decompressed("vocab.json.gz")]);
        AssertFails<FileNotFoundException>(() => ClipTokenizer.FromHuggingFaceDirectory(folder), folder, "neither merges.txt nor merges.txt.gz");
    }

    private static void AssertFails<TException>(Action load, params string[] fragments) where TException : Exception
    {
        TException error = Assert.Throws<TException>(load)!;
        Assert.That(error.Message, Does.Not.Contain('\n'), "one line");
        foreach (string fragment in fragments)
            Assert.That(error.Message, Does.Contain(fragment));
    }

    private static string FixturePath(string name) => Path.Combine(ClipBpeFixtures.Folder, name);

    private static string Decompressed(string fixture)
    {
        using var gzip = new GZipStream(File.OpenRead(FixturePath(fixture)), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>The header and the merges CLIP uses from OpenAI's file (the rest of the file is never read).</summary>
    private static string[] OpenAiLines()
    {
        using var gzip = new GZipStream(File.OpenRead(ClipBpeFixtures.ShippedOpenAiVocabulary), CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return [.. Enumerable.Range(0, OpenAiMergeCount + 1).Select(_ => reader.ReadLine()!)];
    }

    private static Dictionary<string, int> HuggingFaceIds() =>
        JsonSerializer.Deserialize<Dictionary<string, int>>(Decompressed("vocab.json.gz"))!;

    private string WriteJson(Dictionary<string, int> ids) => WriteText("vocab.json", [JsonSerializer.Serialize(ids)]);

    /// <summary>Lines joined by '\n', gzip-compressed when the name ends in .gz.</summary>
    private string WriteText(string name, string[] lines)
    {
        byte[] text = Encoding.UTF8.GetBytes(string.Join('\n', lines) + "\n");
        return name.EndsWith(".gz", StringComparison.Ordinal) ? WriteGzip(name, text) : WriteBytes(name, text);
    }

    private string WriteGzip(string name, byte[] content)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(content);
        return WriteBytes(name, compressed.ToArray());
    }

    private string WriteBytes(string name, byte[] content)
    {
        string path = Path.Combine(folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }
}
