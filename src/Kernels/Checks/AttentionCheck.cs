using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class AttentionCheck : IOpCheck
{
    // o is a convex combination of v ∈ [-1, 1] with float32 GEMMs over ≤ 197 keys and 64 features: a few
    // 1e-7 of rounding; logsumexp is O(log Tk + max score) ≈ 5 and carries the same relative error.
    private static readonly Tolerance Forward = new(1e-5, 1e-5);

    // dS = P∘(dP − Σ P∘dP) subtracts O(1) terms, then dq, dk sum up to 197 of them (dk, dv also over the
    // query batch when keys are shared): a few more bits than the forward.
    private static readonly Tolerance Backward = new(5e-5, 1e-4);

    // With AttentionPrecision.BFloat16 the reference runs on q, k and v rounded to bfloat16, as the kernels round them.
    // What is left on a GPU is the rounding of the probabilities to bfloat16 for the second product: each is off by at
    // most 2⁻⁹ of itself, so o, a convex combination of v ∈ [-1, 1], by at most 2⁻⁹ ≈ 2e-3; doubled for the float32 sums.
    // The tensor cores add in float32 without promising IEEE rounding at every step: 1e-4 relative on logsumexp.
    private static readonly Tolerance BFloat16Output = new(4e-3, 0), BFloat16LogSumExp = new(1e-5, 1e-4);

    private const string BFloat16Prefix = "bf16 ";

    /// <summary>A case: query batch, key/value batch, query and key lengths, heads, head width, mask, whether q, k, v sit in one packed buffer.</summary>
    private sealed record Geometry(int Batch, int KeyBatch, int QueryLength, int KeyLength, int Heads, int HeadDim, bool Causal, bool Packed)
    {
        public int Width => Heads * HeadDim;

        public int QueryOffset => Causal ? KeyLength - QueryLength : 0;
    }

    private static readonly Dictionary<string, Geometry> Geometries = new()
    {
        ["bidirectional 2x7x3x5"] = new(2, 2, 7, 7, 3, 5, Causal: false, Packed: false),
        ["bidirectional 2x7x3x5 packed"] = new(2, 2, 7, 7, 3, 5, Causal: false, Packed: true),
        // A ViT-B/16 image at 224: class token + 14² patches, 12 heads × 64 (spec §4.2).
        ["bidirectional 1x197x12x64 packed"] = new(1, 1, 197, 197, 12, 64, Causal: false, Packed: true),
        ["causal 2x11x3x5"] = new(2, 2, 11, 11, 3, 5, Causal: true, Packed: false),
        // CLIP's text encoder: 77 tokens, 8 heads × 64, a few prompts (spec §2.2).
        ["causal 3x77x8x64 packed"] = new(3, 3, 77, 77, 8, 64, Causal: true, Packed: true),
        // Shared prefix (spec §2.2/§14): each class's last queries attend to one batch of prefix keys/values.
        ["prefix 4x3of13x3x5"] = new(4, 1, 3, 13, 3, 5, Causal: true, Packed: false),
        ["prefix 20x3of77x8x64 packed"] = new(20, 1, 3, 77, 8, 64, Causal: true, Packed: true),
    };

    /// <summary>The prefix form (<see cref="Attention.ForwardAfterPrefix"/>): C classes of S own positions after P shared ones.</summary>
    private sealed record PrefixGeometry(int Classes, int Length, int Prefix, int Heads, int HeadDim)
    {
        public int Width => Heads * HeadDim;
    }

    private static readonly Dictionary<string, PrefixGeometry> PrefixGeometries = new()
    {
        ["after prefix 4x3of13x3x5"] = new(4, 3, 10, 3, 5),
        // The Reference prompt (spec §2.2): 20 classes' 4 slots after SOT and 72 context vectors, 8 heads × 64.
        ["after prefix 20x4of77x8x64"] = new(20, 4, 73, 8, 64),
    };

    public Type Op => typeof(Attention);

    // The bfloat16 forward on the tower shapes it serves (head dim 64, no prefix): an image at 224 px and text rows.
    public IReadOnlyList<string> Cases { get; } =
        [.. Geometries.Keys, .. PrefixGeometries.Keys, BFloat16Prefix + "bidirectional 1x197x12x64 packed", BFloat16Prefix + "causal 3x77x8x64 packed"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        if (PrefixGeometries.TryGetValue(testCase, out PrefixGeometry? prefixGeometry))
            return RunAfterPrefix(testCase, prefixGeometry, device, seed);
        if (testCase.StartsWith(BFloat16Prefix, StringComparison.Ordinal) && Geometries.TryGetValue(testCase[BFloat16Prefix.Length..], out Geometry? rounded))
            return RunBFloat16(testCase, rounded, device, seed);
        if (!Geometries.TryGetValue(testCase, out Geometry? g))
            throw new ArgumentException($"attention: no case '{testCase}'");
        var random = new RandomTensors(seed);
        int queryCount = g.Batch * g.QueryLength * g.Width, keyCount = g.KeyBatch * g.KeyLength * g.Width;
        // Scores of q, k ∈ [-2, 2] reach a few units after the 1/√Dh scale: softmax rows are peaked, not flat.
        float[] q = random.Uniform(queryCount, -2, 2), k = random.Uniform(keyCount, -2, 2), v = random.Uniform(keyCount), dO = random.Uniform(queryCount);
        float[] o = new float[queryCount], logsumexp = new float[g.Batch * g.Heads * g.QueryLength];
        float[] dq = new float[queryCount], dk = new float[keyCount], dv = new float[keyCount];
        Attention.Reference(q, k, v, o, logsumexp, g.Batch, g.QueryLength, g.KeyLength, g.Heads, g.Causal, g.QueryOffset);
        Attention.BackwardReference(dO, q, k, v, dq, dk, dv, g.Batch, g.QueryLength, g.KeyLength, g.Heads, g.Causal, g.QueryOffset);

        var outputs = new CheckOutputs("attention", testCase);
        using Operands inputs = Operands.Create(device, g, q, k, v);
        using Operands gradients = Operands.Create(device, g, null, null, null);
        using Tensor to = Tensor.Empty([g.Batch, g.QueryLength, g.Width], DType.F32, device);
        using Tensor tl = Tensor.Empty([g.Batch, g.Heads, g.QueryLength], DType.F32, device);
        outputs.Time(() => Attention.Forward(inputs.Q, inputs.K, inputs.V, to, g.Heads, g.Causal, g.QueryOffset, tl));
        outputs.Compare("o", to, o, Forward);
        outputs.Compare("logsumexp", tl, logsumexp, Forward);

        using Tensor tdO = RandomTensors.On(device, dO, g.Batch, g.QueryLength, g.Width);
        // Shared keys gather the gradient of every query batch: the error grows with the number of terms.
        var keyTolerance = new Tolerance(Backward.Absolute * Math.Sqrt(g.Batch / g.KeyBatch), Backward.Relative);
        foreach ((Tensor? given, string suffix) in BothRowSumForms(to))
        {
            outputs.Time(() => Attention.Backward(tdO, inputs.Q, inputs.K, inputs.V, tl, gradients.Q, gradients.K, gradients.V, g.Heads, g.Causal, g.QueryOffset,
                given));
            outputs.Compare("dq" + suffix, gradients.Q, dq, Backward);
            outputs.Compare("dk" + suffix, gradients.K, dk, keyTolerance);
            outputs.Compare("dv" + suffix, gradients.V, dv, keyTolerance);
        }
        return outputs.Results;
    }

    /// <summary>The backward pass without the forward's o, then with it (each row's D from dO·o on a GPU), and their outputs' name suffixes.</summary>
    private static (Tensor? Output, string Suffix)[] BothRowSumForms(Tensor o) => [(null, ""), (o, ", D from o")];

    /// <summary>The forward pass with <see cref="AttentionPrecision.BFloat16"/> against the double reference on rounded q, k, v.</summary>
    private static IReadOnlyList<OpCheckResult> RunBFloat16(string testCase, Geometry g, Device device, int seed)
    {
        var random = new RandomTensors(seed);
        int queryCount = g.Batch * g.QueryLength * g.Width, keyCount = g.KeyBatch * g.KeyLength * g.Width;
        float[] q = random.Uniform(queryCount, -2, 2), k = random.Uniform(keyCount, -2, 2), v = random.Uniform(keyCount);
        float[] o = new float[queryCount], logsumexp = new float[g.Batch * g.Heads * g.QueryLength];
        float[][] rounded = [BFloat16Convert.Rounded(q), BFloat16Convert.Rounded(k), BFloat16Convert.Rounded(v)];
        Attention.Reference(rounded[0], rounded[1], rounded[2], o, logsumexp, g.Batch, g.QueryLength, g.KeyLength, g.Heads, g.Causal, g.QueryOffset);

        var outputs = new CheckOutputs("attention", testCase);
        using Operands inputs = Operands.Create(device, g, q, k, v);
        using Tensor to = Tensor.Empty([g.Batch, g.QueryLength, g.Width], DType.F32, device);
        using Tensor tl = Tensor.Empty([g.Batch, g.Heads, g.QueryLength], DType.F32, device);
        outputs.Time(() => Attention.Forward(inputs.Q, inputs.K, inputs.V, to, g.Heads, g.Causal, g.QueryOffset, tl, AttentionPrecision.BFloat16));
        outputs.Compare("o", to, o, BFloat16Output);
        outputs.Compare("logsumexp", tl, logsumexp, BFloat16LogSumExp);
        using Tensor roundedOutput = Tensor.Empty([g.Batch, g.QueryLength, g.Width], DType.BF16, device);
        outputs.Time(() => Attention.Forward(inputs.Q, inputs.K, inputs.V, roundedOutput, g.Heads, g.Causal, g.QueryOffset, precision: AttentionPrecision.BFloat16));
        outputs.Compare("o in bfloat16", roundedOutput, o, BFloat16Output.WithBFloat16Rounding());
        // From q, k and v stored in bfloat16 (a GEMM's bfloat16 output): the same values, so the same o.
        using Tensor q16 = RandomTensors.OnInBFloat16(device, rounded[0], g.Batch, g.QueryLength, g.Width);
        using Tensor k16 = RandomTensors.OnInBFloat16(device, rounded[1], g.KeyBatch, g.KeyLength, g.Width);
        using Tensor v16 = RandomTensors.OnInBFloat16(device, rounded[2], g.KeyBatch, g.KeyLength, g.Width);
        outputs.Time(() => Attention.Forward(q16, k16, v16, roundedOutput, g.Heads, g.Causal, g.QueryOffset, precision: AttentionPrecision.BFloat16));
        outputs.Compare("o in bfloat16 from bfloat16 q, k, v", roundedOutput, o, BFloat16Output.WithBFloat16Rounding());
        using Tensor widenedOutput = Tensor.Empty([g.Batch, g.QueryLength, g.Width], DType.F32, device);
        outputs.Time(() => Attention.Forward(q16, k16, v16, widenedOutput, g.Heads, g.Causal, g.QueryOffset, precision: AttentionPrecision.BFloat16));
        outputs.Compare("o from bfloat16 q, k, v", widenedOutput, o, BFloat16Output);
        return outputs.Results;
    }

    /// <summary>
    /// The prefix form against the double reference on each class's concatenated keys [prefix; own] (causal offset P):
    /// o, logsumexp, dq, the own dk and dv, and the prefix's dk and dv summed over the classes.
    /// </summary>
    private static IReadOnlyList<OpCheckResult> RunAfterPrefix(string testCase, PrefixGeometry g, Device device, int seed)
    {
        var random = new RandomTensors(seed);
        int ownCount = g.Classes * g.Length * g.Width, prefixCount = g.Prefix * g.Width, keyLength = g.Prefix + g.Length;
        float[] q = random.Uniform(ownCount, -2, 2), k = random.Uniform(ownCount, -2, 2), v = random.Uniform(ownCount), dO = random.Uniform(ownCount);
        float[] prefixK = random.Uniform(prefixCount, -2, 2), prefixV = random.Uniform(prefixCount);
        float[] fullK = PrefixSequences.Concatenate(prefixK, k, g.Classes), fullV = PrefixSequences.Concatenate(prefixV, v, g.Classes);
        float[] o = new float[ownCount], logsumexp = new float[g.Classes * g.Heads * g.Length];
        float[] dq = new float[ownCount], dFullK = new float[fullK.Length], dFullV = new float[fullV.Length];
        Attention.Reference(q, fullK, fullV, o, logsumexp, g.Classes, g.Length, keyLength, g.Heads, causal: true, g.Prefix);
        Attention.BackwardReference(dO, q, fullK, fullV, dq, dFullK, dFullV, g.Classes, g.Length, keyLength, g.Heads, causal: true, g.Prefix);
        (float[] dPrefixK, float[] dk) = PrefixSequences.Split(dFullK, g.Classes, g.Prefix, g.Width);
        (float[] dPrefixV, float[] dv) = PrefixSequences.Split(dFullV, g.Classes, g.Prefix, g.Width);

        var outputs = new CheckOutputs("attention", testCase);
        var owned = new List<Tensor>();
        Tensor On(float[] values, params int[] shape)
        {
            Tensor t = RandomTensors.On(device, values, shape);
            owned.Add(t);
            return t;
        }
        try
        {
            int[] own = [g.Classes, g.Length, g.Width], shared = [1, g.Prefix, g.Width];
            Tensor tq = On(q, own), tk = On(k, own), tv = On(v, own), tpk = On(prefixK, shared), tpv = On(prefixV, shared), tdO = On(dO, own);
            Tensor to = On(new float[ownCount], own), tl = On(new float[logsumexp.Length], g.Classes, g.Heads, g.Length);
            outputs.Time(() => Attention.ForwardAfterPrefix(tq, tk, tv, tpk, tpv, to, g.Heads, tl));
            outputs.Compare("o", to, o, Forward);
            outputs.Compare("logsumexp", tl, logsumexp, Forward);
            // The prefix's gradients sum over the classes: the error grows with the number of terms.
            var prefixTolerance = new Tolerance(Backward.Absolute * Math.Sqrt(g.Classes), Backward.Relative);
            // The prefix's gradients are added to, so each run starts from zeros.
            foreach ((Tensor? given, string suffix) in BothRowSumForms(to))
            {
                Tensor tdq = On(new float[ownCount], own), tdk = On(new float[ownCount], own), tdv = On(new float[ownCount], own);
                Tensor tdpk = On(new float[prefixCount], shared), tdpv = On(new float[prefixCount], shared);
                outputs.Time(() => Attention.BackwardAfterPrefix(tdO, tq, tk, tv, tpk, tpv, tl, tdq, tdk, tdv, tdpk, tdpv, g.Heads, given));
                outputs.Compare("dq" + suffix, tdq, dq, Backward);
                outputs.Compare("dk" + suffix, tdk, dk, Backward);
                outputs.Compare("dv" + suffix, tdv, dv, Backward);
                outputs.Compare("prefix dk" + suffix, tdpk, dPrefixK, prefixTolerance);
                outputs.Compare("prefix dv" + suffix, tdpv, dPrefixV, prefixTolerance);
            }
        }
        finally
        {
            foreach (Tensor t in owned) t.Dispose();
        }
        return outputs.Results;
    }

    /// <summary>
    /// q [B, Tq, D], k and v [Bk, Tk, D] as separate contiguous tensors, or as the column blocks of packed
    /// [B, T, 3D] buffers the way the in-projection writes them (one buffer for q when Tq ≠ Tk or Bk ≠ B).
    /// </summary>
    private sealed class Operands : IDisposable
    {
        private readonly List<Tensor> owned = [];

        public Tensor Q { get; private set; } = null!;

        public Tensor K { get; private set; } = null!;

        public Tensor V { get; private set; } = null!;

        public static Operands Create(Device device, Geometry g, float[]? q, float[]? k, float[]? v)
        {
            var operands = new Operands();
            if (!g.Packed)
            {
                operands.Q = operands.Own(Dense(device, q, g.Batch, g.QueryLength, g.Width));
                operands.K = operands.Own(Dense(device, k, g.KeyBatch, g.KeyLength, g.Width));
                operands.V = operands.Own(Dense(device, v, g.KeyBatch, g.KeyLength, g.Width));
                return operands;
            }
            bool shared = g.KeyBatch == g.Batch && g.KeyLength == g.QueryLength;
            Tensor keyBuffer = operands.Own(Packed(device, g.KeyBatch, g.KeyLength, g.Width, shared ? q : null, k, v));
            Tensor queryBuffer = shared ? keyBuffer : operands.Own(Packed(device, g.Batch, g.QueryLength, g.Width, q, null, null));
            operands.Q = operands.Own(queryBuffer.Slice(2, 0, g.Width));
            operands.K = operands.Own(keyBuffer.Slice(2, g.Width, g.Width));
            operands.V = operands.Own(keyBuffer.Slice(2, 2 * g.Width, g.Width));
            return operands;
        }

        public void Dispose()
        {
            foreach (Tensor tensor in owned)
                tensor.Dispose();
        }

        private Tensor Own(Tensor tensor)
        {
            owned.Add(tensor);
            return tensor;
        }

        private static Tensor Dense(Device device, float[]? values, int batch, int tokens, int width) =>
            values is null ? Tensor.Empty([batch, tokens, width], DType.F32, device) : RandomTensors.On(device, values, batch, tokens, width);

        /// <summary>A [batch, tokens, 3·width] buffer holding the given blocks in columns 0, width, 2·width; NaN elsewhere, so a stray read shows.</summary>
        private static Tensor Packed(Device device, int batch, int tokens, int width, float[]? first, float[]? second, float[]? third)
        {
            float[] packed = new float[batch * tokens * 3 * width];
            Array.Fill(packed, float.NaN);
            float[]?[] blocks = [first, second, third];
            for (int block = 0; block < 3; block++)
                if (blocks[block] is { } values)
                    for (int row = 0; row < batch * tokens; row++)
                        values.AsSpan(row * width, width).CopyTo(packed.AsSpan((row * 3 + block) * width, width));
            return RandomTensors.On(device, packed, batch, tokens, 3 * width);
        }
    }
}
