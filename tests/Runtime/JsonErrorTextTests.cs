using System.Text.Json;
using ReClip.Runtime.IO;

namespace ReClip.Tests.Runtime;

[TestFixture]
public sealed class JsonErrorTextTests
{
    [Test]
    public void KeepsTheSentenceAndCountsFromOne()
    {
        JsonException oneLine = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<int[]>("[0,"))!;
        JsonException twoLines = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<Dictionary<string, int>>("{\n  \"a\": }"))!;
        Assert.Multiple(() =>
        {
            Assert.That(oneLine.Message, Does.Contain("LineNumber: 0"), "the parser's own tail, replaced below");
            Assert.That(JsonErrorText.Of(oneLine), Does.EndWith(", at byte 3").And.Not.Contain("LineNumber"));
            Assert.That(JsonErrorText.Of(twoLines), Does.EndWith(", at line 2 byte 8").And.Not.Contain("Path:"));
        });
    }
}
