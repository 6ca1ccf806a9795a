using System.Text.Json;
using ReClip.Tests.Model;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

[TestFixture]
public sealed class TokenizeCommandTests
{
    private const string CatIds = "49406 320 1125 539 320 2368 269 49407";
    private const string DrawersIds = "49406 10563 539 38975 49407";

    [Test]
    public void PrintsOneLineOfIdsPerTextFromStartToEndOfText()
    {
        ReclipProcess.Result result = ReclipProcess.Run("tokenize", "a photo of a cat.", "chest of drawers");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(Lines(result.Stdout), Is.EqualTo(new[] { CatIds, DrawersIds }));
    }

    [Test]
    public void JsonListsTheIdsOfEachText()
    {
        ReclipProcess.Result result = ReclipProcess.Run("tokenize", "--json", "a photo of a cat.", "chest of drawers");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        string[] rows = [.. report.RootElement.GetProperty("tokens").EnumerateArray()
            .Select(row => string.Join(' ', row.EnumerateArray().Select(id => id.GetInt32())))];
        Assert.That(rows, Is.EqualTo(new[] { CatIds, DrawersIds }));
    }

    [Test]
    public void HuggingFaceVocabularyGivesTheSameIds()
    {
        ReclipProcess.Result result = ReclipProcess.Run("tokenize", "--hf-vocab", ClipBpeFixtures.Folder, "a photo of a cat.");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(Lines(result.Stdout), Is.EqualTo(new[] { CatIds }));
    }

    [Test]
    public void TruncateCutsToTheContextAndEndsWithEndOfText()
    {
        ReclipProcess.Result result = ReclipProcess.Run("tokenize", "--context-length", "5", "--truncate", "a photo of a cat.");
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(Lines(result.Stdout), Is.EqualTo(new[] { "49406 320 1125 539 49407" }));
    }

    [Test]
    public void TextTooLongForTheContextExitsWithBadInputNamingIt()
    {
        ReclipProcess.Result result = ReclipProcess.Run("tokenize", "--context-length", "5", "a photo of a cat.");
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(Lines(result.Stderr), Has.Length.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("\"a photo of a cat.\"").And.Contain("8 tokens"));
    }

    [Test]
    public void MissingVocabularyFileExitsWithBadInputNamingIt()
    {
        string path = Path.Combine(Path.GetTempPath(), $"reclip-no-such-vocab-{Guid.NewGuid():N}.txt.gz");
        ReclipProcess.Result result = ReclipProcess.Run("tokenize", "--vocab", path, "cat");
        Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
        Assert.That(Lines(result.Stderr), Has.Length.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain(path));
    }

    private static string[] Lines(string output) => output.TrimEnd().Split('\n');
}
