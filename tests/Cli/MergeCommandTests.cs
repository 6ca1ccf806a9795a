using System.Text.Json;
using ReClip.Model.Clip;
using ReClip.Model.Data.Synthetic;
using ReClip.Model.ReClip;
using ReClip.Model.Sharding;
using ReClip.Tests.Model;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>
/// `hypothesize --shard`, `eval --shard` and `merge` on three synthetic scenes with the bundled tiny CLIP (its Query
/// bank is a cached random one, so no run spends time in the text tower): merged shards give the single run's file
/// byte for byte for n = 1, 2, 3, and incomplete, duplicated or mixed sets are refused.
/// </summary>
[TestFixture]
public sealed class MergeCommandTests
{
    private const int Images = 3;

    /// <summary>48-pixel windows every 40 pixels: four per 128-pixel scene, enough for a few classes per image and quick.</summary>
    private const string Window = "48", Stride = "40";

    private readonly Dictionary<string, string[]> shardSets = [];
    private string folder = "";
    private string root = "";
    private string tiny = "";

    [OneTimeSetUp]
    public void CreateWorld()
    {
        folder = Directory.CreateTempSubdirectory("reclip-cli-merge-").FullName;
        root = Path.Combine(folder, "world");
        SyntheticDataset.Write(root, Images, seed: 31);
        tiny = CheckoutFile.Find("assets/tinyclip/tinyclip-synthetic.safetensors");
        using (ClipWeights clip = ClipWeights.Load(tiny))
            CachedQueryBank.Store(folder, tiny, clip.Config.EmbedDim, SyntheticClasses.Names);
        CachedQueryBank.Store(folder, SyntheticClasses.Names);
    }

    [OneTimeTearDown]
    public void DeleteWorld() => Directory.Delete(folder, recursive: true);

    private string[] Hypothesize(string output, params string[] extra) =>
        ["hypothesize", "--weights", tiny, "--dataset", "folder", "--root", root, "--window", Window, "--stride", Stride, "--out", output, .. extra];

    private string[] Eval(string output, params string[] extra) =>
        ["eval", "--method", "maskclip", "--weights", tiny, "--dataset", "folder", "--root", root, "--json", "--out", output, .. extra];

    private ReclipProcess.Result Run(params string[] arguments) => ReclipProcess.Run(CachedQueryBank.Environment(folder), arguments);

    private string Succeed(params string[] arguments)
    {
        ReclipProcess.Result result = Run(arguments);
        Assert.That(result.ExitCode, Is.Zero, $"reclip {string.Join(' ', arguments)}: {result.Stderr}");
        return result.Stdout;
    }

    /// <summary>The file one run over the whole split writes (made once per kind).</summary>
    private string Single(string kind)
    {
        string path = Path.Combine(folder, $"single-{kind}.json");
        if (!File.Exists(path))
            Succeed(kind == HypothesisShard.KindName ? Hypothesize(path) : Eval(path));
        return path;
    }

    /// <summary>The n shard files of one sharded run (made once per kind and n).</summary>
    private string[] Shards(string kind, int n)
    {
        string key = $"{kind}-{n}";
        if (!shardSets.TryGetValue(key, out string[]? paths))
        {
            paths = [.. Enumerable.Range(0, n).Select(i => Path.Combine(folder, $"{key}-{i}.json"))];
            for (int i = 0; i < n; i++)
                Succeed(ShardRun(kind, paths[i], $"{i}/{n}"));
            shardSets[key] = paths;
        }
        return paths;
    }

    private string[] ShardRun(string kind, string output, string shard, params string[] extra) =>
        kind == HypothesisShard.KindName ? Hypothesize(output, ["--shard", shard, .. extra]) : Eval(output, ["--shard", shard, .. extra]);

