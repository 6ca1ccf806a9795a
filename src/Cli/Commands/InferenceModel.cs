using ReClip.Model.Clip;
using ReClip.Model.Data.Datasets;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;

namespace ReClip.Cli.Commands;

/// <summary>
/// What `eval` and `segment` run: the frozen CLIP (visual LayerNorm eps of the ReCLIP++ setting, spec §4.2, and the class
/// token a head was trained with or the one given, §2.3), the Query bank of the class names (from the disk cache, spec §2.1)
/// and, with a checkpoint, the trained head.
/// </summary>
public sealed class InferenceModel : IDisposable
{
    private readonly ClipWeights weights;
    private readonly Tensor query;
    private readonly ReClipHead? head;

    private InferenceModel(ClipWeights weights, Tensor query, ReClipHead? head, IReadOnlyList<string> classes)
    {
        this.weights = weights;
        this.query = query;
        this.head = head;
        Classes = classes;
    }

    public IReadOnlyList<string> Classes { get; }

    public bool IsReClip => head is not null;

    /// <summary>The bias the head subtracts (both, or one alone for an ablation's head); null without a head.</summary>
    public BiasForm? BiasForm => head?.BiasForm;

    /// <summary>
    /// Loads the weights (onto <paramref name="device"/>, where the towers run, the image tower in bfloat16 with
    /// <paramref name="imageInBFloat16"/>) and the Query bank of <paramref name="classes"/>; with <paramref name="checkpointPath"/>, the
    /// head it holds, whose classes must be <paramref name="classes"/> (when given) in the same order, and the class token it was
    /// trained with; without, the class token of <paramref name="classTokenPath"/> when given (<see cref="ClassTokenFile"/>). The tokenizer's
    /// vocabulary keys the cached bank; it is checked against the text tower only when text must be encoded (a bank not
    /// in the cache, a head's Reference prompt).
    /// </summary>
    public static InferenceModel Load(string weightsPath, Device device, bool imageInBFloat16, IReadOnlyList<string>? classes, string? checkpointPath,
        ClipTokenizer tokenizer, string? classTokenPath = null)
    {
        if (checkpointPath is not null && classTokenPath is not null)
            throw new ArgumentException($"--class-token: the head of {checkpointPath} runs with the class token it was trained with (kept in the checkpoint when it was not CLIP's)");
        using HeadCheckpoint? checkpoint = checkpointPath is null ? null : HeadCheckpoint.Open(checkpointPath);
        IReadOnlyList<string> names = checkpoint?.Classes ?? classes ?? throw new ArgumentException("give the class names or a checkpoint");
        if (checkpoint is not null && classes is not null && !classes.SequenceEqual(checkpoint.Classes, StringComparer.Ordinal))
            throw new ArgumentException($"{checkpointPath}: the checkpoint segments {string.Join(", ", checkpoint.Classes)}, not {string.Join(", ", classes)}");
        ClipWeights weights = PipelineOptions.LoadWeights(weightsPath, device, imageInBFloat16, classTokenPath);
        Tensor? query = null;
        try
        {
            if (checkpoint?.ClassToken(weights.Config.VisionWidth) is float[] token)
                weights.ReplaceClassEmbedding(token);
            var text = new TextTransformer(weights);
            query = QueryBankCache.GetOrBuild(weightsPath, text, tokenizer, names, out _);
            if (checkpoint is not null)
                tokenizer.RequireFits(weights.Config, weightsPath);
            // The head computes where the towers do.
            ReClipHead? head = checkpoint?.CreateHead(text, query, tokenizer).MoveTo(device);
            return new InferenceModel(weights, query, head, names);
        }
        catch
        {
            query?.Dispose();
            weights.Dispose();
            throw;
        }
    }

    /// <summary>The shard setting of the class token the image tower runs with in place of CLIP's (its digest); none with CLIP's own.</summary>
    public KeyValuePair<string, string>[] ClassTokenSettings =>
        weights.ReplacedClassEmbedding is float[] token ? [KeyValuePair.Create(PipelineOptions.ClassTokenSetting, ClassTokenFile.Digest(token))] : [];

    /// <summary>The segmenter of this model at the preset's scales; <paramref name="threshold"/> null turns prompt denoising off.</summary>
    public Segmenter Segmenter(DatasetPreset preset, float? threshold, bool slide)
    {
        var vision = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps);
        return head is null
            ? new Segmenter(vision, query, preset) { DenoisingThreshold = threshold, Slide = slide }
            : new Segmenter(vision, head, preset) { DenoisingThreshold = threshold, Slide = slide };
    }

    public void Dispose()
    {
        head?.Dispose();
        query.Dispose();
        weights.Dispose();
    }
}
