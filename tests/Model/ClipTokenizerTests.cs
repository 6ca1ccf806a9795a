using System.Text.Json;
using ReClip.Model.Clip;

namespace ReClip.Tests.Model;

/// <summary>
/// The tokenizer against OpenAI's: fixtures/clip-bpe/tokenizer-cases.json holds ids that OpenAI's clip.tokenize
/// produced; every case must come out the same from OpenAI's vocabulary file and from Hugging Face's files.
/// </summary>
[TestFixture]
public sealed class ClipTokenizerTests
{
    public enum VocabularyFormat { OpenAi, HuggingFace }

    private ClipTokenizer openAi = null!;
    private ClipTokenizer huggingFace = null!;

    private static string CasesPath => Path.Combine(ClipBpeFixtures.Folder, "tokenizer-cases.json");

    [OneTimeSetUp]
    public void LoadVocabularies()
    {
        openAi = ClipTokenizer.FromOpenAiVocabulary(ClipBpeFixtures.ShippedOpenAiVocabulary);
        huggingFace = ClipTokenizer.FromHuggingFaceDirectory(ClipBpeFixtures.Folder);
    }

    public static IEnumerable<TestCaseData> OpenAiCases()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(CasesPath));
        foreach (JsonElement entry in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            string text = entry.GetProperty("text").GetString()!;
            int[] ids = [.. entry.GetProperty("ids").EnumerateArray().Select(id => id.GetInt32())];
            foreach (VocabularyFormat format in Enum.GetValues<VocabularyFormat>())
                yield return new TestCaseData(format, text, ids).SetArgDisplayNames(format.ToString(), JsonSerializer.Serialize(text));
        }
    }

    [TestCaseSource(nameof(OpenAiCases))]
    public void EveryCaseMatchesOpenAi(VocabularyFormat format, string text, int[] expected)
    {
        ClipTokenizer tokenizer = format == VocabularyFormat.OpenAi ? openAi : huggingFace;
        int[] padded = [.. expected, .. new int[ClipTokenizer.DefaultContextLength - expected.Length]];
        Assert.Multiple(() =>
        {
            Assert.That(tokenizer.EncodeForContext(text), Is.EqualTo(expected));
            Assert.That(tokenizer.Encode(text), Is.EqualTo(expected[1..^1]));
            Assert.That(tokenizer.Tokenize(text), Is.EqualTo(padded));
        });
    }

    [Test]
    public void CasesFileDescribesTheVocabularyWeLoad()
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllText(CasesPath));
        JsonElement root = document.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(openAi.VocabularySize, Is.EqualTo(root.GetProperty("vocab_size").GetInt32()));
            Assert.That(openAi.StartOfTextId, Is.EqualTo(root.GetProperty("sot").GetInt32()).And.EqualTo(49406));
            Assert.That(openAi.EndOfTextId, Is.EqualTo(root.GetProperty("eot").GetInt32()).And.EqualTo(49407));
            Assert.That(root.GetProperty("context_length").GetInt32(), Is.EqualTo(ClipTokenizer.DefaultContextLength));
        });
    }

    [Test]
    public void BothFormatsHoldTheSameVocabulary()
    {
        Assert.That(huggingFace.Tokens, Is.EqualTo(openAi.Tokens));
        Assert.That((huggingFace.StartOfTextId, huggingFace.EndOfTextId), Is.EqualTo((openAi.StartOfTextId, openAi.EndOfTextId)));
    }

    [Test]
    public void EmbeddedDefaultIsTheShippedFile()
    {
        using Stream embedded = typeof(ClipTokenizer).Assembly.GetManifestResourceStream(ClipTokenizer.EmbeddedVocabularyName)!;
        using var bytes = new MemoryStream();
        embedded.CopyTo(bytes);
        // SequenceEqual rather than Is.EqualTo: NUnit compares 1.3 million bytes one boxed element at a time.
        Assert.That(bytes.ToArray().AsSpan().SequenceEqual(File.ReadAllBytes(ClipBpeFixtures.ShippedOpenAiVocabulary)), Is.True,
            "the embedded resource differs from assets/clip-bpe/bpe_simple_vocab_16e6.txt.gz");
        Assert.That(ClipTokenizer.Default.Tokens, Is.EqualTo(openAi.Tokens));
        Assert.That(ClipTokenizer.Default.EncodeForContext("a photo of a cat."), Is.EqualTo(openAi.EncodeForContext("a photo of a cat.")));
    }

    /// <summary>Spec §2.2: the three slot ids after SOT that the Reference prompt takes for each class name.</summary>
    [TestCase("wall", 2569, 49407, 0)]
    [TestCase("dining table", 8658, 2175, 49407)]
    [TestCase("chest of drawers", 10563, 539, 38975)]
    [TestCase("skyscraper", 3075, 11187, 1284)]
    [TestCase("conveyer belt", 18421, 2371, 7373)]
    [TestCase("bed ", 2722, 49407, 0)]
    public void ClassNameSlotsMatchTheSpec(string name, int first, int second, int third) =>
        Assert.That(openAi.Tokenize(name)[1..4], Is.EqualTo(new[] { first, second, third }));

    /// <summary>Spec §2.2: the context vectors start as the embedding of id 0, the symbol "!" inside a word.</summary>
    [Test]
    public void IdZeroIsExclamationMarkWithoutEndOfWord() =>
        Assert.That((openAi.Tokens[0], openAi.Tokens[256]), Is.EqualTo(("!", "!</w>")));

    /// <summary>
    /// Texts outside the cases file whose ids come from OpenAI's algorithm (ftfy aside), for the rules that are easy to
    /// miss. Named explicitly because a control character in a generated name makes the test runner drop the case.
    /// </summary>
    [TestCase("ΟΔΟΣ", new[] { 138, 123, 138, 112, 138, 123, 139, 480 }, TestName = "{m}(Python lowercases a final Σ to ς)")]
    [TestCase("İstanbul", new[] { 328, 16384, 11231 }, TestName = "{m}(Python lowercases İ to i + combining dot)")]
    [TestCase("it'ſ", new[] { 585, 6, 129, 379 }, TestName = "{m}(case-insensitive 's also takes the long s)")]
    [TestCase("a𠀀b 𝟎1", new[] { 64, 172, 254, 222, 222, 321, 6874, 253, 492, 272 }, TestName = "{m}(letters and digits outside the BMP)")]
    [TestCase("x\u0345y", new[] { 343, 344 }, TestName = "{m}(the pattern matches U+0345 nowhere)")]
    [TestCase("&amp;lt;b&amp;gt;", new[] { 283, 321, 285 }, TestName = "{m}(HTML unescaped twice)")]
    [TestCase("a\u001Cb \u001C", new[] { 320, 472, 321 }, TestName = "{m}(U+001C is stripped at the ends only)")]
    public void EdgeCasesMatchOpenAi(string text, int[] expected) =>
        Assert.That(openAi.Encode(text), Is.EqualTo(expected));

    [Test]
    public void TextThatFillsTheContextExactlyFits()
    {
        string text = string.Join(' ', Enumerable.Repeat("a", ClipTokenizer.DefaultContextLength - 2));
        int[] row = openAi.Tokenize(text);
        Assert.That(row[0], Is.EqualTo(openAi.StartOfTextId));
        Assert.That(row[^1], Is.EqualTo(openAi.EndOfTextId));
    }

    [Test]
    public void TextTooLongForTheContextIsAnErrorNamingTextAndLength()
    {
        string text = string.Join(' ', Enumerable.Repeat("a", ClipTokenizer.DefaultContextLength - 1));
        var error = Assert.Throws<ArgumentException>(() => openAi.Tokenize(text));
        // The text is quoted with its middle cut out: a whole prompt would bury the message.
        Assert.That(error!.Message, Does.Contain($"\"{text[..30]}…{text[^30..]}\"").And.Contain("78 tokens").And.Contain("context length 77"));
    }

    [Test]
    public void TruncateKeepsTheFirstTokensAndEndsWithEndOfText()
    {
        int[] full = openAi.EncodeForContext("a photo of a cat.");
        int[] cut = openAi.Tokenize("a photo of a cat.", contextLength: 5, truncate: true);
        Assert.That(cut, Is.EqualTo(new[] { full[0], full[1], full[2], full[3], openAi.EndOfTextId }));
    }

    [Test]
    public void ShortTextIsPaddedWithZerosToTheContextLength()
    {
        int[] row = openAi.Tokenize("a photo of a cat.", contextLength: 16, truncate: true);
        Assert.That(row, Is.EqualTo(new[] { 49406, 320, 1125, 539, 320, 2368, 269, 49407, 0, 0, 0, 0, 0, 0, 0, 0 }));
    }

    [TestCase(0)]
    [TestCase(-1)]
    public void ContextLengthMustBePositive(int contextLength) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => openAi.Tokenize("cat", contextLength));

    [Test]
    public void DecodeSpellsWordsWithTheirEndAsSpace()
    {
        Assert.That(openAi.Decode(openAi.Encode("A photo of a cat.")), Is.EqualTo("a photo of a cat . "));
        Assert.That(openAi.Decode([320, 1125, 49406, 49407, 0, 256]), Is.EqualTo("a photo <|startoftext|><|endoftext|>!! "));
    }

    [Test]
    public void DecodeReplacesBrokenUtf8LikePython() =>
        Assert.That(openAi.Decode([172]), Is.EqualTo("\uFFFD"), "id 172 is the lone byte 0xF0");

    [Test]
    public void DecodeRejectsAnIdOutsideTheVocabulary()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => openAi.Decode([49408]));
        Assert.That(error!.Message, Does.Contain("49408"));
    }

    [Test]
    public void ConcurrentCallersGetTheSameIds()
    {
        ClipTokenizer fresh = ClipTokenizer.FromOpenAiVocabulary(ClipBpeFixtures.ShippedOpenAiVocabulary);
        string[] texts = [.. AdePromptBank.Prompts().Take(2000)];
        int[][] sequential = [.. texts.Select(openAi.Encode)];
        int[][] parallel = new int[texts.Length][];
        Parallel.For(0, texts.Length, i => parallel[i] = fresh.Encode(texts[i]));
        Assert.That(parallel, Is.EqualTo(sequential));
    }

    [Test]
    public void PromptBankOfAde20kTokenizesIntoTheContext()
    {
        ClipTokenizer cold = ClipTokenizer.FromOpenAiVocabulary(ClipBpeFixtures.ShippedOpenAiVocabulary);
        int[][] rows = [.. AdePromptBank.Prompts().Select(prompt => cold.Tokenize(prompt))];
        Assert.That(rows, Has.Length.EqualTo(AdePromptBank.Templates.Length * AdePromptBank.Names.Length));
        Assert.That(rows.Select(row => row[0]), Is.All.EqualTo(cold.StartOfTextId));
        Assert.That(rows.Select(row => Array.IndexOf(row, cold.EndOfTextId)), Is.All.InRange(2, 76));
    }
}
