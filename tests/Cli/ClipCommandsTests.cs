using System.Text.Json;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Model;
using ReClip.Tests.Support;

namespace ReClip.Tests.Cli;

/// <summary>`reclip convert` and `reclip features` on the tiny CLIP of tools/reference/clip_ref.py.</summary>
[TestFixture]
public sealed class ClipCommandsTests
{
    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-cli-clip-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [TestCase("weights_hf.safetensors")]
    [TestCase("weights_torchscript.pt")]
    public void ConvertWritesOurLayout(string file)
    {
        string output = Path.Combine(folder, "converted.safetensors");
        ReclipProcess.Result result = ReclipProcess.Run("convert", ClipFixture.PathOf(file), output);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        Assert.That(result.Stdout, Does.Contain("vision 128×2 patch 8"));
        using ClipWeights expected = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        using ClipWeights converted = ClipWeights.Load(output);
        Assert.That(converted.Layout, Is.EqualTo(WeightLayout.OpenAi));
        Assert.That(converted.Config, Is.EqualTo(expected.Config));
        foreach ((string name, Tensor tensor) in expected.Tensors)
            Assert.That(converted[name].ToFloatArray(), Is.EqualTo(tensor.ToFloatArray()), name);
    }

    [Test]
    public void ConvertNamesTheFileThatIsNotClip()
    {
        string input = Path.Combine(AppContext.BaseDirectory, "fixtures", "torch", "state_dict_f16.pt");
        ReclipProcess.Result result = ReclipProcess.Run("convert", input, Path.Combine(folder, "out.safetensors"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain(input).And.Contain("missing"));
        Assert.That(File.Exists(Path.Combine(folder, "out.safetensors")), Is.False);
    }

    [Test]
    public void FeaturesOfIdsMatchTheReference()
    {
        using var fixture = new ClipFixture();
        int[] ids = fixture.Ints("text_ids");
        const int length = 16, embed = 64;
        string[] sequences = [.. Enumerable.Range(0, ids.Length / length).Select(r =>
            string.Join(' ', ids.Skip(r * length).Take(length).Reverse().SkipWhile(id => id == 0).Reverse()))];
        var arguments = new List<string> { "features", "--json", "--weights", ClipFixture.PathOf("weights_open_clip.pt") };
        foreach (string s in sequences) arguments.AddRange(["--ids", s]);
        ReclipProcess.Result result = ReclipProcess.Run([.. arguments]);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        JsonElement[] rows = [.. report.RootElement.GetProperty("text").EnumerateArray()];
        Assert.That(rows.Select(r => r.GetArrayLength()), Is.All.EqualTo(embed));
        float[] actual = [.. rows.SelectMany(row => row.EnumerateArray().Select(v => v.GetSingle()))];
        float[] expected = fixture.Values("text");
        // JSON round-trips floats exactly; 1e-4 is the feature tolerance of the model tests (raw features are O(1)).
        Assert.That(ClipFixture.MaxAbs(actual, expected), Is.LessThan(1e-4));
    }

    /// <summary>The fixture's text tower has 300 tokens: OpenAI's BPE ids would index past its table, and so would an id above 299.</summary>
    [Test]
    public void FeaturesRefuseIdsTheTextTowerDoesNotHave()
    {
        string weights = ClipFixture.PathOf("weights_openai.safetensors");
        ReclipProcess.Result text = ReclipProcess.Run("features", "--weights", weights, "--text", "a cat");
        ReclipProcess.Result ids = ReclipProcess.Run("features", "--weights", weights, "--ids", "1 300 2");
        Assert.Multiple(() =>
        {
            Assert.That(text.ExitCode, Is.EqualTo(1));
            Assert.That(text.Stderr, Does.Contain($"{weights}: the text tower has 300 tokens").And.Contain("--ids"));
            Assert.That(ids.ExitCode, Is.EqualTo(1));
            Assert.That(ids.Stderr, Does.Contain("'300' is not a token id of this text tower (0..299)"));
        });
    }

    [Test]
    public void FeaturesOfAnImageFileGivePooledAndDenseMaps()
    {
        // A PNG at the tiny model's native size: the command must read it, normalise it as CLIP does and give the
        // same embeddings as the model run in-process on the same pixels.
        var image = new ReClip.Model.Data.RgbImage(24, 24);
        new Random(5).NextBytes(image.Pixels);
        string path = Path.Combine(folder, "probe.png");
        ReClip.Model.Data.PngFiles.WriteRgb(path, image);
        ReclipProcess.Result result = ReclipProcess.Run("features", "--json", "--dense", "--weights", ClipFixture.PathOf("weights_openai.safetensors"), "--image", path);
        Assert.That(result.ExitCode, Is.Zero, result.Stderr);
        using JsonDocument report = JsonDocument.Parse(result.Stdout);
        float[] pooled = [.. report.RootElement.GetProperty("image")[0].EnumerateArray().Select(v => v.GetSingle())];
        JsonElement dense = report.RootElement.GetProperty("dense")[0];
        using var weights = ReClip.Model.Clip.ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        using ReClip.Runtime.Tensors.Tensor input = ReClip.Model.Clip.ClipImage.Normalize(image);
        using ReClip.Runtime.Tensors.Tensor expected = new ReClip.Model.Clip.VisionTransformer(weights).Encode(input);
        Assert.That(pooled, Is.EqualTo(expected.ToFloatArray()));
        Assert.That(dense.GetArrayLength(), Is.EqualTo(weights.Config.EmbedDim), "channels first");
        Assert.That(dense[0].GetArrayLength(), Is.EqualTo(24 / weights.Config.PatchSize), "rows of patches");
    }

    [Test]
    public void FeaturesOnCudaWithoutADriverFailsWithTheReason()
    {
        if (ReClip.Runtime.Cuda.CudaDriver.IsAvailable)
            Assert.Ignore("a CUDA driver loads here; tools/gpu/run.sh holds the GPU's features against the CPU's");
        var image = new ReClip.Model.Data.RgbImage(24, 24);
        string path = Path.Combine(folder, "probe.png");
        ReClip.Model.Data.PngFiles.WriteRgb(path, image);
        ReclipProcess.Result result = ReclipProcess.Run("features", "--device", "cuda", "--weights", ClipFixture.PathOf("weights_openai.safetensors"), "--image", path);
        Assert.That(result.ExitCode, Is.EqualTo(2), result.Stderr);
        Assert.That(result.Stdout, Is.Empty);
        Assert.That(result.Stderr, Does.Contain("not available"));
    }

    [Test]
    public void FeaturesWithoutInputsIsBadInput()
    {
        ReclipProcess.Result result = ReclipProcess.Run("features", "--weights", ClipFixture.PathOf("weights_openai.safetensors"));
        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Stderr, Does.Contain("--image, --text or --ids"));
    }
}
