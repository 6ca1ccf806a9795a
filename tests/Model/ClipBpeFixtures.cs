namespace ReClip.Tests.Model;

/// <summary>Where the tokenizer tests find their files: the fixtures next to the test assembly, and the vocabulary the project ships.</summary>
internal static class ClipBpeFixtures
{
    private const string ShippedRelativePath = "assets/clip-bpe/bpe_simple_vocab_16e6.txt.gz";

    private static readonly Lazy<string> Shipped = new(FindShipped);

    /// <summary>tests/fixtures/clip-bpe: Hugging Face's vocab.json.gz and merges.txt.gz, and tokenizer-cases.json.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "fixtures", "clip-bpe");

    /// <summary>The checkout's assets/clip-bpe/bpe_simple_vocab_16e6.txt.gz, the file embedded in the Model assembly.</summary>
    public static string ShippedOpenAiVocabulary => Shipped.Value;

    /// <summary>The test assembly is built under tests/bin inside the checkout, so the file lies in a folder above it.</summary>
    private static string FindShipped()
    {
        for (DirectoryInfo? folder = new(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            string candidate = Path.Combine(folder.FullName, ShippedRelativePath);
            if (File.Exists(candidate))
                return candidate;
        }
        throw new FileNotFoundException($"no {ShippedRelativePath} in any folder above {AppContext.BaseDirectory}");
    }
}
