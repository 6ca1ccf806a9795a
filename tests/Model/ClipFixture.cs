using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Model;

/// <summary>
/// The tiny CLIP of tools/reference/clip_ref.py (vision 128 wide / 2 layers / patch 8 / 24 px, text 64 wide /
/// 2 layers / 16 positions / 300 tokens, embedding 64): its weights in four formats and the float64 reference's
/// intermediates (dumps.safetensors, rounded to f32 once).
/// </summary>
public sealed class ClipFixture : IDisposable
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "fixtures", "clip");

    /// <summary>Every format the loader reads, each holding the same f16-exact weights.</summary>
    public static readonly string[] WeightFiles =
        ["weights_openai.safetensors", "weights_hf.safetensors", "weights_open_clip.pt", "weights_torchscript.pt"];

    private readonly SafetensorsFile dumps = SafetensorsFile.Open(Path.Combine(Folder, "dumps.safetensors"));

    /// <summary>ViT-B/16's sizes (OpenAI's), for the arithmetic that needs no weights.</summary>
    public static readonly ClipConfig VitB16 = new(VisionWidth: 768, VisionLayers: 12, PatchSize: 16, VisionGrid: 14,
        TextWidth: 512, TextLayers: 12, ContextLength: 77, VocabularySize: 49408, EmbedDim: 512);

    public static string PathOf(string file) => Path.Combine(Folder, file);

    public float[] Values(string name)
    {
        using Tensor t = dumps.Load(name);
        return t.ToFloatArray();
    }

    public int[] Ints(string name)
    {
        using Tensor t = dumps.Load(name);
        return [.. t.AsSpan<int>()];
    }

    public int[] Shape(string name) => dumps.Entries.First(e => e.Name == name).Shape;

    public Tensor Load(string name)
    {
        using Tensor t = dumps.Load(name);
        return t.Clone();
    }

    public void Dispose() => dumps.Dispose();

    /// <summary>max |a − b|.</summary>
    public static double MaxAbs(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), "element count");
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
            worst = Math.Max(worst, Math.Abs((double)actual[i] - expected[i]));
        worst = double.IsNaN(worst) ? double.PositiveInfinity : worst;
        TestContext.Out.WriteLine($"max abs error {worst:G3}");
        return worst;
    }

    /// <summary>max |a − b| / max |b|: a relative error that small reference elements do not inflate.</summary>
    public static double MaxRelative(ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        double scale = 0;
        foreach (float e in expected) scale = Math.Max(scale, Math.Abs(e));
        // An all-zero expectation is met only exactly (0/0 would be NaN, which NUnit's LessThan lets pass).
        double error = MaxAbs(actual, expected);
        double relative = scale > 0 ? error / scale : error > 0 ? double.PositiveInfinity : 0;
        TestContext.Out.WriteLine($"max relative error {relative:G3}");
        return relative;
    }

    /// <summary>Each row of [rows, width] divided by its L2 norm.</summary>
    public static float[] NormalizeRows(float[] values, int width)
    {
        var result = new float[values.Length];
        for (int r = 0; r < values.Length / width; r++)
        {
            double sum = 0;
            for (int i = 0; i < width; i++) sum += (double)values[r * width + i] * values[r * width + i];
            double inverse = 1 / Math.Sqrt(sum);
            for (int i = 0; i < width; i++) result[r * width + i] = (float)(values[r * width + i] * inverse);
        }
        return result;
    }
}
