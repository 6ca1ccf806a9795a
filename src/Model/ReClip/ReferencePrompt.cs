using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.ReClip;

/// <summary>
/// The learnable Reference prompt of spec §2.2: M context vectors [M, Dt] shared by all classes (ViT-B/16:
/// M = 73, initialised with the token-embedding row of id 0 copied M times), S = 3 slot ids per class, encoded
/// with the frozen text tower (shared causal prefix, spec §14) into raw features [C, E]; then the whole matrix
/// is divided by its Frobenius norm, R = raw / ‖raw‖_F. That norm is inside the autograd graph of the authors'
/// code, so <see cref="Backward"/> includes it: dRaw = (dR − R·⟨R, dR⟩_F) / ‖raw‖_F, which couples all classes.
/// </summary>
public sealed class ReferencePrompt : IDisposable
{
    /// <summary>The class-name slot: <c>clip.tokenize(name)[0][1:4]</c>, three ids.</summary>
    public const int SlotCount = 3;

    private readonly TextTransformer text;
    private readonly int[] slotIds;

    /// <param name="text">The frozen text tower (not owned).</param>
    /// <param name="slotIds">C·3 slot ids, row-major per class (see <see cref="SlotIds(IReadOnlyList{int[]}, int)"/>).</param>
    public ReferencePrompt(TextTransformer text, ReadOnlySpan<int> slotIds)
    {
        this.text = text ?? throw new ArgumentNullException(nameof(text));
        if (slotIds.IsEmpty || slotIds.Length % SlotCount != 0)
            throw new ArgumentException($"ReferencePrompt: {slotIds.Length} slot ids are not {SlotCount} per class", nameof(slotIds));
        int vocabulary = text.Config.VocabularySize;
        foreach (int id in slotIds)
            if ((uint)id >= (uint)vocabulary)
                throw new ArgumentOutOfRangeException(nameof(slotIds), $"ReferencePrompt: slot id {id} is outside the vocabulary of {vocabulary}");
        this.slotIds = slotIds.ToArray();
        int contextCount = ContextCountOf(text.Config), width = text.Config.TextWidth;
        // Read through ToFloatArray, as the tower's table may be on a GPU; the context starts on the CPU (see ToDevice).
        float[] tokenZero;
        using (Tensor row = text.TokenEmbedding.Slice(0, 0, 1))
            tokenZero = row.ToFloatArray();
        Context = Tensor.Empty([contextCount, width]);
        Span<float> context = Context.AsSpan<float>();
        for (int m = 0; m < contextCount; m++)
            tokenZero.CopyTo(context.Slice(m * width, width));
    }

    private ReferencePrompt(TextTransformer text, int[] slotIds, Tensor context)
    {
        this.text = text;
        this.slotIds = slotIds;
        Context = context;
    }

    /// <summary>The trainable context vectors [M, Dt] (checkpoint key <c>text_encoder.prompt_token</c>, stored there as [1, M, Dt]).</summary>
    public Tensor Context { get; }

    public int Classes => slotIds.Length / SlotCount;

    public ReadOnlySpan<int> Slots => slotIds;

    /// <summary>M = L − 1 − S: 73 for CLIP's 77 positions.</summary>
    public static int ContextCountOf(ClipConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.ContextLength - 1 - SlotCount;
    }

    /// <summary>Trainable values: M·Dt.</summary>
    public static long ParameterCount(ClipConfig config) => (long)ContextCountOf(config) * config.TextWidth;

    /// <summary>
    /// The slot ids of spec §2.2 from each class name's BPE ids (without SOT/EOT): the first three of
    /// ids ‖ EOT ‖ 0 0 …, i.e. [t, EOT, 0] for one token, [t1, t2, EOT] for two, the first three for more.
    /// Token lists rather than names, so a model with its own vocabulary can be used.
    /// </summary>
    public static int[] SlotIds(IReadOnlyList<int[]> bpeIds, int endToken)
    {
        ArgumentNullException.ThrowIfNull(bpeIds);
        var slots = new int[bpeIds.Count * SlotCount];
        for (int c = 0; c < bpeIds.Count; c++)
        {
            int[] ids = bpeIds[c] ?? throw new ArgumentException($"ReferencePrompt: class {c} has no token list", nameof(bpeIds));
            if (ids.Length == 0)
                throw new ArgumentException($"ReferencePrompt: class {c}'s name has no BPE token", nameof(bpeIds));
            for (int j = 0; j < SlotCount; j++)
                slots[c * SlotCount + j] = j < ids.Length ? ids[j] : j == ids.Length ? endToken : 0;
        }
        return slots;
    }

    /// <summary>The slot ids of class names under CLIP's tokenizer.</summary>
    public static int[] SlotIds(ClipTokenizer tokenizer, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(classNames);
        return SlotIds([.. classNames.Select(tokenizer.Encode)], tokenizer.EndOfTextId);
    }

    /// <summary>R [C, E] = raw / ‖raw‖_F with raw the shared-prefix prompt features; kept for <see cref="Backward"/>.</summary>
    public ReferenceActivations Forward()
    {
        SharedPromptActivations encoded = text.ForwardPromptShared(Context, slotIds, SlotCount);
        try
        {
            // The Frobenius norm is the row norm of the [1, C·E] view.
            Device device = encoded.Features.Device;
            using Tensor normalized = Tensor.Empty(encoded.Features.Shape, DType.F32, device), norm = Tensor.Empty([1], DType.F32, device);
            using (Tensor flat = encoded.Features.Reshape(1, -1))
            using (Tensor output = normalized.Reshape(1, -1))
                L2Normalize.Forward(flat, output, norm);
            // The activations take references of their own, so these go whatever happens.
            return new ReferenceActivations(encoded, normalized.Contiguous(), norm.Contiguous());
        }
        catch
        {
            encoded.Dispose();
            throw;
        }
    }

    /// <summary>d(context) [M, Dt] from dR [C, E]: through the Frobenius division, then the text tower.</summary>
    public Tensor Backward(ReferenceActivations a, Tensor dReference)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(dReference);
        Shape.Require("ReferencePrompt.Backward dR", a.Reference.Shape, dReference.Shape);
        using Tensor dRaw = Tensor.Empty(a.Reference.Shape, DType.F32, a.Reference.Device);
        using (Tensor dy = dReference.Reshape(1, -1))
        using (Tensor y = a.Reference.Reshape(1, -1))
        using (Tensor dx = dRaw.Reshape(1, -1))
            L2Normalize.Backward(dy, y, a.Norm, dx);
        return text.BackwardPromptShared(a.Encoded, dRaw);
    }

    /// <summary>
    /// This prompt with its context vectors copied to <paramref name="device"/>: the text tower (not owned) then takes
    /// them there and hands its features and gradients back there (<see cref="TextTransformer.ForwardPromptShared"/>).
    /// </summary>
    public ReferencePrompt ToDevice(Device device) => new(text, slotIds, Context.ToDevice(device));

    public void Dispose() => Context.Dispose();
}

/// <summary>A Reference-prompt forward kept for its backward: the tower's activations, R [C, E] and ‖raw‖_F [1].</summary>
public sealed class ReferenceActivations(SharedPromptActivations encoded, Tensor reference, Tensor norm) : IDisposable
{
    public SharedPromptActivations Encoded { get; } = encoded;

    /// <summary>R = raw / ‖raw‖_F, [C, E].</summary>
    public Tensor Reference { get; } = reference;

    public Tensor Norm { get; } = norm;

    public void Dispose()
    {
        Encoded.Dispose();
        Reference.Dispose();
        Norm.Dispose();
    }
}