    /// <summary>A report without its timing lines (seconds and images per second differ between any two runs).</summary>
    private static string Timeless(string report) =>
        string.Join('\n', report.Split('\n').Where(line => !line.Contains("\"seconds\":", StringComparison.Ordinal) && !line.Contains("\"images_per_second\":", StringComparison.Ordinal)));

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void MergedHypothesisShardsAreTheSingleRunsFileByteForByte(int n)
    {
        string merged = Path.Combine(folder, $"merged-hypothesis-{n}.jsonl");
        string summary = Succeed(["merge", merged, .. Shards(HypothesisShard.KindName, n).Reverse()]);
        byte[] single = File.ReadAllBytes(Single(HypothesisShard.KindName));
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllBytes(merged), Is.EqualTo(single));
            Assert.That(File.ReadAllText(merged + HypothesisFile.SplitSuffix), Is.EqualTo(File.ReadAllText(Single(HypothesisShard.KindName) + HypothesisFile.SplitSuffix)),
                "the same split file: the images the hypotheses were made for");
            Assert.That(File.ReadAllLines(merged), Has.Length.EqualTo(Images).And.Some.Not.EqualTo("[]"), "a hypothesis per image, not all empty");
            Assert.That(summary, Does.Contain($"{merged}: {Images} images, {4 * Images} windows of 48 px every 40 px"));
        });
    }

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void MergedEvaluationShardsAreTheSingleRunsReportExceptTheTimes(int n)
    {
        string merged = Path.Combine(folder, $"merged-evaluation-{n}.json");
        string[] shards = Shards(EvaluationShard.KindName, n);
        Succeed(["merge", merged, .. shards, "--json"]);
        string single = File.ReadAllText(Single(EvaluationShard.KindName)), joined = File.ReadAllText(merged);
        using JsonDocument report = JsonDocument.Parse(joined);
        Assert.Multiple(() =>
        {
            Assert.That(Timeless(joined), Is.EqualTo(Timeless(single)));
            Assert.That(report.RootElement.GetProperty("images").GetInt32(), Is.EqualTo(Images));
            Assert.That(report.RootElement.GetProperty("miou").GetDouble(), Is.InRange(0, 1));
            Assert.That(report.RootElement.GetProperty("seconds").GetDouble(), Is.EqualTo(shards.Sum(s => ShardFile.Read(s).Seconds)).Within(1e-9), "the shards' time, summed");
        });
    }

    /// <summary>A merge that must fail: exit 1, one line naming the reason on stderr, nothing on stdout, no output file.</summary>
    private void Refused(string reason, params string[] shards)
    {
        string output = Path.Combine(folder, "refused.out");
        ReclipProcess.Result result = Run(["merge", output, .. shards]);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1), result.Stderr);
            Assert.That(result.Stderr.TrimEnd().Split('\n'), Has.Length.EqualTo(1).And.Some.Contain(reason));
            Assert.That(result.Stdout, Is.Empty);
            Assert.That(File.Exists(output), Is.False);
        });
    }

    [Test]
    public void AMissingShardIsRefusedAndRerunningItAloneCompletesTheSet()
    {
        string[] shards = Shards(HypothesisShard.KindName, 3);
        Refused("shard 1/3 missing", shards[0], shards[2]);
        string rerun = Path.Combine(folder, "rerun-1.json");
        Succeed(ShardRun(HypothesisShard.KindName, rerun, "1/3"));
        string merged = Path.Combine(folder, "merged-after-rerun.jsonl");
        Succeed("merge", merged, shards[0], rerun, shards[2]);
        Assert.That(File.ReadAllBytes(merged), Is.EqualTo(File.ReadAllBytes(Single(HypothesisShard.KindName))));
    }

    [Test]
    public void DuplicatedOrMixedShardsAreRefused()
    {
        string[] halves = Shards(EvaluationShard.KindName, 2), thirds = Shards(EvaluationShard.KindName, 3);
        string copy = Path.Combine(folder, "copy-of-1.json");
        File.Copy(halves[1], copy, overwrite: true);
        Refused("both shard 1/2", halves[0], halves[1], copy);
        Refused("share n", halves[0], thirds[1], thirds[2]);
        Refused("kind is hypothesis", halves[0], Shards(HypothesisShard.KindName, 2)[1]);
        Refused("the output is also given as a shard", halves[0], Path.Combine(folder, "refused.out"));
    }

    /// <summary>A shard file whose bias setting names no form (an edited file) is refused, not reported as some head's.</summary>
    [Test]
    public void AnUnknownBiasInTheShardsIsRefused()
    {
        string shard = Shards(EvaluationShard.KindName, 1)[0], edited = Path.Combine(folder, "bias-garbage.json");
        File.WriteAllText(edited, File.ReadAllText(shard).Replace("\"slide\":\"false\"", "\"slide\":\"false\",\"bias\":\"garbage\"", StringComparison.Ordinal));
        Assert.That(File.ReadAllText(edited), Does.Contain("garbage"), "the test edits the settings");
        Refused("the shards' setting bias is 'garbage', not one of both, class, space, none", edited);
    }

    [Test]
    public void ShardsOfOtherWeightsOrAnotherVocabularyAreRefused()
    {
        string[] halves = Shards(HypothesisShard.KindName, 2);
        string otherWeights = Path.Combine(folder, "other-weights.json");
        Succeed(["hypothesize", "--weights", ClipFixture.PathOf("weights_openai.safetensors"), "--dataset", "folder", "--root", root,
            "--window", Window, "--stride", Stride, "--out", otherWeights, "--shard", "1/2"]);
        Refused("weights is sha256", halves[0], otherWeights);
        string otherVocabulary = Path.Combine(folder, "other-vocabulary.json");
        Succeed(ShardRun(HypothesisShard.KindName, otherVocabulary, "1/2", "--vocab", CheckoutFile.Find("assets/clip-bpe/bpe_simple_vocab_16e6.txt.gz")));
        Refused("vocabulary is --vocab sha256", halves[0], otherVocabulary);
    }

    [TestCase("hypothesize", "3/3", "0 ≤ i < n")]
    [TestCase("hypothesize", "-1/2", "is not i/n")]
    [TestCase("hypothesize", "1", "is not i/n")]
    [TestCase("eval", "0/0", "0 ≤ i < n")]
    [TestCase("eval", "x/2", "is not i/n")]
    public void ABadShardValueIsAUsageError(string command, string value, string reason)
    {
        string output = Path.Combine(folder, "never.json");
        ReclipProcess.Result result = Run(command == "eval" ? Eval(output, "--shard", value) : Hypothesize(output, "--shard", value));
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Stderr, Does.Contain($"--shard '{value}'").And.Contain(reason).And.Contain($"usage: reclip {command}"));
            Assert.That(File.Exists(output), Is.False);
        });
    }

    [Test]
    public void EvalShardsNeedAnOutputAndAtMostOneShardPerImage()
    {
        ReclipProcess.Result noOutput = Run("eval", "--method", "maskclip", "--weights", tiny, "--dataset", "folder", "--root", root, "--shard", "0/2");
        string output = Path.Combine(folder, "too-many.json");
        ReclipProcess.Result tooMany = Run(Hypothesize(output, "--shard", "0/4"));
        Assert.Multiple(() =>
        {
            Assert.That(noOutput.ExitCode, Is.EqualTo(1));
            Assert.That(noOutput.Stderr, Does.Contain("--shard needs --out").And.Contain("usage: reclip eval"));
            Assert.That(tooMany.ExitCode, Is.EqualTo(1));
            Assert.That(tooMany.Stderr, Does.Contain($"only {Images} images, so at most {Images} shards"));
            Assert.That(File.Exists(output), Is.False);
        });
    }
}
