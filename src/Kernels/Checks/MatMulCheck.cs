using ReClip.Kernels.Gemm;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class MatMulCheck : IOpCheck
{
    /// <summary>
    /// Inputs in [−1, 1]: a float32 dot product of length K built from blocked partial sums carries an error that
    /// grows at most linearly in K (in practice like √K); 2e-7·K absolute covers it with room, against a double reference.
    /// </summary>
    private static Tolerance For(int k) => new(2e-7 * k, 1e-5);

    /// <summary>
    /// On TF32 tensor cores each operand keeps 10 of its 23 mantissa bits, rounded or cut (cuBLAS does not say which): a
    /// product of two inputs in [−1, 1] is off by up to 2⁻⁹ of itself, with a bias when cut. Summed over K with random signs
    /// the error's spread grows like √K; for the largest case (K 768, 454k outputs) cut operands would leave a worst error
    /// of about 0.036, and 2e-3·√K allows 0.055 there.
    /// </summary>
    private static Tolerance ForTensorFloat32(int k) => new(2e-3 * Math.Sqrt(k), 1e-3);

    public Type Op => typeof(MatMul);

    private const string BFloat16Prefix = "bf16 ";
    private const string TensorFloat32Prefix = "tf32 ";
    private const string EachPrefix = "each ";

    // MxKxN: odd sizes for the edge tiles; the ViT's qkv linear at 224 px; the Query-logit shape of spec §13; the qkv
    // linear with its weight stored in bfloat16 (the towers' option on a GPU). BxMxKxN: MultiplyEach over the rows
    // after each matrix's first (the dense projection of the patch tokens behind the class token). "tf32": float32 GEMMs on
    // TF32 tensor cores (Float32Gemms; `train --tf32`), the text tower's c_fc at 134 prompt rows and the qkv linear; the
    // CPU has no TF32 and computes float32 there, within the same tolerance.
    public IReadOnlyList<string> Cases { get; } =
        ["1x1x1", "7x33x5", "197x768x2304", "441x512x20", BFloat16Prefix + "7x33x5", BFloat16Prefix + "197x768x2304",
            TensorFloat32Prefix + "134x512x2048", TensorFloat32Prefix + "197x768x2304", EachPrefix + "3x7x33x5", EachPrefix + "2x196x768x512"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        if (testCase.StartsWith(EachPrefix, StringComparison.Ordinal))
            return RunEach(testCase, CaseSize.Parse(testCase[EachPrefix.Length..]), device, seed);
        if (!testCase.StartsWith(TensorFloat32Prefix, StringComparison.Ordinal))
            return RunProducts(testCase, device, seed, For);
        using Float32Gemms.Scope tensorCores = Float32Gemms.TensorFloat32();
        return RunProducts(testCase[TensorFloat32Prefix.Length..], device, seed, ForTensorFloat32, testCase);
    }

    /// <summary>The linears and products of one MxKxN case (bf16-prefixed: a bfloat16 weight) within the tolerance <paramref name="within"/> gives for K.</summary>
    private static unsafe IReadOnlyList<OpCheckResult> RunProducts(string sizes, Device device, int seed, Func<int, Tolerance> within, string? name = null)
    {
        string testCase = name ?? sizes;
        bool bfloat16 = sizes.StartsWith(BFloat16Prefix, StringComparison.Ordinal);
        int[] size = CaseSize.Parse(bfloat16 ? sizes[BFloat16Prefix.Length..] : sizes);
        (int m, int k, int n) = (size[0], size[1], size[2]);
        var random = new RandomTensors(seed);
        float[] x = random.Uniform(m * k), weight = random.Uniform(n * k), bias = random.Uniform(n), b = random.Uniform(k * n);
        // With a bfloat16 weight the linear multiplies x and W rounded to bfloat16: the reference does too.
        float[] xUsed = bfloat16 ? BFloat16Convert.Rounded(x) : x, weightUsed = bfloat16 ? BFloat16Convert.Rounded(weight) : weight;
        // A bfloat16 output takes the bias rounded to bfloat16 as well.
        float[] linear = new float[m * n], product = new float[m * n], roundedBias = BFloat16Convert.Rounded(bias), linearOfRoundedBias = new float[m * n];
        fixed (float* px = x, pxu = xUsed, pw = weightUsed, pbias = bias, prb = roundedBias, pb = b, pl = linear, plr = linearOfRoundedBias, pp = product)
        {
            SgemmReference.Multiply(m, n, k, 1, new GemmOperand(pxu, k, false), new GemmOperand(pw, k, true), 0, pl, n, pbias);
            if (bfloat16)
                SgemmReference.Multiply(m, n, k, 1, new GemmOperand(pxu, k, false), new GemmOperand(pw, k, true), 0, plr, n, prb);
            SgemmReference.Multiply(m, n, k, 1, new GemmOperand(px, k, false), new GemmOperand(pb, n, false), 0, pp, n);
        }

        var outputs = new CheckOutputs("matmul", testCase);
        using Tensor tw = bfloat16 ? RandomTensors.OnInBFloat16(device, weight, n, k) : RandomTensors.On(device, weight, n, k);
        using Tensor tx = RandomTensors.On(device, x, m, k), tbias = RandomTensors.On(device, bias, n);
        using Tensor tb = RandomTensors.On(device, b, k, n), ty = Tensor.Empty([m, n], DType.F32, device), tc = Tensor.Empty([m, n], DType.F32, device);
        outputs.Time(() => MatMul.Linear(tx, tw, tbias, ty));
        outputs.Compare("linear", ty, linear, within(k));
        // Added to a residual stream (one GEMM with beta = 1 on a GPU): start + x·Wᵀ + b.
        float[] start = random.Uniform(m * n);
        using Tensor stream = RandomTensors.On(device, start, m, n), scratch = Tensor.Empty([m, n], DType.F32, device);
        outputs.Time(() => MatMul.LinearAdding(tx, tw, tbias, stream, scratch));
        outputs.Compare("linear adding", stream, [.. start.Zip(linear, (a, b) => a + b)], within(k));
        if (bfloat16)
        {
            // The same product from an input its producer stored in bfloat16 (LayerNorm, QuickGELU, attention in a bfloat16 tower).
            using Tensor roundedInput = Tensor.Empty([m, k], DType.BF16, device);
            BFloat16Convert.Forward(tx, roundedInput);
            outputs.Time(() => MatMul.Linear(roundedInput, tw, tbias, ty));
            outputs.Compare("linear from bfloat16 input", ty, linear, within(k));
            // Stored in bfloat16 for a bfloat16 consumer.
            using Tensor roundedOutput = Tensor.Empty([m, n], DType.BF16, device);
            outputs.Time(() => MatMul.Linear(roundedInput, tw, tbias, roundedOutput));
            outputs.Compare("linear into bfloat16", roundedOutput, linearOfRoundedBias, within(k).WithBFloat16Rounding());
        }
        outputs.Time(() => MatMul.Multiply(tx, tb, tc));
        outputs.Compare("product", tc, product, within(k));
        // Aᵀ·B with A [k, m] (a weight's gradient summed over the rows both share): x's values read as A.
        float[] productOfTransposed = new float[m * n];
        fixed (float* px = x, pb = b, pt = productOfTransposed)
            SgemmReference.Multiply(m, n, k, 1, new GemmOperand(px, m, true), new GemmOperand(pb, n, false), 0, pt, n);
        using Tensor ta = RandomTensors.On(device, x, k, m);
        outputs.Time(() => MatMul.MultiplyTransposedA(ta, tb, tc));
        outputs.Compare("product with A transposed", tc, productOfTransposed, within(k));
        return outputs.Results;
    }

    private static unsafe IReadOnlyList<OpCheckResult> RunEach(string testCase, int[] size, Device device, int seed)
    {
        (int batch, int m, int k, int n) = (size[0], size[1], size[2], size[3]);
        var random = new RandomTensors(seed);
        float[] a = random.Uniform(batch * (m + 1) * k), b = random.Uniform(k * n), expected = new float[batch * m * n];
        fixed (float* pa = a, pb = b, pc = expected)
            for (int i = 0; i < batch; i++)
                SgemmReference.Multiply(m, n, k, 1, new GemmOperand(pa + (i * (m + 1) + 1) * k, k, false), new GemmOperand(pb, n, false), 0, pc + i * m * n, n);
        var outputs = new CheckOutputs("matmul", testCase);
        using Tensor whole = RandomTensors.On(device, a, batch, m + 1, k), rows = whole.Slice(1, 1, m);
        using Tensor tb = RandomTensors.On(device, b, k, n), tc = Tensor.Empty([batch, m, n], DType.F32, device);
        outputs.Time(() => MatMul.MultiplyEach(rows, tb, tc));
        outputs.Compare("each", tc, expected, For(k));
        return outputs.Results;
    }
}
