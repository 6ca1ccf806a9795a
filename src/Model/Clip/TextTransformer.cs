using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// CLIP's text tower (causal blocks, eps 1e-5 throughout): encoding token id sequences as CLIP's encode_text,
/// and the learnable Reference prompt of spec §2.2 — SOT | M shared context vectors | S slot ids, gathered at
/// M + 1 + argmax(slot ids) — plainly, with the shared causal prefix computed once (spec §2.2/§14), and
/// backward from d(features) to d(context vectors).
/// </summary>
public sealed class TextTransformer(ClipWeights weights)
{
    private readonly ClipWeights weights = weights ?? throw new ArgumentNullException(nameof(weights));

    public ClipConfig Config => weights.Config;

    /// <summary>exp of the model's logit scale (<see cref="ClipWeights.ContrastiveScale"/>).</summary>
    public float ContrastiveScale => weights.ContrastiveScale;

    /// <summary>The frozen token embedding [V, Dt] (the Reference prompt initialises its context from row 0).</summary>
    public Tensor TokenEmbedding => weights.TokenEmbedding;

    /// <summary>
    /// Where the tower computes: the device of its weights (<see cref="ClipWeights.ToDevice"/>). Context vectors and
    /// gradients from elsewhere are copied there, and the results go back to their device.
    /// </summary>
    public Device Device => weights.TokenEmbedding.Device;

    /// <summary>
    /// Features [B, E] (not normalised, on the CPU) of token ids [B·L] (L = the context length, zero-padded after EOT),
    /// gathered at each row's argmax id (EOT is the largest id). Under the causal mask no position sees a later one, so
    /// the positions after the batch's last EOT cannot change a gathered row: they are not computed (a prompt such as
    /// "a photo of a cat." needs 8 of the 77), and the features are those of the full sequences. <paramref name="observe"/>
    /// sees "block{i}" [B, L, Dt], so with it every position is computed.
    /// </summary>
    public Tensor Encode(ReadOnlySpan<int> ids, Action<string, Tensor>? observe = null)
    {
        int length = Config.ContextLength, width = Config.TextWidth;
        if (ids.Length == 0 || ids.Length % length != 0)
            throw new ArgumentException($"TextTransformer: {ids.Length} token ids are not a whole number of {length}-token sequences", nameof(ids));
        int batch = ids.Length / length;
        var indices = new int[batch];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
            {
                int id = ids[b * length + t];
                if ((uint)id >= (uint)Config.VocabularySize)
                    throw new ArgumentOutOfRangeException(nameof(ids), $"TextTransformer: token id {id} is outside the vocabulary of {Config.VocabularySize}");
                if (id > ids[b * length + indices[b]]) indices[b] = t;
            }
        int used = observe is null ? indices.Max() + 1 : length;
        int[] kept = new int[batch * used];
        for (int b = 0; b < batch; b++)
            ids.Slice(b * length, used).CopyTo(kept.AsSpan(b * used, used));
        using Tensor x = Tensor.Empty([batch, used, width], DType.F32, Device);
        Kernels.Ops.TokenEmbedding.Forward(weights.TokenEmbedding, kept, weights.TextPositional, 0, x);
        for (int i = 0; i < Config.TextLayers; i++)
        {
            ResidualBlock.Forward(weights.TextBlocks[i], x, causal: true, ResidualBlock.DefaultEps);
            observe?.Invoke($"block{i}", x);
        }
        return DeviceTransfer.MoveTo(Head(x, indices, null, null), Device.Cpu);
    }

    /// <summary>The number of context vectors M a prompt with S slot ids has: L − 1 − S.</summary>
    public int ContextCount(int slotCount) => Config.ContextLength - 1 - slotCount;

    /// <summary>
    /// Reference-prompt features [C, E] (not normalised) of the context vectors [M, Dt] and C·S slot ids, the
    /// plain way: C full sequences through every block.
    /// </summary>
    public Tensor EncodePrompt(Tensor context, ReadOnlySpan<int> slotIds, int slotCount)
    {
        using PromptActivations a = ForwardPrompt(context, slotIds, slotCount, save: false);
        return a.Features.Clone();
    }

    /// <summary>The plain prompt forward, keeping what <see cref="BackwardPrompt"/> needs.</summary>
    public PromptActivations ForwardPrompt(Tensor context, ReadOnlySpan<int> slotIds, int slotCount) =>
        ForwardPrompt(context, slotIds, slotCount, save: true);

