using ReClip.Kernels.Cuda;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Ops;

/// <summary>
/// The CUDA paths of MatMul: cuBLAS GEMMs in float32 (spec §4.7: the reference runs its matmuls in full fp32) or, where
/// the queueing thread asks for it (<see cref="Float32Gemms"/>), on TF32 tensor cores; or with bfloat16 operands when the
/// weight is stored so (an option for the frozen towers). A linear's bias is added by
/// cuBLASLt's epilogue; where cuBLASLt is missing or has no algorithm for the shape, by the Add kernel after the GEMM.
/// </summary>
public static partial class MatMul
{
    /// <summary>
    /// y = x·Wᵀ + b, or y += x·Wᵀ + b with <paramref name="beta"/> 1 (cuBLAS reads y in place). A bfloat16 y (for a
    /// bfloat16 consumer, with a bfloat16 weight) is stored so by cuBLASLt, which takes the bias in bfloat16; without
    /// cuBLASLt, a float32 product plus the same rounded bias goes through the conversion kernel.
    /// </summary>
    private static void LinearCuda(Tensor x, Tensor weight, Tensor? bias, Tensor y, int rows, int outputs, int inputs, float beta)
    {
        int device = DeviceTensors.Require("Linear input", x.DType == DType.BF16 ? DType.BF16 : DType.F32, [x]);
        bool bfloat16Output = DeviceTensors.RequireFloat32OrBFloat16("Linear", y, device);
        DeviceTensors.Require("Linear weight", weight.DType == DType.BF16 ? DType.BF16 : DType.F32, [weight]);
        if (weight.Device != y.Device)
            throw new ArgumentException($"Linear: {weight} is not on {y.Device} like the output");
        if (bfloat16Output && (weight.DType != DType.BF16 || beta != 0))
            throw new ArgumentException($"Linear: a bfloat16 output {y} is that of a bfloat16 weight's linear, not added to");
        if (rows == 0) return;
        // Tensor cores take both operands in bfloat16: with such a weight the activations are rounded on the way in, as
        // PyTorch's bf16 linear does, unless their producer stored them in bfloat16.
        bool bfloat16 = weight.DType == DType.BF16;
        using Tensor? rounded = bfloat16 && x.DType != DType.BF16 ? Tensor.Empty([rows, inputs], DType.BF16, x.Device) : null;
        if (rounded is not null)
            using (Tensor flat = x.Reshape(rows, inputs))
                BFloat16Convert.Forward(flat, rounded);
        Tensor input = rounded ?? x;
        if (bfloat16Output)
        {
            LinearIntoBFloat16(device, input, weight, bias, y, rows, outputs, inputs);
            return;
        }
        ulong a = DeviceTensors.Address(input), weights = DeviceTensors.Address(weight), output = DeviceTensors.Address(y);
        GemmPrecision precision = bfloat16 ? GemmPrecision.BFloat16Inputs : Float32Gemms.Precision;
        if (bias is not null && bias.DType == DType.F32 && bias.IsContiguous && bias.Device == y.Device
            && CublasLt.TryGemmBias(device, transposeA: false, transposeB: true, rows, outputs, inputs, a, inputs, weights, inputs, output, outputs,
                DeviceTensors.Address(bias), precision, beta))
            return;
        Gemm(device, transposeA: false, transposeB: true, rows, outputs, inputs, 1, a, inputs, weights, inputs, beta, output, outputs, precision);
        if (bias is not null)
            Add.Bias(y, bias);
    }

    /// <summary>
    /// y (bfloat16) = x·Wᵀ + bf16(b) with bfloat16 x and W: one cuBLASLt GEMM that stores bfloat16, else a float32 product
    /// with the bias rounded the same way (kept in float32, on the device: nothing here waits for or copies to the host,
    /// so a captured step may hold it), converted.
    /// </summary>
    private static void LinearIntoBFloat16(int device, Tensor x, Tensor weight, Tensor? bias, Tensor y, int rows, int outputs, int inputs)
    {
        if (bias is not null)
        {
            using Tensor roundedBias = Tensor.Empty([outputs], DType.BF16, y.Device);
            BFloat16Convert.Forward(bias, roundedBias);
            if (CublasLt.TryGemmBias(device, transposeA: false, transposeB: true, rows, outputs, inputs, DeviceTensors.Address(x), inputs,
                    DeviceTensors.Address(weight), inputs, DeviceTensors.Address(y), outputs, DeviceTensors.Address(roundedBias),
                    GemmPrecision.BFloat16Inputs, bfloat16Output: true))
                return;
        }
        using Tensor? widenedBias = bias is null ? null : Tensor.Empty([outputs], DType.F32, y.Device);
        if (bias is not null)
            BFloat16Convert.RoundInto(bias, widenedBias!);
        using Tensor product = Tensor.Empty([rows, outputs], DType.F32, y.Device);
        LinearCuda(x, weight, widenedBias, product, rows, outputs, inputs, 0);
        using Tensor flat = y.Reshape(rows, outputs);
        BFloat16Convert.Forward(product, flat);
    }

    private static void MultiplyEachCuda(Tensor a, Tensor b, Tensor c, int batch, int m, int n, int k)
    {
        int device = DeviceTensors.Require("MatMul.MultiplyEach", b, c);
        if (a.Device != c.Device || a.DType != DType.F32)
            throw new ArgumentException($"MatMul.MultiplyEach: A {a} must be float32 on {c.Device} like the output");
        Cublas.GemmStridedBatched(device, transposeA: false, transposeB: false, m, n, k, 1,
            DeviceTensors.Address(a), k, a.Strides[0], DeviceTensors.Address(b), n, 0, 0, DeviceTensors.Address(c), n, (long)m * n, batch);
    }

    private static void MultiplyCuda(Tensor a, Tensor b, Tensor c, bool transposeB, float alpha, float beta, int m, int n, int k)
    {
        int device = DeviceTensors.Require("MatMul", a, b, c);
        if (m == 0 || n == 0) return;
        Gemm(device, transposeA: false, transposeB, m, n, k, alpha,
            DeviceTensors.Address(a), k, DeviceTensors.Address(b), transposeB ? k : n, beta, DeviceTensors.Address(c), n);
    }

    private static void MultiplyTransposedACuda(Tensor a, Tensor b, Tensor c, int m, int n, int k)
    {
        int device = DeviceTensors.Require("MatMul", a, b, c);
        if (m == 0 || n == 0) return;
        Gemm(device, transposeA: true, transposeB: false, m, n, k, 1,
            DeviceTensors.Address(a), m, DeviceTensors.Address(b), n, 0, DeviceTensors.Address(c), n);
    }

    /// <summary>A GEMM without a bias: through cuBLASLt with the algorithm timed fastest when GEMMs are tuned (<see cref="CublasLt.Tuning"/>), else cuBLAS's.</summary>
    private static void Gemm(int device, bool transposeA, bool transposeB, int m, int n, int k, float alpha, ulong a, int lda, ulong b, int ldb,
        float beta, ulong c, int ldc, GemmPrecision? precision = null)
    {
        if (!CublasLt.TryGemm(device, transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, precision))
            Cublas.Gemm(device, transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, precision);
    }
}
