using System.Text.Json;
using ReClip.Model.Clip;
using ReClip.Model.Data;
using ReClip.Model.Data.Synthetic;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;
using ReClip.Tests.Model;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>
/// `reclip hypothesize` on a small synthetic folder without labels/ and the tiny CLIP. The CLI tokenises the 85
/// templates with OpenAI's vocabulary, so the tiny CLIP's 300-row token table is widened here to OpenAI's 49408
/// rows (seeded random extra rows); its image tower is the fixture's.
/// </summary>
[TestFixture]
public sealed class HypothesizeCommandTests
{
    private const int OpenAiVocabulary = 49408;
    private const int SceneSize = 64;

    private string folder = "";
    private string weights = "";
    private string data = "";

    [OneTimeSetUp]
    public void CreateWorld()
    {
        folder = Directory.CreateTempSubdirectory("reclip-cli-hypothesis-").FullName;
        weights = Path.Combine(folder, "clip_openai_vocab.safetensors");
        WriteWidenedFixture(weights);
        data = Path.Combine(folder, "world");
        SyntheticDataset.Write(data, count: 2, seed: 3, size: SceneSize);
        // A plain image folder: no labels, and one picture smaller than the folder preset's 32-pixel window.
        Directory.Delete(Path.Combine(data, "labels"), recursive: true);
        PngFiles.WriteRgb(Path.Combine(data, "images", "tiny.png"), new RgbImage(24, 24));
    }

    [OneTimeTearDown]
    public void DeleteWorld() => Directory.Delete(folder, recursive: true);

    /// <summary>Runs with the test's own cache folder: the command keeps the Query bank it builds there.</summary>
    private ReclipProcess.Result Run(params string[] arguments) => ReclipProcess.Run(CachedQueryBank.Environment(Path.Combine(folder, "cache")), arguments);

    /// <summary>Ctrl-C part-way exits with 130, says so, and writes no hypothesis file (it is written only when complete).</summary>
    [Test]
    public void InterruptExitsWith130AndWritesNothing()
    {
        string many = Path.Combine(folder, "many"), output = Path.Combine(folder, "interrupted.jsonl");
        InterruptedRun.LinkedDataset(data, many, 20_000);
        (int exitCode, string stderr) = InterruptedRun.Of(CachedQueryBank.Environment(Path.Combine(folder, "cache")),
            ["hypothesize", "--weights", weights, "--dataset", "folder", "--root", many, "--out", output], "hypothesis");
        Assert.That(exitCode, Is.EqualTo(130), stderr);
        Assert.That(stderr, Does.EndWith($"reclip: interrupted; nothing was written to {output}\n"));
        Assert.That(File.Exists(output), Is.False);
    }

    [TestCase(null, null, 32, 16, 8, 1)]
    [TestCase(20, 10, 20, 10, 51, 0)]
    public void WritesTheHypothesisOfEveryImageAndSumsUp(int? window, int? stride, int side, int step, int windows, int empty)
    {
        string output = Path.Combine(folder, $"hypothesis_{side}.json");
        var arguments = new List<string> { "hypothesize", "--json", "--weights", weights, "--dataset", "folder", "--root", data, "--out", output };
        if (window is not null) arguments.AddRange(["--window", $"{window}", "--stride", $"{stride}"]);
        ReclipProcess.Result result = Run([.. arguments]);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);

        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement r = report.RootElement;
        Assert.That(r.GetProperty("images").GetInt32(), Is.EqualTo(3));
        Assert.That(r.GetProperty("windows").GetInt64(), Is.EqualTo(windows));
        Assert.That(r.GetProperty("empty").GetInt32(), Is.EqualTo(empty));
        Assert.That((r.GetProperty("window").GetInt32(), r.GetProperty("stride").GetInt32()), Is.EqualTo((side, step)));
        Assert.That(r.GetProperty("images_per_second").GetDouble(), Is.Positive);

