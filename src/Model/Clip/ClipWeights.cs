using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Model.Clip;

/// <summary>
/// A CLIP ViT model's frozen weights in our layout (OpenAI names, f32, linear weights [out, in]), read from
/// any <see cref="IWeightFile"/>: OpenAI's TorchScript .pt, open_clip state dicts, our safetensors, or
/// Hugging Face CLIPModel safetensors (see <see cref="WeightNames"/>). f16 and bf16 are widened to f32.
/// Every tensor is checked before any is loaded; missing and mis-shaped ones make one error naming the file.
/// </summary>
public sealed class ClipWeights : IDisposable
{
    private const string ClassEmbeddingName = "visual.class_embedding";
    private readonly Dictionary<string, Tensor> tensors;

    private ClipWeights(ClipConfig config, WeightLayout layout, Dictionary<string, Tensor> tensors, float[]? replacedClassEmbedding = null)
    {
        Config = config;
        Layout = layout;
        this.tensors = tensors;
        ReplacedClassEmbedding = replacedClassEmbedding;
        VisionBlocks = [.. Enumerable.Range(0, config.VisionLayers).Select(i => Block(WeightNames.VisualBlocks + i + "."))];
        TextBlocks = [.. Enumerable.Range(0, config.TextLayers).Select(i => Block(WeightNames.TextBlocks + i + "."))];
    }

    public ClipConfig Config { get; }

    /// <summary>The layout the weights were read from.</summary>
    public WeightLayout Layout { get; }

    /// <summary>Our tensors by OpenAI name, in <see cref="WeightNames.All"/> order.</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors => tensors;

    public Tensor this[string name] => tensors[name];

    /// <summary>[Dv]: CLIP's own, or the replacement of <see cref="ReplaceClassEmbedding"/>.</summary>
    public Tensor ClassEmbedding => tensors[ClassEmbeddingName];

    /// <summary>The values that replaced CLIP's class embedding, or null while it is CLIP's own.</summary>
    public float[]? ReplacedClassEmbedding { get; private set; }

    /// <summary>[1 + G², Dv]: the class row, then the G×G grid row-major.</summary>
    public Tensor VisualPositional => tensors["visual.positional_embedding"];

    /// <summary>[Dv, 3, P, P]</summary>
    public Tensor PatchWeight => tensors[PatchWeightName];

    private const string PatchWeightName = "visual.conv1.weight";

    /// <summary>[Dv, E]</summary>
    public Tensor VisualProjection => tensors["visual.proj"];

    /// <summary>[V, Dt]</summary>
    public Tensor TokenEmbedding => tensors["token_embedding.weight"];

    /// <summary>[L, Dt]</summary>
    public Tensor TextPositional => tensors["positional_embedding"];

    /// <summary>[Dt, E]</summary>
    public Tensor TextProjection => tensors["text_projection"];

    public IReadOnlyList<TransformerBlockWeights> VisionBlocks { get; }

    /// <summary>Whether the image tower's linear weights are stored in bfloat16 (<see cref="ToDevice"/>), so that it computes in bfloat16.</summary>
    public bool VisionLinearsInBFloat16 => VisionBlocks.Count > 0 && VisionBlocks[0].LinearsInBFloat16;

    public IReadOnlyList<TransformerBlockWeights> TextBlocks { get; }

    /// <summary>log of CLIP's logit scale (exp of it is 100 for ViT-B/16).</summary>
    public float LogitScale => tensors["logit_scale"].ToFloatArray()[0];

    /// <summary>
    /// exp(logit_scale): the factor CLIP's contrastive logits put on cosine similarities, learnt with the model (100 for
    /// OpenAI's ViT-B/16, where training clamps it; about 15 for the bundled tiny CLIP).
    /// </summary>
    public float ContrastiveScale => MathF.Exp(LogitScale);

    public static ClipWeights Load(string path)
    {
        using IWeightFile file = WeightFiles.Open(path);
        return Load(file);
    }

