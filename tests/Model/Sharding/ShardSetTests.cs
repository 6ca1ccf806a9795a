using System.Text.RegularExpressions;
using ReClip.Model.Eval;
using ReClip.Model.Sharding;

namespace ReClip.Tests.Model.Sharding;

/// <summary>Shard files written, read back and merged: exact joins in any order, and the sets that must be refused.</summary>
[TestFixture]
public sealed class ShardSetTests
{
    private const int Files = 7;

    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-shards-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    private static ShardIdentity Identity(string kind = HypothesisShard.KindName) =>
        new(kind, "5e1f", 1234, "built-in OpenAI BPE", ["sky", "sea", "boat"], "folder", "/data/world", "train", Files, "c0ff",
            [KeyValuePair.Create("window", "32"), KeyValuePair.Create("stride", "16")]);

    /// <summary>Image i's hypothesis: a few classes in a first-appearance order that is not sorted.</summary>
    private static int[] HypothesisOf(int image) => image % 3 == 0 ? [] : [(image + 1) % 3, image % 3];

    private string WriteHypothesisShard(DatasetShard shard, ShardIdentity identity, string? name = null)
    {
        (int first, int length) = shard.Block(identity.Files);
        string path = Path.Combine(folder, name ?? $"h{shard.Index}of{shard.Count}.json");
        int[][] lines = [.. Enumerable.Range(first, length).Select(HypothesisOf)];
        ShardFile.Write(path, identity, shard, seconds: 0.5 * (shard.Index + 1), new HypothesisShard(lines, windows: 10 * length, empty: lines.Count(l => l.Length == 0)));
        return path;
    }

    private static MergedShards Merge(IEnumerable<string> paths) => ShardSet.Merge([.. paths.Select(ShardFile.Read)]);

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void HypothesisShardsJoinInIndexOrderWhateverTheOrderGiven(int n)
    {
        string[] paths = [.. Enumerable.Range(0, n).Select(i => WriteHypothesisShard(new DatasetShard(i, n), Identity())).Reverse()];
        MergedShards merged = Merge(paths);
        var hypotheses = (HypothesisShard)merged.Result;
        Assert.Multiple(() =>
        {
            Assert.That(hypotheses.Hypotheses, Is.EqualTo(Enumerable.Range(0, Files).Select(HypothesisOf)));
            Assert.That(hypotheses.Windows, Is.EqualTo(10 * Files));
            Assert.That(hypotheses.Empty, Is.EqualTo(Enumerable.Range(0, Files).Count(i => i % 3 == 0)));
            Assert.That(merged.Seconds, Is.EqualTo(Enumerable.Range(1, n).Sum(i => 0.5 * i)));
            Assert.That(merged.Identity.Setting("stride"), Is.EqualTo("16"));
        });
    }

    [Test]
    public void EvaluationCountsSurviveTheFileExactlyAndAddUp()
    {
        // Counts above 2^53 would not survive a double: the file must keep them as integers.
        const long Large = (1L << 60) + 1;
        ShardIdentity identity = Identity(EvaluationShard.KindName);
        long[] Confusion(int shard) => [.. Enumerable.Range(0, 9).Select(i => i == 4 ? Large : (long)(shard * 10 + i))];
        long[] Space(int shard) => [.. Enumerable.Range(0, SpacePreferenceScore.DefaultBins * 9).Select(i => (long)(shard + i))];
        string[] paths = new string[2];
        for (int shard = 0; shard < 2; shard++)
        {
            var counts = new EvaluationCounts(3);
            counts.Add(Confusion(shard), Space(shard), new DatasetShard(shard, 2).Block(Files).Length);
            paths[shard] = Path.Combine(folder, $"e{shard}.json");
            ShardFile.Write(paths[shard], identity, new DatasetShard(shard, 2), 1, new EvaluationShard(counts));
        }
        EvaluationCounts merged = ((EvaluationShard)Merge(paths).Result).Counts;
        Assert.Multiple(() =>
        {
            Assert.That(merged.Metrics.Counts.ToArray(), Is.EqualTo(Confusion(0).Zip(Confusion(1), (a, b) => a + b)));
            Assert.That(merged.Space.Counts.ToArray(), Is.EqualTo(Space(0).Zip(Space(1), (a, b) => a + b)));
            Assert.That(merged.Images, Is.EqualTo(Files));
        });
    }

    [Test]
    public void AMissingShardIsNamedAndItsRerunCompletesTheSet()
    {
        string[] paths = [.. Enumerable.Range(0, 3).Select(i => WriteHypothesisShard(new DatasetShard(i, 3), Identity()))];
        File.Delete(paths[1]);
        Assert.That(() => Merge([paths[0], paths[2]]), Throws.ArgumentException.With.Message.Contain("shard 1/3 missing"));
        WriteHypothesisShard(new DatasetShard(1, 3), Identity());
        Assert.That(((HypothesisShard)Merge(paths).Result).Hypotheses, Has.Count.EqualTo(Files));
    }

