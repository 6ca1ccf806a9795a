using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// Matrix products on tensors: the linear layer y = x·Wᵀ + b (W stored [out, in] as PyTorch and CLIP keep
/// it) and the general C = alpha·A·op(B) + beta·C. On the CPU both run on <see cref="Sgemm"/>; the
/// definition is <see cref="SgemmReference"/>. On CUDA they run on cuBLAS in float32.
/// </summary>
public static partial class MatMul
{
    /// <summary>
    /// y[rows, out] = x[rows, in]·W[out, in]ᵀ (+ b[out]); x may have any leading dimensions. W may be bfloat16 (a tower's
    /// weights stored that way on a GPU): x is then rounded to bfloat16 too, unless its producer stored it in bfloat16
    /// already, and the product accumulates in float32; y may then be bfloat16 as well, for a bfloat16 consumer: y =
    /// bf16(x·Wᵀ + bf16(b)), the bias rounded as a GPU's cuBLASLt takes it for such an output (and as PyTorch's bf16 linear holds it).
    /// </summary>
    public static void Linear(Tensor x, Tensor weight, Tensor? bias, Tensor y) => Linear(x, weight, bias, y, adding: false);

    /// <summary>
    /// y[rows, out] += x[rows, in]·W[out, in]ᵀ (+ b[out]), as <see cref="Linear(Tensor, Tensor, Tensor?, Tensor)"/> otherwise:
    /// a residual stream the product is added to. On a GPU one GEMM reads and writes y as it stores (beta = 1), instead
    /// of writing the product for a separate pass to add; on the CPU the product goes into <paramref name="scratch"/>
    /// (y's shape) and is then added, so that the sums are those of <see cref="Add.Residual"/> after a linear.
    /// </summary>
    public static void LinearAdding(Tensor x, Tensor weight, Tensor? bias, Tensor y, Tensor scratch)
    {
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(scratch);
        if (!y.Device.IsCpu)
        {
            Linear(x, weight, bias, y, adding: true);
            return;
        }
        Linear(x, weight, bias, scratch, adding: false);
        Add.Residual(y, scratch);
    }

    /// <summary>The linear; <paramref name="adding"/> (a GPU's form of <see cref="LinearAdding"/>) adds to y instead of overwriting it.</summary>
    private static unsafe void Linear(Tensor x, Tensor weight, Tensor? bias, Tensor y, bool adding)
    {
        int inputs = weight.Size(1), outputs = weight.Size(0);
        if (weight.Rank != 2 || x.Size(-1) != inputs)
            throw new TensorShapeException($"Linear: input {Shape.Format(x.Shape)} does not match weight {Shape.Format(weight.Shape)} ([out, in])");
        int rows = (int)(x.ElementCount / inputs);
        if (y.ElementCount != (long)rows * outputs || y.Size(-1) != outputs)
            throw new TensorShapeException($"Linear: output {Shape.Format(y.Shape)} does not match {rows} rows × {outputs}");
        if (bias is not null)
            Shape.Require("Linear bias", [outputs], bias.Shape);
        if ((x.DType == DType.BF16 || y.DType == DType.BF16) && weight.DType != DType.BF16)
            throw new ArgumentException($"Linear: a bfloat16 input or output ({x}, {y}) needs a bfloat16 weight, not {weight}");
        if (!x.Device.IsCpu)
        {
            LinearCuda(x, weight, bias, y, rows, outputs, inputs, adding ? 1 : 0);
            return;
        }
        if (y.DType == DType.BF16)
        {
            // The bias in bfloat16 too, as a GPU's cuBLASLt takes it for a bfloat16 output.
            using Tensor? roundedBias = bias is null ? null : BFloat16Convert.RoundedCopy(bias);
            BFloat16Convert.ThroughFloat32(y, scratch => LinearBFloat16(x, weight, roundedBias, scratch, rows, inputs));
            return;
        }
        if (weight.DType == DType.BF16)
        {
            LinearBFloat16(x, weight, bias, y, rows, inputs);
            return;
        }
        OpGuard.Cpu("Linear", x, weight, y);
        if (bias is not null) OpGuard.Cpu("Linear bias", bias);
        Sgemm.Multiply(rows, outputs, inputs, 1, new GemmOperand(x.Pointer<float>(), inputs, false),
            new GemmOperand(weight.Pointer<float>(), inputs, true), 0, y.Pointer<float>(), outputs,
            bias is null ? null : bias.Pointer<float>());
    }

    /// <summary>
    /// The CPU form of a bfloat16 weight: x rounded to bfloat16 and both widened back, then the float32 product; the values
    /// the GPU's bfloat16 GEMM multiplies, so the two devices agree up to summation order. Slow (a widened copy of W per call):
    /// it is the reference and the fallback, not a CPU speed path.
    /// </summary>
    private static void LinearBFloat16(Tensor x, Tensor weight, Tensor? bias, Tensor y, int rows, int inputs)
    {
        OpGuard.Cpu("Linear", DType.BF16, weight);
        using Tensor rounded = BFloat16Convert.RoundedCopy(x);
        using Tensor input = rounded.Reshape(rows, inputs);
        using Tensor widened = Tensor.FromSpan<float>(weight.ToFloatArray(), weight.Shape);
        using Tensor output = y.Reshape(rows, weight.Size(0));
        Linear(input, widened, bias, output);
    }

