using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Model.Benchmarks;

/// <summary>
/// An in-memory weight "file" with CLIP ViT-B/16's tensors (OpenAI names and shapes) filled with small seeded
/// random values: the benchmarks time the real model code without a 600 MB download or file.
/// </summary>
public sealed class RandomClipFile : IWeightFile
{
    private readonly Dictionary<string, int[]> shapes = new(StringComparer.Ordinal);

    public RandomClipFile(int visionWidth = 768, int visionLayers = 12, int patch = 16, int grid = 14,
        int textWidth = 512, int textLayers = 12, int context = 77, int vocabulary = 49408, int embed = 512)
    {
        shapes["visual.class_embedding"] = [visionWidth];
        shapes["visual.positional_embedding"] = [grid * grid + 1, visionWidth];
        shapes["visual.conv1.weight"] = [visionWidth, 3, patch, patch];
        Norm("visual.ln_pre", visionWidth);
        for (int i = 0; i < visionLayers; i++) Block($"visual.transformer.resblocks.{i}.", visionWidth);
        Norm("visual.ln_post", visionWidth);
        shapes["visual.proj"] = [visionWidth, embed];
        shapes["token_embedding.weight"] = [vocabulary, textWidth];
        shapes["positional_embedding"] = [context, textWidth];
        for (int i = 0; i < textLayers; i++) Block($"transformer.resblocks.{i}.", textWidth);
        Norm("ln_final", textWidth);
        shapes["text_projection"] = [textWidth, embed];
        shapes["logit_scale"] = [];
        Entries = [.. shapes.Select(pair => new WeightEntry(pair.Key, DType.F32, pair.Value))];
    }

    public string Path => "random ViT-B/16";

    public IReadOnlyList<WeightEntry> Entries { get; }

    public bool Contains(string name) => shapes.ContainsKey(name);

    /// <summary>Computed values, not stored ones: nothing to check.</summary>
    public string? VerifyChecksums() => null;

    public Tensor Load(string name)
    {
        Tensor tensor = Tensor.Empty(shapes[name]);
        var random = new Random(Seed(name));
        int fanIn = shapes[name].Length > 1 ? shapes[name][^1] : 1;
        float scale = 1 / MathF.Sqrt(fanIn);
        foreach (ref float x in tensor.AsSpan<float>())
            x = (random.NextSingle() * 2 - 1) * scale;
        return tensor;
    }

    public void Dispose()
    {
    }

    /// <summary>
    /// FNV-1a of the whole name: every tensor gets its own values (identical blocks would let an exporter keep one
    /// copy of them and run from a smaller, cache-friendlier model), and the same ones in every process.
    /// </summary>
    private static int Seed(string name)
    {
        uint hash = 2166136261;
        foreach (char c in name)
            hash = (hash ^ c) * 16777619;
        return (int)(hash & int.MaxValue);
    }

    private void Norm(string prefix, int width)
    {
        shapes[prefix + ".weight"] = [width];
        shapes[prefix + ".bias"] = [width];
    }

    private void Block(string prefix, int width)
    {
        Norm(prefix + "ln_1", width);
        shapes[prefix + "attn.in_proj_weight"] = [3 * width, width];
        shapes[prefix + "attn.in_proj_bias"] = [3 * width];
        shapes[prefix + "attn.out_proj.weight"] = [width, width];
        shapes[prefix + "attn.out_proj.bias"] = [width];
        Norm(prefix + "ln_2", width);
        shapes[prefix + "mlp.c_fc.weight"] = [4 * width, width];
        shapes[prefix + "mlp.c_fc.bias"] = [4 * width];
        shapes[prefix + "mlp.c_proj.weight"] = [width, 4 * width];
        shapes[prefix + "mlp.c_proj.bias"] = [width];
    }
}