    public static ClipWeights Load(IWeightFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        Dictionary<string, int[]> shapes = file.Entries.ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal);
        Dictionary<string, DType> dtypes = file.Entries.ToDictionary(e => e.Name, e => e.DType, StringComparer.Ordinal);
        WeightLayout layout = WeightNames.Detect(shapes.Keys);
        int visionLayers = WeightNames.CountBlocks(shapes.Keys, layout, vision: true);
        int textLayers = WeightNames.CountBlocks(shapes.Keys, layout, vision: false);
        string[] names = [.. WeightNames.All(visionLayers, textLayers)];

        var missing = new List<string>();
        var misshaped = new List<string>();
        var combined = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (string name in names)
        {
            WeightSource source = WeightNames.Source(name, layout);
            string[] absent = [.. source.Names.Where(n => !shapes.ContainsKey(n))];
            if (absent.Length > 0)
            {
                missing.AddRange(absent);
                continue;
            }
            // An integer tensor of the right size would be read as numbers of another kind: the features would be garbage.
            if (source.Names.FirstOrDefault(n => dtypes[n] is not (DType.F32 or DType.F16 or DType.BF16)) is string integral)
            {
                misshaped.Add($"{integral} is {dtypes[integral].Name()}, not floating point");
                continue;
            }
            int[]? shape = CombinedShape(source, shapes);
            if (shape is null)
                misshaped.Add($"{string.Join(" + ", source.Names)} {string.Join(" vs ", source.Names.Select(n => Shape.Format(shapes[n])))}");
            else
                combined[name] = shape;
        }
        if (visionLayers == 0) missing.Add(layout == WeightLayout.OpenAi ? "visual.transformer.resblocks.0.*" : "vision_model.encoder.layers.0.*");
        if (textLayers == 0) missing.Add(layout == WeightLayout.OpenAi ? "transformer.resblocks.0.*" : "text_model.encoder.layers.0.*");

        // The sizes come from five tensors; with them every other present tensor's shape can be checked too.
        ClipConfig? config = ConfigFrom(combined, visionLayers, textLayers);
        if (config is not null)
            foreach (string name in names.Where(combined.ContainsKey))
            {
                int[] expected = ExpectedShape(name, config);
                if (!expected.AsSpan().SequenceEqual(combined[name]))
                    misshaped.Add($"{DisplayName(name, layout)} is {Shape.Format(combined[name])}, expected {Shape.Format(expected)}");
            }
        if (config is null && missing.Count == 0 && misshaped.Count == 0)
            misshaped.Add("the patch embedding, positional embeddings or projections do not describe a CLIP ViT");
        if (missing.Count > 0 || misshaped.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing {missing.Count} tensor(s): {string.Join(", ", missing)}");
            if (misshaped.Count > 0) parts.Add($"mis-shaped: {string.Join("; ", misshaped)}");
            throw new WeightFileException(file.Path, $"not a CLIP ViT checkpoint in the {layout} layout: {string.Join("; ", parts)}");
        }

