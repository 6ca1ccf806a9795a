using ReClip.Tests.Support;

namespace ReClip.Tests.Model;

/// <summary>Where the tokenizer tests find their files: the fixtures next to the test assembly, and the vocabulary the project ships.</summary>
internal static class ClipBpeFixtures
{
    private const string ShippedRelativePath = "assets/clip-bpe/bpe_simple_vocab_16e6.txt.gz";

    private static readonly Lazy<string> Shipped = new(() => CheckoutFile.Find(ShippedRelativePath));

    /// <summary>tests/fixtures/clip-bpe: Hugging Face's vocab.json.gz and merges.txt.gz, and tokenizer-cases.json.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "fixtures", "clip-bpe");

    /// <summary>The checkout's assets/clip-bpe/bpe_simple_vocab_16e6.txt.gz, the file embedded in the Model assembly.</summary>
    public static string ShippedOpenAiVocabulary => Shipped.Value;
}
