using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Model;

/// <summary>
/// tests/fixtures/reclip/step.safetensors, written by tools/reference/reclip_ref.py: one float64 PyTorch
/// training step of the ReCLIP++ head on the tiny CLIP of <see cref="ClipFixture"/> (B = 3 images of 32 px,
/// 4×4 grid, C = 4 classes, M = 12 context vectors), with explicit Gumbel noise, rounded to f32 once, and that
/// CLIP's weights in OpenAI's names.
/// </summary>
public sealed class ReClipStepFixture : IDisposable
{
    /// <summary>The class names of the fixture as BPE token lists of the tiny vocabulary (reclip_ref.py NAME_TOKENS).</summary>
    public static readonly int[][] NameTokens = [[5], [17, 250], [40, 290, 3, 7], [296]];

    private readonly SafetensorsFile dumps = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "fixtures", "reclip", "step.safetensors"));

    /// <summary>The tiny CLIP the step ran through.</summary>
    public ClipWeights Weights { get; } = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));

    public int Rows => int.Parse(dumps.Metadata["rows"], System.Globalization.CultureInfo.InvariantCulture);

    public int Columns => int.Parse(dumps.Metadata["columns"], System.Globalization.CultureInfo.InvariantCulture);

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

    public Tensor Load(string name)
    {
        using Tensor t = dumps.Load(name);
        return t.Clone();
    }

    /// <summary>The hypothesis lists, stored [B, C] padded with −1.</summary>
    public int[][] Hypotheses()
    {
        using Tensor t = dumps.Load("hypotheses");
        int[] flat = [.. t.AsSpan<int>()];
        int classes = t.Size(1);
        return [.. Enumerable.Range(0, t.Size(0)).Select(b => flat.Skip(b * classes).Take(classes).Where(id => id >= 0).ToArray())];
    }

    public void Dispose()
    {
        Weights.Dispose();
        dumps.Dispose();
    }
}