        var loaded = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (string name in names)
            {
                loaded[name] = LoadOne(file, WeightNames.Source(name, layout), combined[name]);
                // A NaN or infinite weight would poison every feature silently: refuse the file instead.
                WeightChecks.RequireFinite(loaded[name], file.Path, DisplayName(name, layout));
            }
        }
        catch
        {
            foreach (Tensor t in loaded.Values) t.Dispose();
            throw;
        }
        return new ClipWeights(config!, layout, loaded);
    }

    /// <summary>
    /// A copy of every tensor on <paramref name="device"/>, for the towers to run there; the caller disposes it. With
    /// <paramref name="visionLinearsInBFloat16"/> the image tower's linear weights and its patch embedding (a linear over
    /// each patch) are stored in bfloat16 (rounded to nearest even), which makes its GEMMs bfloat16 ones with float32
    /// accumulation, and its attention too (<see cref="AttentionPrecision.BFloat16"/>): half the weight memory and the
    /// GPU's tensor cores, for an image tower that only runs forward.
    /// </summary>
    public ClipWeights ToDevice(Device device, bool visionLinearsInBFloat16 = false)
    {
        if (visionLinearsInBFloat16 && device.IsCpu)
            throw new ArgumentException("bfloat16 linear weights are a GPU option: the CPU towers compute in float32", nameof(visionLinearsInBFloat16));
        var copies = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach ((string name, Tensor tensor) in tensors)
                copies[name] = visionLinearsInBFloat16 && IsVisionGemmWeight(name) ? InBFloat16(tensor, device) : tensor.ToDevice(device);
        }
        catch
        {
            foreach (Tensor copy in copies.Values) copy.Dispose();
            throw;
        }
        return new ClipWeights(Config, Layout, copies, ReplacedClassEmbedding);
    }

    /// <summary>
    /// Puts <paramref name="values"/> [Dv] in place of CLIP's class embedding, on the device the weights are on: ReCLIP++
    /// runs its image tower with a class token of its own (the authors' <c>utils/cls_token.pt</c>, spec §2.3), which
    /// takes part in every block's attention and so changes every patch feature. Copies made afterwards keep it.
    /// </summary>
    public void ReplaceClassEmbedding(ReadOnlySpan<float> values)
    {
        if (values.Length != Config.VisionWidth)
            throw new ArgumentException($"a class token of {values.Length} values for an image tower of width {Config.VisionWidth}", nameof(values));
        Tensor current = tensors[ClassEmbeddingName];
        using Tensor host = Tensor.FromSpan(values, [values.Length]);
        tensors[ClassEmbeddingName] = host.ToDevice(current.Device);
        current.Dispose();
        ReplacedClassEmbedding = values.ToArray();
    }

    /// <summary>The weights the image tower multiplies in GEMMs: its blocks' linears and the patch embedding.</summary>
    private static bool IsVisionGemmWeight(string name) =>
        name == PatchWeightName || (name.StartsWith(WeightNames.VisualBlocks, StringComparison.Ordinal)
        && (name.EndsWith("attn.in_proj_weight", StringComparison.Ordinal) || name.EndsWith("attn.out_proj.weight", StringComparison.Ordinal)
            || name.EndsWith("mlp.c_fc.weight", StringComparison.Ordinal) || name.EndsWith("mlp.c_proj.weight", StringComparison.Ordinal)));

    private static Tensor InBFloat16(Tensor tensor, Device device)
    {
        using Tensor rounded = Tensor.Empty(tensor.Shape, DType.BF16);
        BFloat16Convert.Forward(tensor, rounded);
        return rounded.ToDevice(device);
    }

    private static string DisplayName(string name, WeightLayout layout) => string.Join(" + ", WeightNames.Source(name, layout).Names);

    /// <summary>The shape of our tensor from its sources' shapes, or null when they do not fit together.</summary>
    private static int[]? CombinedShape(WeightSource source, Dictionary<string, int[]> shapes)
    {
        int[] first = shapes[source.Names[0]];
        switch (source.Kind)
        {
            case WeightSourceKind.Same:
                return first;
            case WeightSourceKind.Transposed:
                return first.Length == 2 ? [first[1], first[0]] : null;
            default:
                if (first.Length == 0) return null;
                int rows = 0;
                foreach (string n in source.Names)
                {
                    int[] s = shapes[n];
                    if (s.Length != first.Length || !s.AsSpan(1).SequenceEqual(first.AsSpan(1))) return null;
                    rows += s[0];
                }
                int[] result = (int[])first.Clone();
                result[0] = rows;
                return result;
        }
    }

    private static ClipConfig? ConfigFrom(Dictionary<string, int[]> shapes, int visionLayers, int textLayers)
    {
        if (visionLayers == 0 || textLayers == 0
            || !shapes.TryGetValue("visual.conv1.weight", out int[]? conv) || !shapes.TryGetValue("visual.positional_embedding", out int[]? visualPos)
            || !shapes.TryGetValue("visual.proj", out int[]? visualProj) || !shapes.TryGetValue("token_embedding.weight", out int[]? tokens)
            || !shapes.TryGetValue("positional_embedding", out int[]? textPos))
            return null;
        if (conv.Length != 4 || conv[1] != 3 || conv[2] != conv[3] || visualPos.Length != 2 || visualProj.Length != 2
            || tokens.Length != 2 || textPos.Length != 2)
            return null;
        int grid = (int)Math.Round(Math.Sqrt(visualPos[0] - 1));
        if (grid * grid + 1 != visualPos[0] || conv[0] % ClipConfig.HeadWidth != 0 || tokens[1] % ClipConfig.HeadWidth != 0)
            return null;
        return new ClipConfig(conv[0], visionLayers, conv[2], grid, tokens[1], textLayers, textPos[0], tokens[0], visualProj[1]);
    }

    private static int[] ExpectedShape(string name, ClipConfig c)
    {
        if (name.StartsWith(WeightNames.VisualBlocks, StringComparison.Ordinal))
            return BlockShape(name, c.VisionWidth);
        if (name.StartsWith(WeightNames.TextBlocks, StringComparison.Ordinal))
            return BlockShape(name, c.TextWidth);
        return name switch
        {
            "visual.class_embedding" or "visual.ln_pre.weight" or "visual.ln_pre.bias" or "visual.ln_post.weight" or "visual.ln_post.bias" => [c.VisionWidth],
            "visual.positional_embedding" => [c.VisionGrid * c.VisionGrid + 1, c.VisionWidth],
            "visual.conv1.weight" => [c.VisionWidth, 3, c.PatchSize, c.PatchSize],
            "visual.proj" => [c.VisionWidth, c.EmbedDim],
            "token_embedding.weight" => [c.VocabularySize, c.TextWidth],
            "positional_embedding" => [c.ContextLength, c.TextWidth],
            "ln_final.weight" or "ln_final.bias" => [c.TextWidth],
            "text_projection" => [c.TextWidth, c.EmbedDim],
            "logit_scale" => [],
            _ => throw new ArgumentException($"'{name}' is not a tensor of the CLIP layout", nameof(name)),
        };
    }

    private static int[] BlockShape(string name, int d) => name[(name.IndexOf('.', name.IndexOf("resblocks.", StringComparison.Ordinal) + 10) + 1)..] switch
    {
        "attn.in_proj_weight" => [3 * d, d],
        "attn.in_proj_bias" => [3 * d],
        "attn.out_proj.weight" => [d, d],
        "mlp.c_fc.weight" => [4 * d, d],
        "mlp.c_fc.bias" => [4 * d],
        "mlp.c_proj.weight" => [d, 4 * d],
        _ => [d],
    };

    private static Tensor LoadOne(IWeightFile file, WeightSource source, int[] shape)
    {
        var values = new float[Runtime.Tensors.Shape.ElementCount(shape)];
        switch (source.Kind)
        {
            case WeightSourceKind.Transposed:
            {
                using Tensor stored = file.Load(source.Names[0]);
                float[] raw = stored.ToFloatArray();
                int rows = shape[1], columns = shape[0];
                for (int r = 0; r < rows; r++)
                    for (int col = 0; col < columns; col++)
                        values[col * rows + r] = raw[r * columns + col];
                break;
            }
            default:
            {
                int offset = 0;
                foreach (string n in source.Names)
                {
                    using Tensor stored = file.Load(n);
                    float[] raw = stored.ToFloatArray();
                    raw.CopyTo(values, offset);
                    offset += raw.Length;
                }
                break;
            }
        }
        return Tensor.FromSpan<float>(values, shape);
    }

    private TransformerBlockWeights Block(string prefix)
    {
        Tensor T(string part) => tensors[prefix + part];
        return new TransformerBlockWeights(T("ln_1.weight"), T("ln_1.bias"), T("attn.in_proj_weight"), T("attn.in_proj_bias"),
            T("attn.out_proj.weight"), T("attn.out_proj.bias"), T("ln_2.weight"), T("ln_2.bias"),
            T("mlp.c_fc.weight"), T("mlp.c_fc.bias"), T("mlp.c_proj.weight"), T("mlp.c_proj.bias"));
    }

    public void Dispose()
    {
        foreach (Tensor t in tensors.Values) t.Dispose();
    }
}
