using System.Globalization;

namespace ReClip.Model.Clip;

/// <summary>The two naming schemes CLIP weights come in.</summary>
public enum WeightLayout
{
    /// <summary>OpenAI's TorchScript .pt and open_clip state dicts (our own names).</summary>
    OpenAi,

    /// <summary>Hugging Face CLIPModel: q/k/v projections apart, projections stored transposed.</summary>
    HuggingFace,
}

/// <summary>How one of our tensors is made from the file's tensors.</summary>
public enum WeightSourceKind
{
    /// <summary>One tensor, as stored.</summary>
    Same,

    /// <summary>Several tensors concatenated along dimension 0 (q, k, v into in_proj).</summary>
    Concatenated,

    /// <summary>One 2-D tensor, transposed (Hugging Face's visual_projection / text_projection are [E, D]).</summary>
    Transposed,
}

/// <summary>The file tensors behind one of our tensors.</summary>
public sealed record WeightSource(WeightSourceKind Kind, string[] Names);

/// <summary>
/// Our layout uses OpenAI's names; this maps each of them to the names of a file's layout, so that
/// <see cref="ClipWeights"/> reads every format through one list.
/// </summary>
public static class WeightNames
{
    public const string VisualBlocks = "visual.transformer.resblocks.";
    public const string TextBlocks = "transformer.resblocks.";
    private const string HfVisualBlocks = "vision_model.encoder.layers.";
    private const string HfTextBlocks = "text_model.encoder.layers.";

    /// <summary>The parts of one block, OpenAI names after "resblocks.N.".</summary>
    public static readonly string[] BlockParts =
    [
        "ln_1.weight", "ln_1.bias", "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight", "attn.out_proj.bias",
        "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias",
    ];

    public static WeightLayout Detect(IEnumerable<string> names) =>
        names.Any(n => n.StartsWith("vision_model.", StringComparison.Ordinal) || n.StartsWith("text_model.", StringComparison.Ordinal))
            ? WeightLayout.HuggingFace : WeightLayout.OpenAi;

    /// <summary>The number of blocks of a tower: one more than the largest block index present.</summary>
    public static int CountBlocks(IEnumerable<string> names, WeightLayout layout, bool vision)
    {
        string prefix = layout == WeightLayout.OpenAi ? (vision ? VisualBlocks : TextBlocks) : (vision ? HfVisualBlocks : HfTextBlocks);
        int count = 0;
        foreach (string name in names)
        {
            if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
            int dot = name.IndexOf('.', prefix.Length);
            if (dot > prefix.Length && int.TryParse(name.AsSpan(prefix.Length, dot - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                count = Math.Max(count, index + 1);
        }
        return count;
    }

    /// <summary>Every tensor of our layout, in a fixed order.</summary>
    public static IEnumerable<string> All(int visionLayers, int textLayers)
    {
        yield return "visual.class_embedding";
        yield return "visual.positional_embedding";
        yield return "visual.conv1.weight";
        yield return "visual.ln_pre.weight";
        yield return "visual.ln_pre.bias";
        for (int i = 0; i < visionLayers; i++)
            foreach (string part in BlockParts)
                yield return $"{VisualBlocks}{i}.{part}";
        yield return "visual.ln_post.weight";
        yield return "visual.ln_post.bias";
        yield return "visual.proj";
        yield return "token_embedding.weight";
        yield return "positional_embedding";
        for (int i = 0; i < textLayers; i++)
            foreach (string part in BlockParts)
                yield return $"{TextBlocks}{i}.{part}";
        yield return "ln_final.weight";
        yield return "ln_final.bias";
        yield return "text_projection";
        yield return "logit_scale";
    }

    /// <summary>Where our tensor <paramref name="name"/> comes from in a file of <paramref name="layout"/>.</summary>
    public static WeightSource Source(string name, WeightLayout layout)
    {
        if (layout == WeightLayout.OpenAi)
            return new WeightSource(WeightSourceKind.Same, [name]);
        if (name.StartsWith(VisualBlocks, StringComparison.Ordinal))
            return BlockSource(HfVisualBlocks, name[VisualBlocks.Length..]);
        if (name.StartsWith(TextBlocks, StringComparison.Ordinal))
            return BlockSource(HfTextBlocks, name[TextBlocks.Length..]);
        return name switch
        {
            "visual.class_embedding" => Same("vision_model.embeddings.class_embedding"),
            "visual.positional_embedding" => Same("vision_model.embeddings.position_embedding.weight"),
            "visual.conv1.weight" => Same("vision_model.embeddings.patch_embedding.weight"),
            "visual.ln_pre.weight" => Same("vision_model.pre_layrnorm.weight"),
            "visual.ln_pre.bias" => Same("vision_model.pre_layrnorm.bias"),
            "visual.ln_post.weight" => Same("vision_model.post_layernorm.weight"),
            "visual.ln_post.bias" => Same("vision_model.post_layernorm.bias"),
            "visual.proj" => new WeightSource(WeightSourceKind.Transposed, ["visual_projection.weight"]),
            "token_embedding.weight" => Same("text_model.embeddings.token_embedding.weight"),
            "positional_embedding" => Same("text_model.embeddings.position_embedding.weight"),
            "ln_final.weight" => Same("text_model.final_layer_norm.weight"),
            "ln_final.bias" => Same("text_model.final_layer_norm.bias"),
            "text_projection" => new WeightSource(WeightSourceKind.Transposed, ["text_projection.weight"]),
            "logit_scale" => Same("logit_scale"),
            _ => throw new ArgumentException($"'{name}' is not a tensor of the CLIP layout", nameof(name)),
        };
    }

    private static WeightSource Same(string name) => new(WeightSourceKind.Same, [name]);

    private static WeightSource BlockSource(string hfPrefix, string rest)
    {
        int dot = rest.IndexOf('.', StringComparison.Ordinal);
        string layer = hfPrefix + rest[..(dot + 1)], part = rest[(dot + 1)..];
        return part switch
        {
            "attn.in_proj_weight" => new WeightSource(WeightSourceKind.Concatenated,
                [layer + "self_attn.q_proj.weight", layer + "self_attn.k_proj.weight", layer + "self_attn.v_proj.weight"]),
            "attn.in_proj_bias" => new WeightSource(WeightSourceKind.Concatenated,
                [layer + "self_attn.q_proj.bias", layer + "self_attn.k_proj.bias", layer + "self_attn.v_proj.bias"]),
            _ => Same(layer + part
                .Replace("attn.out_proj", "self_attn.out_proj", StringComparison.Ordinal)
                .Replace("ln_1", "layer_norm1", StringComparison.Ordinal)
                .Replace("ln_2", "layer_norm2", StringComparison.Ordinal)
                .Replace("mlp.c_fc", "mlp.fc1", StringComparison.Ordinal)
                .Replace("mlp.c_proj", "mlp.fc2", StringComparison.Ordinal)),
        };
    }
}