    [Test]
    public void AShardGivenTwiceIsRefused()
    {
        string first = WriteHypothesisShard(new DatasetShard(0, 2), Identity());
        string again = WriteHypothesisShard(new DatasetShard(0, 2), Identity(), "copy.json");
        string second = WriteHypothesisShard(new DatasetShard(1, 2), Identity());
        Assert.That(() => Merge([first, second, again]), Throws.ArgumentException.With.Message.Contain(first).And.Message.Contain(again).And.Message.Contain("both shard 0/2"));
    }

    private static readonly (string Field, Func<ShardIdentity, ShardIdentity> Change)[] Changes =
    [
        ("weights", i => i with { WeightsSha256 = "0bad" }),
        ("vocabulary", i => i with { Vocabulary = "--vocab sha256 77" }),
        ("classes", i => i with { Classes = ["sky", "boat", "sea"] }),
        ("preset", i => i with { Preset = "voc" }),
        ("file list", i => i with { FilesSha256 = "beef" }),
        ("setting window", i => i with { Settings = [KeyValuePair.Create("window", "48"), KeyValuePair.Create("stride", "16")] }),
        ("kind", i => i with { Kind = EvaluationShard.KindName }),
    ];

    [TestCaseSource(nameof(ChangedFields))]
    public void ShardsOfAnotherRunAreRefusedNamingTheField(string field)
    {
        Func<ShardIdentity, ShardIdentity> change = Changes.Single(c => c.Field == field).Change;
        string first = WriteHypothesisShard(new DatasetShard(0, 2), Identity());
        string other = field == "kind"
            ? OtherKind(change(Identity()))
            : WriteHypothesisShard(new DatasetShard(1, 2), change(Identity()));
        Assert.That(() => Merge([first, other]), Throws.ArgumentException.With.Message.Contain($"{field} is").And.Message.Contain(other).And.Message.Contain("another run"));
    }

    private static IEnumerable<string> ChangedFields() => Changes.Select(c => c.Field);

    private string OtherKind(ShardIdentity identity)
    {
        string path = Path.Combine(folder, "evaluation.json");
        var counts = new EvaluationCounts(3);
        counts.Add(new long[9], new long[SpacePreferenceScore.DefaultBins * 9], new DatasetShard(1, 2).Block(Files).Length);
        ShardFile.Write(path, identity, new DatasetShard(1, 2), 1, new EvaluationShard(counts));
        return path;
    }

    [Test]
    public void ShardsOfAnotherCountAreRefused()
    {
        string half = WriteHypothesisShard(new DatasetShard(0, 2), Identity());
        string third = WriteHypothesisShard(new DatasetShard(1, 3), Identity());
        Assert.That(() => Merge([half, third]), Throws.ArgumentException.With.Message.Contain("shard 1/3").And.Message.Contain("0/2").And.Message.Contain("share n"));
    }

    [Test]
    public void FilesThatAreNotCompleteShardsAreRefusedNamingTheFile()
    {
        string good = WriteHypothesisShard(new DatasetShard(0, 2), Identity());
        string text = File.ReadAllText(good);
        (string Name, string Content, string Reason)[] cases =
        [
            ("truncated.json", text[..(text.Length / 2)], "not JSON"),
            ("plain.json", "[0, 1]\n", "not a shard file"),
            ("block.json", text.Replace("\"first\":0", "\"first\":1", StringComparison.Ordinal), "not that shard's block"),
            ("class.json", text.Replace("\"hypotheses\":[[]", "\"hypotheses\":[[3]", StringComparison.Ordinal), "not a class id in [0, 3)"),
            ("lines.json", text.Replace("\"hypotheses\":[[],", "\"hypotheses\":[", StringComparison.Ordinal), "should hold 3 images but its result holds 2"),
            ("windows.json", Regex.Replace(text, "\"windows\":\\d+", "\"windows\":-5"), "'windows' is -5, not a count"),
        ];
        foreach ((string name, string content, string reason) in cases)
        {
            string path = Path.Combine(folder, name);
            File.WriteAllText(path, content);
            Assert.That(() => ShardFile.Read(path), Throws.TypeOf<InvalidDataException>().With.Message.Contain(path).And.Message.Contain(reason), name);
        }
        Assert.That(text, Does.Contain("\"first\":0").And.Contain("\"hypotheses\":[[],").And.Match("\"windows\":\\d+"), "the cases above edit these members");
    }

    [Test]
    public void AResultMustCoverItsShardsBlock()
    {
        string path = Path.Combine(folder, "short.json");
        Assert.That(() => ShardFile.Write(path, Identity(), new DatasetShard(0, 2), 1, new HypothesisShard([[0]], 1, 0)),
            Throws.ArgumentException.With.Message.Contain("holds 3 images"));
        Assert.That(File.Exists(path), Is.False);
    }
}
