using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Model;

/// <summary>ClipWeights reads every layout into the same tensors and config, and rejects incomplete files with one error.</summary>
[TestFixture]
public sealed class ClipWeightsTests
{
    private static readonly ClipConfig Tiny = new(VisionWidth: 128, VisionLayers: 2, PatchSize: 8, VisionGrid: 3,
        TextWidth: 64, TextLayers: 2, ContextLength: 16, VocabularySize: 300, EmbedDim: 64);

    private string folder = "";

    [SetUp]
    public void CreateFolder() => folder = Directory.CreateTempSubdirectory("reclip-clip-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(folder, recursive: true);

    [TestCaseSource(typeof(ClipFixture), nameof(ClipFixture.WeightFiles))]
    public void EveryFormatGivesTheSameWeights(string file)
    {
        using ClipWeights expected = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        using ClipWeights actual = ClipWeights.Load(ClipFixture.PathOf(file));
        Assert.That(actual.Config, Is.EqualTo(Tiny));
        Assert.That(actual.Layout, Is.EqualTo(file.Contains("hf", StringComparison.Ordinal) ? WeightLayout.HuggingFace : WeightLayout.OpenAi));
        Assert.That(actual.Tensors.Keys, Is.EqualTo(expected.Tensors.Keys));
        foreach ((string name, Tensor tensor) in expected.Tensors)
        {
            Assert.That(actual[name].Shape.ToArray(), Is.EqualTo(tensor.Shape.ToArray()), name);
            // The weights are f16 values in every file, so widening gives bit-identical f32.
            Assert.That(actual[name].ToFloatArray(), Is.EqualTo(tensor.ToFloatArray()), name);
        }
        Assert.That(actual.Config.VisionHeads, Is.EqualTo(2));
        Assert.That(actual.Config.TextHeads, Is.EqualTo(1));
        Assert.That(actual.LogitScale, Is.EqualTo(MathF.Log(1 / 0.07f)).Within(1e-3));
    }

    [Test]
    public void ACopyOnADeviceHoldsTheSameTensorsApart()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        ClipWeights copy = weights.ToDevice(Device.Cpu);
        Assert.That(copy.Config, Is.EqualTo(weights.Config));
        Assert.That(copy.Tensors.Keys, Is.EqualTo(weights.Tensors.Keys), "the same names, in the same order");
        foreach ((string name, Tensor tensor) in weights.Tensors)
        {
            Assert.That(copy[name], Is.Not.SameAs(tensor), name);
            Assert.That(copy[name].ToFloatArray(), Is.EqualTo(tensor.ToFloatArray()), name);
        }
        Assert.That(copy.LogitScale, Is.EqualTo(weights.LogitScale));
        copy.Dispose();
        Assert.That(weights.ClassEmbedding.ToFloatArray(), Has.Length.EqualTo(weights.Config.VisionWidth), "the original outlives its copy");
    }

    [Test]
    public void BFloat16LinearsAreAGpuOption()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        Assert.That(() => weights.ToDevice(Device.Cpu, visionLinearsInBFloat16: true), Throws.ArgumentException.With.Message.Contains("GPU option"));
    }

    [Test]
    public void MissingAndMisshapedTensorsAreListedInOneError()
    {
        string path = Rewrite("weights_openai.safetensors", "broken.safetensors", (name, tensor) => name switch
        {
            "visual.ln_post.bias" or "transformer.resblocks.1.mlp.c_fc.weight" => null,
            "visual.transformer.resblocks.0.attn.out_proj.weight" => Tensor.Zeros([128, 127], DType.F16),
            _ => tensor,
        });
        var error = Assert.Throws<WeightFileException>(() => ClipWeights.Load(path))!;
        Assert.That(error.Message, Does.Contain(path));
        Assert.That(error.Message, Does.Contain("visual.ln_post.bias"));
        Assert.That(error.Message, Does.Contain("transformer.resblocks.1.mlp.c_fc.weight"));
        Assert.That(error.Message, Does.Contain("missing 2 tensor(s)"));
        Assert.That(error.Message, Does.Contain("visual.transformer.resblocks.0.attn.out_proj.weight is [128,127], expected [128,128]"));
    }

    [Test]
    public void ANaNWeightIsRefusedWithItsName()
    {
        string path = Rewrite("weights_openai.safetensors", "nan.safetensors", (name, tensor) => name == "visual.proj"
            ? Tensor.FromSpan<float>([.. Enumerable.Repeat(float.NaN, (int)tensor.ElementCount)], tensor.Shape)
            : tensor);
        var error = Assert.Throws<WeightFileException>(() => ClipWeights.Load(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("visual.proj"));
    }

    [Test]
    public void AnIntegerWeightIsRefusedWithItsName()
    {
        string path = Rewrite("weights_openai.safetensors", "integer.safetensors", (name, tensor) => name == "visual.proj"
            ? Tensor.FromSpan<int>(new int[tensor.ElementCount], tensor.Shape)
            : tensor);
        var error = Assert.Throws<WeightFileException>(() => ClipWeights.Load(path))!;
        Assert.That(error.Message, Does.Contain(path).And.Contain("visual.proj is i32, not floating point"));
    }

    [Test]
    public void MissingHuggingFaceProjectionsAreNamedInTheirLayout()
    {
        string path = Rewrite("weights_hf.safetensors", "broken_hf.safetensors", (name, tensor) =>
            name is "vision_model.encoder.layers.1.self_attn.k_proj.bias" or "text_projection.weight" ? null : tensor);
        var error = Assert.Throws<WeightFileException>(() => ClipWeights.Load(path))!;
        Assert.That(error.Message, Does.Contain("HuggingFace"));
        Assert.That(error.Message, Does.Contain("vision_model.encoder.layers.1.self_attn.k_proj.bias"));
        Assert.That(error.Message, Does.Contain("text_projection.weight"));
    }

    [Test]
    public void AFileOfOtherTensorsIsRejected()
    {
        string path = Path.Combine(folder, "other.safetensors");
        using (Tensor t = Tensor.Zeros([2, 2]))
            SafetensorsWriter.Write(path, [new("fc.weight", t)]);
        var error = Assert.Throws<WeightFileException>(() => ClipWeights.Load(path))!;
        Assert.That(error.Message, Does.Contain("visual.conv1.weight"));
        Assert.That(error.Message, Does.Contain("visual.transformer.resblocks.0.*"));
    }

    private string Rewrite(string source, string target, Func<string, Tensor, Tensor?> change)
    {
        string path = Path.Combine(folder, target);
        using SafetensorsFile file = SafetensorsFile.Open(ClipFixture.PathOf(source));
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (WeightEntry entry in file.Entries)
            {
                Tensor loaded = file.Load(entry.Name);
                Tensor? kept = change(entry.Name, loaded);
                if (kept != loaded) loaded.Dispose();
                if (kept is not null) tensors.Add(new(entry.Name, kept));
            }
            SafetensorsWriter.Write(path, tensors);
        }
        finally
        {
            foreach (var pair in tensors) pair.Value.Dispose();
        }
        return path;
    }
}
