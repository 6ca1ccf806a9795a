using System.Globalization;
using System.Text.Json;
using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Runtime.IO;
using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Model.ReClip;

/// <summary>
/// A trained ReCLIP++ head in one safetensors file: the trainable tensors under the authors' names (spec §9,
/// without DDP's <c>module.</c> prefix), BatchNorm's running statistics, SGD's momentum buffers when a step was
/// taken (so training resumes exactly), the image tower's class token when the head was trained with one in place of
/// CLIP's (spec §2.3; the authors' checkpoints keep it as <c>vit.cls_token</c> too), and metadata: a format tag, the class names in order, the CLIP sizes the
/// head was trained on, the bias it subtracts (<see cref="ReClip.BiasForm"/>) and whatever the caller adds (the trainer's epoch, step, seed, history). Frozen CLIP
/// weights are not stored: a head is a few MB, CLIP is loaded from its own file. Written atomically.
/// </summary>
public sealed class HeadCheckpoint : IDisposable
{
    /// <summary>
    /// The format tag: /1 for a head that subtracts both biases, /2 for an ablation's (<see cref="BiasForm"/>), so that a
    /// reader from before the ablations refuses it rather than running it as the method. Both are read.
    /// </summary>
    public const string Format = "reclip-head/1", AblationFormat = "reclip-head/2";
    public const string RunningMean = "decoder_norm2.running_mean", RunningVar = "decoder_norm2.running_var", ClassTokenName = "vit.cls_token";
    private const string MomentumPrefix = "optimizer.", MomentumSuffix = ".momentum_buffer";
    private const string BiasKey = "bias";
    private static readonly string[] Reserved = ["format", "classes", "embed_dim", "vision_width", "text_width", "context_length", BiasKey];
    private readonly SafetensorsFile file;

    private HeadCheckpoint(SafetensorsFile file, IReadOnlyList<string> classes, BiasForm biasForm)
    {
        this.file = file;
        Classes = classes;
        BiasForm = biasForm;
    }

    public string Path => file.Path;

    /// <summary>The class names the head segments, in output-channel order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Which bias the head was trained to subtract, and so subtracts (checkpoints without the key predate the ablations: both).</summary>
    public BiasForm BiasForm { get; }

    /// <summary>All metadata strings, the format's own keys included.</summary>
    public IReadOnlyDictionary<string, string> Metadata => file.Metadata;