    /// <summary>
    /// C[i] = A[i]·B for every i of a batch that shares B: A [batch, m, k] with rows of k contiguous floats at any batch
    /// stride (e.g. each image's patch rows, after its class token), B [k, n], C [batch, m, n] contiguous. One
    /// strided-batched GEMM on a GPU, where a GEMM per matrix would be launch-bound.
    /// </summary>
    public static unsafe void MultiplyEach(Tensor a, Tensor b, Tensor c)
    {
        if (a.Rank != 3 || b.Rank != 2 || c.Rank != 3)
            throw new TensorShapeException($"MatMul.MultiplyEach: needs [batch, m, k]·[k, n], got {Shape.Format(a.Shape)}, {Shape.Format(b.Shape)}, {Shape.Format(c.Shape)}");
        int batch = a.Size(0), m = a.Size(1), k = a.Size(2), n = b.Size(1);
        if (b.Size(0) != k)
            throw new TensorShapeException($"MatMul.MultiplyEach: A {Shape.Format(a.Shape)} does not chain with B {Shape.Format(b.Shape)}");
        Shape.Require("MatMul.MultiplyEach output", [batch, m, n], c.Shape);
        if (a.Strides[2] != 1 || a.Strides[1] != k || !b.IsContiguous || !c.IsContiguous)
            throw new ArgumentException($"MatMul.MultiplyEach: A {a} needs rows of {k} contiguous floats, B and C contiguous");
        if (batch == 0 || m == 0 || n == 0)
            return;
        if (!a.Device.IsCpu)
        {
            MultiplyEachCuda(a, b, c, batch, m, n, k);
            return;
        }
        OpGuard.Cpu("MatMul.MultiplyEach", b, c);
        Sgemm.MultiplyBatched(batch, m, n, k, 1, new GemmOperand(a.Pointer<float>(), k, false), a.Strides[0],
            new GemmOperand(b.Pointer<float>(), n, false), 0, 0, c.Pointer<float>(), n, (long)m * n);
    }

    /// <summary>C[m, n] = alpha·A[m, k]·op(B) + beta·C, with op(B) = B[k, n], or B[n, k] transposed.</summary>
    public static unsafe void Multiply(Tensor a, Tensor b, Tensor c, bool transposeB = false, float alpha = 1, float beta = 0)
    {
        if (a.Rank != 2 || b.Rank != 2 || c.Rank != 2)
            throw new TensorShapeException($"MatMul: needs matrices, got {Shape.Format(a.Shape)}, {Shape.Format(b.Shape)}, {Shape.Format(c.Shape)}");
        int m = a.Size(0), k = a.Size(1), n = transposeB ? b.Size(0) : b.Size(1);
        if ((transposeB ? b.Size(1) : b.Size(0)) != k)
            throw new TensorShapeException($"MatMul: A {Shape.Format(a.Shape)} does not chain with B {Shape.Format(b.Shape)}{(transposeB ? "ᵀ" : "")}");
        Shape.Require("MatMul output", [m, n], c.Shape);
        if (!a.Device.IsCpu)
        {
            MultiplyCuda(a, b, c, transposeB, alpha, beta, m, n, k);
            return;
        }
        OpGuard.Cpu("MatMul", a, b, c);
        Sgemm.Multiply(m, n, k, alpha, new GemmOperand(a.Pointer<float>(), k, false),
            new GemmOperand(b.Pointer<float>(), transposeB ? k : n, transposeB), beta, c.Pointer<float>(), n);
    }

    /// <summary>C[m, n] = A[k, m]ᵀ·B[k, n]: a sum over the rows both share, e.g. a weight's gradient dYᵀ·X over the patches.</summary>
    public static unsafe void MultiplyTransposedA(Tensor a, Tensor b, Tensor c)
    {
        if (a.Rank != 2 || b.Rank != 2 || c.Rank != 2)
            throw new TensorShapeException($"MatMul: needs matrices, got {Shape.Format(a.Shape)}, {Shape.Format(b.Shape)}, {Shape.Format(c.Shape)}");
        int k = a.Size(0), m = a.Size(1), n = b.Size(1);
        if (b.Size(0) != k)
            throw new TensorShapeException($"MatMul: Aᵀ of {Shape.Format(a.Shape)} does not chain with B {Shape.Format(b.Shape)}");
        Shape.Require("MatMul output", [m, n], c.Shape);
        if (!a.Device.IsCpu)
        {
            MultiplyTransposedACuda(a, b, c, m, n, k);
            return;
        }
        OpGuard.Cpu("MatMul", a, b, c);
        Sgemm.Multiply(m, n, k, 1, new GemmOperand(a.Pointer<float>(), m, true), new GemmOperand(b.Pointer<float>(), n, false), 0, c.Pointer<float>(), n);
    }
}
