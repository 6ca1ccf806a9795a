using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.ReClip;

/// <summary>
/// The fixed Query text features of spec §2.1: per class, the 85 templates filled with its name, each encoded
/// by CLIP's text tower and L2-normalised, the 85 averaged and the mean L2-normalised again → T [C, E].
/// The authors computed them once offline in fp16 (expect ~1e-3 relative differences from this f32 result).
/// <see cref="QueryBankCache"/> keeps T on disk per (weights, class list).
/// </summary>
public static class QueryBank
{
    /// <summary>CLIP's 80 ImageNet templates (0–79) and MaskCLIP's 5 scene templates (80–84), in the order of spec §2.1.</summary>
    public static readonly IReadOnlyList<string> Templates =
    [
        "a bad photo of a {}.", "a photo of many {}.", "a sculpture of a {}.", "a photo of the hard to see {}.",
        "a low resolution photo of the {}.", "a rendering of a {}.", "graffiti of a {}.", "a bad photo of the {}.",
        "a cropped photo of the {}.", "a tattoo of a {}.", "the embroidered {}.", "a photo of a hard to see {}.",
        "a bright photo of a {}.", "a photo of a clean {}.", "a photo of a dirty {}.", "a dark photo of the {}.",
        "a drawing of a {}.", "a photo of my {}.", "the plastic {}.", "a photo of the cool {}.",
        "a close-up photo of a {}.", "a black and white photo of the {}.", "a painting of the {}.", "a painting of a {}.",
        "a pixelated photo of the {}.", "a sculpture of the {}.", "a bright photo of the {}.", "a cropped photo of a {}.",
        "a plastic {}.", "a photo of the dirty {}.", "a jpeg corrupted photo of a {}.", "a blurry photo of the {}.",
        "a photo of the {}.", "a good photo of the {}.", "a rendering of the {}.", "a {} in a video game.",
        "a photo of one {}.", "a doodle of a {}.", "a close-up photo of the {}.", "a photo of a {}.",
        "the origami {}.", "the {} in a video game.", "a sketch of a {}.", "a doodle of the {}.",
        "a origami {}.", "a low resolution photo of a {}.", "the toy {}.", "a rendition of the {}.",
        "a photo of the clean {}.", "a photo of a large {}.", "a rendition of a {}.", "a photo of a nice {}.",
        "a photo of a weird {}.", "a blurry photo of a {}.", "a cartoon {}.", "art of a {}.",
        "a sketch of the {}.", "a embroidered {}.", "a pixelated photo of a {}.", "itap of the {}.",
        "a jpeg corrupted photo of the {}.", "a good photo of a {}.", "a plushie {}.", "a photo of the nice {}.",
        "a photo of the small {}.", "a photo of the weird {}.", "the cartoon {}.", "art of the {}.",
        "a drawing of the {}.", "a photo of the large {}.", "a black and white photo of a {}.", "the plushie {}.",
        "a dark photo of a {}.", "itap of a {}.", "graffiti of the {}.", "a toy {}.",
        "itap of my {}.", "a photo of a cool {}.", "a photo of a small {}.", "a tattoo of the {}.",
        "there is a {} in the scene.", "there is the {} in the scene.", "this is a {} in the scene.", "this is the {} in the scene.",
        "this is one {} in the scene.",
    ];

    /// <summary>The template filled with a class name, as Python's <c>template.format(name)</c>.</summary>
    public static string Fill(string template, string className) => template.Replace("{}", className, StringComparison.Ordinal);

    /// <summary>T [C, E] for the class names: every template tokenised with <paramref name="tokenizer"/> to the tower's context length.</summary>
    public static Tensor Build(TextTransformer text, ClipTokenizer tokenizer, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(classNames);
        int length = text.Config.ContextLength;
        var ids = new int[classNames.Count * Templates.Count * length];
        for (int c = 0; c < classNames.Count; c++)
            try
            {
                for (int k = 0; k < Templates.Count; k++)
                    tokenizer.Tokenize(Fill(Templates[k], classNames[c]), length).CopyTo(ids, (c * Templates.Count + k) * length);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"class {c + 1} of {classNames.Count}, {ClipTokenizer.Quoted(classNames[c])}: {e.Message}", e);
            }
        return Build(text, ids, classNames.Count);
    }

    /// <summary>
    /// T [C, E] from token id rows [C·K·L] (C classes, K prompts each, L = the tower's context length, zero-padded
    /// after EOT): per class, mean of the K L2-normalised embeddings, L2-normalised. Takes ids so a model with its
    /// own vocabulary (the tiny test CLIP) can be used; K is free (85 with <see cref="Templates"/>).
    /// </summary>
    public static Tensor Build(TextTransformer text, ReadOnlySpan<int> ids, int classes)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        int length = text.Config.ContextLength, embed = text.Config.EmbedDim;
        if (ids.Length == 0 || ids.Length % (classes * length) != 0)
            throw new ArgumentException($"QueryBank: {ids.Length} token ids are not K rows of {length} for each of {classes} classes", nameof(ids));
        int prompts = ids.Length / (classes * length);
        Tensor bank = Tensor.Empty([classes, embed]);
        try
        {
            Span<float> rows = bank.AsSpan<float>();
            // One class at a time: K sequences' activations at once, never C·K (ADE: 150 × 85 × 77 rows).
            for (int c = 0; c < classes; c++)
            {
                using Tensor encoded = text.Encode(ids.Slice(c * prompts * length, prompts * length));
                L2Normalize.Forward(encoded, encoded);
                ReadOnlySpan<float> unit = encoded.AsSpan<float>();
                Span<float> mean = rows.Slice(c * embed, embed);
                // Summed in double as one would in a reference; the mean's scale does not matter after normalising.
                for (int e = 0; e < embed; e++)
                {
                    double sum = 0;
                    for (int k = 0; k < prompts; k++) sum += unit[k * embed + e];
                    mean[e] = (float)(sum / prompts);
                }
            }
            L2Normalize.Forward(bank, bank);
            return bank;
        }
        catch
        {
            bank.Dispose();
            throw;
        }
    }
}