        int[][] expected = InProcess(side, step);
        Assert.That(File.ReadAllText(output), Is.EqualTo(string.Concat(expected.Select(h => $"[{string.Join(", ", h)}]\n"))));
        Assert.That(r.GetProperty("mean_classes_per_image").GetDouble(), Is.EqualTo(expected.Average(h => h.Length)).Within(1e-9));
        Assert.That(HypothesisFile.Read(output, images: 3, classes: SyntheticClasses.Names.Count), Has.Length.EqualTo(3));
    }

    [Test]
    public void TheTextSummaryCountsTheEmptyHypotheses()
    {
        string output = Path.Combine(folder, "summary.json");
        ReclipProcess.Result result = Run("hypothesize", "--weights", weights, "--dataset", "folder", "--root", data, "--out", output);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(result.Stdout, Does.Contain("3 images, 8 windows of 32 px every 16 px").And.Contain("1 images no larger than a window"));
    }

    [Test]
    public void BadInputIsOneLineAndLeavesNoFile()
    {
        string broken = Path.Combine(folder, "broken");
        SyntheticDataset.Write(broken, count: 1, seed: 4, size: SceneSize);
        File.WriteAllBytes(Path.Combine(broken, "labels", "zz.png"), [0x89, 0x50, 0x4E, 0x47]);
        File.WriteAllBytes(Path.Combine(broken, "images", "zz.png"), [0x89, 0x50, 0x4E, 0x47]);
        string output = Path.Combine(folder, "never.json");
        string[] common = ["hypothesize", "--out", output];
        (string[] Arguments, string Named)[] cases =
        [
            ([.. common, "--weights", Path.Combine(folder, "absent.safetensors"), "--dataset", "folder", "--root", data], "absent.safetensors"),
            ([.. common, "--weights", weights, "--dataset", "pascal", "--root", data], "unknown dataset 'pascal'"),
            ([.. common, "--weights", weights, "--dataset", "folder", "--root", broken], Path.Combine(broken, "images", "zz.png")),
            ([.. common, "--weights", weights, "--dataset", "folder", "--root", data, "--window", "0"], "--window must be a positive"),
            ([.. common, "--weights", ClipFixture.PathOf("weights_openai.safetensors"), "--dataset", "folder", "--root", data], "the text tower has 300 tokens"),
        ];
        foreach ((string[] arguments, string named) in cases)
        {
            ReclipProcess.Result result = Run(arguments);
            Assert.That(result.ExitCode, Is.EqualTo(1), named);
            Assert.That(result.Stderr.TrimEnd().Split('\n').Last(), Does.Contain(named));
            Assert.That(result.Stdout, Is.Empty, named);
            Assert.That(File.Exists(output), Is.False, named);
        }
    }

    /// <summary>The same run through the library: the hypothesis of each image of the folder in sample order.</summary>
    private int[][] InProcess(int window, int stride)
    {
        var dataset = ReClip.Model.Data.Datasets.SegmentationDataset.Open(ReClip.Model.Data.Datasets.DatasetPreset.Folder, data, "train");
        using ClipWeights clip = ClipWeights.Load(weights);
        using Tensor bank = QueryBank.Build(new TextTransformer(clip), ClipTokenizer.Default, dataset.Classes);
        var hypothesis = new Hypothesis(clip, bank, window, stride);
        return [.. dataset.Samples.Select(s => hypothesis.Of(dataset.ReadImage(s)))];
    }

    /// <summary>The fixture CLIP with its token table grown to OpenAI's size; the extra rows are seeded f16 noise.</summary>
    private static void WriteWidenedFixture(string path)
    {
        using var source = SafetensorsFile.Open(ClipFixture.PathOf("weights_openai.safetensors"));
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (WeightEntry entry in source.Entries)
                tensors[entry.Name] = source.Load(entry.Name);
            Tensor table = tensors["token_embedding.weight"];
            int rows = table.Size(0), width = table.Size(1);
            Tensor widened = Tensor.Empty([OpenAiVocabulary, width], DType.F16);
            Span<Half> values = widened.AsSpan<Half>();
            table.AsSpan<Half>().CopyTo(values);
            var random = new Random(17);
            for (int i = rows * width; i < values.Length; i++)
                values[i] = (Half)((random.NextDouble() - 0.5) * 0.5);
            tensors["token_embedding.weight"] = widened;
            table.Dispose();
            SafetensorsWriter.Write(path, tensors);
        }
        finally
        {
            foreach (Tensor t in tensors.Values) t.Dispose();
        }
    }
}