    private PromptActivations ForwardPrompt(Tensor context, ReadOnlySpan<int> slotIds, int slotCount, bool save)
    {
        int classes = CheckPrompt(context, slotIds, slotCount), length = Config.ContextLength, width = Config.TextWidth;
        using Tensor vectors = DeviceTransfer.Onto(context, Device);
        Tensor x = Tensor.Empty([classes, length, width], DType.F32, Device);
        var blocks = new List<BlockActivations>();
        try
        {
            PromptEmbedding.Forward(weights.TokenEmbedding, vectors, slotIds, slotCount, weights.TextPositional, x, Config.StartToken);
            for (int i = 0; i < Config.TextLayers; i++)
            {
                BlockActivations? a = save ? new BlockActivations(classes, length, width, Config.TextHeads, Device) : null;
                if (a is not null) blocks.Add(a);
                ResidualBlock.Forward(weights.TextBlocks[i], x, causal: true, ResidualBlock.DefaultEps, save: a);
            }
            var indices = new int[classes];
            EotGather.Indices(slotIds, slotCount, context.Size(0), indices);
            Tensor mean = Tensor.Empty([classes * length], DType.F32, Device), rstd = Tensor.Empty([classes * length], DType.F32, Device);
            Tensor features = DeviceTransfer.MoveTo(Head(x, indices, mean, rstd), context.Device);
            return new PromptActivations([.. blocks], new PromptHeadActivations(x, mean, rstd, indices, features), context.Size(0));
        }
        catch
        {
            x.Dispose();
            foreach (BlockActivations b in blocks) b.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The same features as <see cref="EncodePrompt"/>, computing positions 0..M (SOT and the shared context,
    /// identical for every class under the causal mask) once as one sequence and only each class's last S
    /// positions per class, attending to the prefix's keys and values (spec §2.2, §14), all rows stacked as <see cref="PromptRows"/>.
    /// </summary>
    public Tensor EncodePromptShared(Tensor context, ReadOnlySpan<int> slotIds, int slotCount)
    {
        using SharedPromptActivations a = ForwardPromptShared(context, slotIds, slotCount, save: false);
        return a.Features.Clone();
    }

    /// <summary>The shared-prefix prompt forward, keeping what <see cref="BackwardPromptShared"/> needs.</summary>
    public SharedPromptActivations ForwardPromptShared(Tensor context, ReadOnlySpan<int> slotIds, int slotCount) =>
        ForwardPromptShared(context, slotIds, slotCount, save: true);

    private SharedPromptActivations ForwardPromptShared(Tensor context, ReadOnlySpan<int> slotIds, int slotCount, bool save)
    {
        int classes = CheckPrompt(context, slotIds, slotCount), width = Config.TextWidth, heads = Config.TextHeads;
        var rows = new PromptRows(1 + context.Size(0), classes, slotCount);
        var attention = new SharedPrefixAttention(rows, heads);
        using Tensor x = Tensor.Empty([1, rows.Count, width], DType.F32, Device);
        var blocks = new List<BlockActivations>();
        Tensor? last = null, mean = null, rstd = null;
        try
        {
            // The prefix: SOT, then the context vectors, each plus its position; the classes' slots after them.
            using (Tensor prefix = rows.PrefixOf(x), start = prefix.Slice(1, 0, 1), vectors = prefix.Slice(1, 1, rows.Prefix - 1))
            {
                Kernels.Ops.TokenEmbedding.Forward(weights.TokenEmbedding, [Config.StartToken], weights.TextPositional, 0, start);
                using Tensor onDevice = DeviceTransfer.Onto(context, Device), values = onDevice.Reshape(1, rows.Prefix - 1, width);
                using Tensor positions = weights.TextPositional.Slice(0, 1, rows.Prefix - 1), shifts = positions.Reshape(1, rows.Prefix - 1, width);
                vectors.CopyFrom(values);
                Add.Residual(vectors, shifts);
            }
            using (Tensor slots = rows.SuffixOf(x))
                Kernels.Ops.TokenEmbedding.Forward(weights.TokenEmbedding, slotIds, weights.TextPositional, rows.Prefix, slots);
            for (int i = 0; i < Config.TextLayers; i++)
            {
                BlockActivations? a = save ? new BlockActivations(1, rows.Count, width, heads, Device) : null;
                if (a is not null) blocks.Add(a);
                ResidualBlock.Forward(weights.TextBlocks[i], x, ResidualBlock.DefaultEps, a, attention.Forward);
            }
            var indices = new int[classes];
            EotGather.Indices(slotIds, slotCount, contextCount: -1, indices);
            last = rows.SuffixOf(x);
            mean = Tensor.Empty([classes * slotCount], DType.F32, Device);
            rstd = Tensor.Empty([classes * slotCount], DType.F32, Device);
            Tensor features = DeviceTransfer.MoveTo(Head(last, indices, mean, rstd), context.Device);
            return new SharedPromptActivations([.. blocks], rows, new PromptHeadActivations(last, mean, rstd, indices, features));
        }
        catch
        {
            last?.Dispose();
            mean?.Dispose();
            rstd?.Dispose();
            foreach (BlockActivations b in blocks) b.Dispose();
            throw;
        }
    }

    /// <summary>
    /// d(context vectors) [M, Dt] from d(features) [C, E] through the shared-prefix forward: per block, from the top,
    /// every row's MLP and projections at once; in the attention the classes' rows send gradients to the prefix's
    /// keys and values too, summed over the classes. Finally rows 1..M of the stack's gradient.
    /// </summary>
    public Tensor BackwardPromptShared(SharedPromptActivations a, Tensor dFeatures)
    {
        ArgumentNullException.ThrowIfNull(a);
        PromptRows rows = a.Rows;
        var attention = new SharedPrefixAttention(rows, Config.TextHeads);
        // The head reads the classes' rows only: the prefix's gradient starts at zero.
        using Tensor dx = Tensor.Zeros([1, rows.Count, Config.TextWidth], DType.F32, Device);
        using (Tensor dLast = rows.SuffixOf(dx), gradient = DeviceTransfer.Onto(dFeatures, Device))
            HeadBackward(gradient, a.Head, dLast);
        for (int i = Config.TextLayers - 1; i >= 0; i--)
            ResidualBlock.Backward(weights.TextBlocks[i], a.Blocks[i], dx, attention.Backward);
        Tensor dContext = Tensor.Empty([a.ContextCount, Config.TextWidth], DType.F32, Device);
        using (Tensor vectors = dx.Slice(1, 1, a.ContextCount), values = vectors.Reshape(a.ContextCount, Config.TextWidth))
            dContext.CopyFrom(values);
        return DeviceTransfer.MoveTo(dContext, dFeatures.Device);
    }

    /// <summary>
    /// d(context vectors) [M, Dt] from d(features) [C, E]: through text_projection, the gather, ln_final, every
    /// block (input gradients only) and the prompt embedding, summed over the classes.
    /// </summary>
    public Tensor BackwardPrompt(PromptActivations a, Tensor dFeatures)
    {
        ArgumentNullException.ThrowIfNull(a);
        int classes = a.Features.Size(0), length = Config.ContextLength, width = Config.TextWidth;
        using Tensor dx = Tensor.Empty([classes, length, width], DType.F32, Device);
        using (Tensor gradient = DeviceTransfer.Onto(dFeatures, Device))
            HeadBackward(gradient, a.Head, dx);
        for (int i = Config.TextLayers - 1; i >= 0; i--)
            ResidualBlock.Backward(weights.TextBlocks[i], a.Blocks[i], dx, causal: true);
        Tensor dContext = Tensor.Empty([a.ContextCount, width], DType.F32, Device);
        PromptEmbedding.Backward(dx, dContext);
        return DeviceTransfer.MoveTo(dContext, dFeatures.Device);
    }

    /// <summary>dx [B, T, Dt] from d(features) [B, E]: through text_projection, the gather and ln_final (rows not gathered get zero).</summary>
    private void HeadBackward(Tensor dFeatures, PromptHeadActivations head, Tensor dx)
    {
        Tensor finalInput = head.FinalInput;
        int batch = finalInput.Size(0), width = Config.TextWidth, embed = Config.EmbedDim;
        Shape.Require("TextTransformer backward dFeatures", [batch, embed], dFeatures.Shape);
        using Tensor dGathered = Tensor.Empty([batch, width], DType.F32, Device);
        // features = g · P with P [Dt, E]: dg = dfeatures · Pᵀ.
        MatMul.Multiply(dFeatures, weights.TextProjection, dGathered, transposeB: true);
        using Tensor dNormed = Tensor.Empty(finalInput.Shape, DType.F32, Device);
        EotGather.Backward(dGathered, [.. head.Indices], dNormed);
        LayerNorm.Backward(dNormed, finalInput, weights["ln_final.weight"], head.FinalMean, head.FinalRstd, dx);
    }

    /// <summary>ln_final on every row of x [B, T, Dt] (keeping its statistics when asked), the gather, @ text_projection → [B, E].</summary>
    private Tensor Head(Tensor x, int[] indices, Tensor? mean, Tensor? rstd)
    {
        int batch = x.Size(0), width = Config.TextWidth, embed = Config.EmbedDim;
        using Tensor normed = Tensor.Empty(x.Shape, DType.F32, Device);
        LayerNorm.Forward(x, weights["ln_final.weight"], weights["ln_final.bias"], normed, ResidualBlock.DefaultEps, mean, rstd);
        using Tensor gathered = Tensor.Empty([batch, width], DType.F32, Device);
        EotGather.Forward(normed, indices, gathered);
        Tensor features = Tensor.Empty([batch, embed], DType.F32, Device);
        MatMul.Multiply(gathered, weights.TextProjection, features);
        return features;
    }

    private int CheckPrompt(Tensor context, ReadOnlySpan<int> slotIds, int slotCount)
    {
        int contextCount = ContextCount(slotCount);
        Shape.Require("TextTransformer context", [contextCount, Config.TextWidth], context.Shape);
        if (slotIds.Length == 0 || slotIds.Length % slotCount != 0)
            throw new ArgumentException($"TextTransformer: {slotIds.Length} slot ids are not {slotCount} per class", nameof(slotIds));
        return slotIds.Length / slotCount;
    }
}