    /// <summary>Opens and validates the header: the format tag and a non-empty list of distinct class names.</summary>
    public static HeadCheckpoint Open(string path)
    {
        if (WeightFiles.IsTorchCheckpoint(path))
            throw new InvalidDataException($"{path}: not a ReCLIP# head checkpoint but a PyTorch checkpoint (a head is the safetensors file `reclip train` writes)");
        SafetensorsFile file = SafetensorsFile.Open(path);
        try
        {
            if (!file.Metadata.TryGetValue("format", out string? format) || format is not (Format or AblationFormat))
                throw new InvalidDataException($"{path}: not a ReCLIP# head checkpoint (format tag '{format ?? "none"}', expected '{Format}' or '{AblationFormat}')");
            string[] classes;
            try
            {
                classes = JsonSerializer.Deserialize(Required(file, "classes"), CheckpointJson.Default.StringArray) ?? [];
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}: the class list is not a JSON array of names ({JsonErrorText.Of(e)})");
            }
            if (classes.Length == 0 || classes.Any(string.IsNullOrWhiteSpace))
                throw new InvalidDataException($"{path}: the class list must hold non-empty names");
            if (classes.GroupBy(c => c, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { Key: string repeated })
                throw new InvalidDataException($"{path}: the class list holds \"{repeated}\" more than once");
            return new HeadCheckpoint(file, classes, ReadBiasForm(file));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static BiasForm ReadBiasForm(SafetensorsFile file)
    {
        if (!file.Metadata.TryGetValue(BiasKey, out string? name))
            return BiasForm.Both;
        // A value of any length may be there; a few characters show what it is.
        string shown = name.Length <= 24 ? name : name[..24] + "…";
        return BiasForms.Parse(name)
            ?? throw new InvalidDataException($"{file.Path}: metadata '{BiasKey}' is '{shown}', not one of {string.Join(", ", BiasForms.Names)}");
    }

    /// <summary>
    /// The class token the head was trained with, [<paramref name="width"/>] values, or null when it was CLIP's own: the image
    /// tower that feeds the head must run with it.
    /// </summary>
    public float[]? ClassToken(int width)
    {
        if (!file.Contains(ClassTokenName))
            return null;
        using Tensor token = LoadChecked(ClassTokenName, [width]);
        return token.ToFloatArray();
    }

    /// <summary>
    /// A head for <paramref name="text"/>'s CLIP with every stored tensor restored: trainable values, running
    /// statistics and (when present) momentum. Refuses a checkpoint of another CLIP size or with a missing,
    /// misshapen or non-finite tensor, naming the file and the tensor.
    /// </summary>
    /// <param name="query">T [C, E] of <see cref="Classes"/> (see <see cref="QueryBank"/>).</param>
    public ReClipHead CreateHead(TextTransformer text, Tensor query, ClipTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return CreateHead(text, query, ReferencePrompt.SlotIds(tokenizer, Classes));
    }

    /// <summary>As <see cref="CreateHead(TextTransformer, Tensor, ClipTokenizer)"/> with the classes' slot ids given (a model with its own vocabulary).</summary>
    public ReClipHead CreateHead(TextTransformer text, Tensor query, int[] slotIds)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(slotIds);
        if (slotIds.Length != Classes.Count * ReferencePrompt.SlotCount)
            throw new ArgumentException($"{Path}: {slotIds.Length} slot ids for {Classes.Count} classes", nameof(slotIds));
        ClipConfig config = text.Config;
        RequireSize("embed_dim", config.EmbedDim);
        RequireSize("vision_width", config.VisionWidth);
        RequireSize("text_width", config.TextWidth);
        RequireSize("context_length", config.ContextLength);
        var head = new ReClipHead(text, query, slotIds, config.VisionWidth, seed: 0) { BiasForm = BiasForm };
        try
        {
            for (int i = 0; i < head.Parameters.Count; i++)
            {
                (string name, Tensor value) = head.Parameters[i];
                CopyInto(name, value);
                string momentum = MomentumPrefix + name + MomentumSuffix;
                if (file.Contains(momentum))
                {
                    using Tensor buffer = LoadChecked(momentum, value.Shape);
                    head.OptimizerStates[i].Restore(value, buffer.AsSpan<float>());
                }
            }
            CopyInto(RunningMean, head.Decoder.RunningMean);
            CopyInto(RunningVar, head.Decoder.RunningVar);
            // A variance below 0 makes evaluation's 1/sqrt(var + eps) NaN (or huge), which argmax turns into class 0.
            int negative = head.Decoder.RunningVar.AsSpan<float>().IndexOfAnyInRange(float.NegativeInfinity, -float.Epsilon);
            if (negative >= 0)
                throw new InvalidDataException($"{Path}: tensor '{RunningVar}' holds a negative variance ({head.Decoder.RunningVar.AsSpan<float>()[negative]}) for class {negative}");
            return head;
        }
        catch
        {
            head.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes <paramref name="head"/> atomically, with <paramref name="classToken"/> when the image tower ran with one in place
    /// of CLIP's; <paramref name="metadata"/> must not use the format's own keys.
    /// </summary>
    public static void Save(string path, ReClipHead head, IReadOnlyList<string> classes, ClipConfig config, IReadOnlyDictionary<string, string> metadata,
        float[]? classToken = null)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(classes);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(metadata);
        if (classes.Count != head.Classes)
            throw new ArgumentException($"{path}: {classes.Count} class names for a head of {head.Classes} classes", nameof(classes));
        string? clash = Reserved.FirstOrDefault(metadata.ContainsKey);
        if (clash is not null)
            throw new ArgumentException($"{path}: metadata key '{clash}' is reserved by the checkpoint format", nameof(metadata));
        // The file is written from host memory: a head on a GPU is copied over first (a few MB).
        using ReClipHead? copied = head.Device.IsCpu ? null : head.ToDevice(Device.Cpu);
        ReClipHead onCpu = copied ?? head;
        var tensors = new List<KeyValuePair<string, Tensor>>();
        for (int i = 0; i < onCpu.Parameters.Count; i++)
        {
            tensors.Add(new(onCpu.Parameters[i].Name, onCpu.Parameters[i].Value));
            if (onCpu.OptimizerStates[i] is { HasStepped: true, Buffer: Tensor buffer })
                tensors.Add(new(MomentumPrefix + onCpu.Parameters[i].Name + MomentumSuffix, buffer));
        }
        tensors.Add(new(RunningMean, onCpu.Decoder.RunningMean));
        tensors.Add(new(RunningVar, onCpu.Decoder.RunningVar));
        using Tensor? token = classToken is null ? null : Tensor.FromSpan<float>(classToken, [classToken.Length]);
        if (token is not null)
            tensors.Add(new(ClassTokenName, token));
        var all = new Dictionary<string, string>(metadata)
        {
            ["format"] = head.BiasForm == BiasForm.Both ? Format : AblationFormat,
            ["classes"] = JsonSerializer.Serialize([.. classes], CheckpointJson.Default.StringArray),
            ["embed_dim"] = Invariant(config.EmbedDim),
            ["vision_width"] = Invariant(config.VisionWidth),
            ["text_width"] = Invariant(config.TextWidth),
            ["context_length"] = Invariant(config.ContextLength),
            [BiasKey] = head.BiasForm.Name(),
        };
        SafetensorsWriter.Write(path, tensors, all);
    }

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Required(SafetensorsFile file, string key) =>
        file.Metadata.TryGetValue(key, out string? value) ? value : throw new InvalidDataException($"{file.Path}: checkpoint metadata lacks '{key}'");

    private void RequireSize(string key, int actual)
    {
        string stored = Required(file, key);
        if (stored != Invariant(actual))
            throw new InvalidDataException($"{Path}: the head was trained on a CLIP with {key} {stored}, these weights have {actual}");
    }

    private void CopyInto(string name, Tensor target)
    {
        using Tensor stored = LoadChecked(name, target.Shape);
        stored.AsSpan<float>().CopyTo(target.AsSpan<float>());
    }

    private Tensor LoadChecked(string name, ReadOnlySpan<int> shape)
    {
        if (!file.Contains(name))
            throw new InvalidDataException($"{Path}: checkpoint lacks tensor '{name}'");
        Tensor stored = file.Load(name);
        try
        {
            if (stored.DType != DType.F32 || !stored.Shape.SequenceEqual(shape))
                throw new InvalidDataException($"{Path}: tensor '{name}' is {stored.DType} {Shape.Format(stored.Shape)}, expected F32 {Shape.Format(shape)}");
            WeightChecks.RequireFinite(stored, Path, name);
            return stored;
        }
        catch
        {
            stored.Dispose();
            throw;
        }
    }

    public void Dispose() => file.Dispose();
}

[System.Text.Json.Serialization.JsonSerializable(typeof(string[]))]
internal sealed partial class CheckpointJson : System.Text.Json.Serialization.JsonSerializerContext;
