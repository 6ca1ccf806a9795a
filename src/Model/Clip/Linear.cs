using ReClip.Kernels.Gemm;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Clip;

/// <summary>
/// A frozen linear layer through our SGEMM: y = x·Wᵀ + b with W [out, in] read as a transposed operand and
/// the bias added in the GEMM's epilogue; and its input gradient dx = dy·W (no weight gradient: CLIP is frozen).
/// Rows may be strided (a leading dimension per operand), so column blocks of the packed qkv are used in place.
/// The tensor form also runs on CUDA (cuBLAS, through MatMul.Linear).
/// </summary>
public static unsafe class Linear
{
    /// <summary>
    /// y [rows, out] (row stride ldy) = x [rows, in] (row stride ldx) · W[firstOut..firstOut+out]ᵀ + b, with W
    /// packed once (<see cref="PackedWeights"/>).
    /// </summary>
    public static void Forward(float* x, long ldx, int rows, Tensor weight, Tensor? bias, float* y, long ldy, int firstOut = 0, int outputs = -1)
    {
        if (outputs < 0) outputs = weight.Size(0) - firstOut;
        float* b = bias is null ? null : bias.Pointer<float>() + firstOut;
        Sgemm.Multiply(rows, 1, new GemmOperand(x, ldx, false), PackedWeights.For(weight, firstOut, outputs), 0, y, ldy, b);
    }

    /// <summary>
    /// y [..., out] = x [..., in] · W[firstOut..firstOut+out]ᵀ + b on contiguous tensors, out being y's last dimension,
    /// on the device of y: cuBLAS there, our SGEMM with W packed once on the CPU. A bfloat16 W (and x, then) goes through
    /// <see cref="MatMul.Linear"/> on either device.
    /// </summary>
    public static void Forward(Tensor x, Tensor weight, Tensor? bias, Tensor y, int firstOut = 0)
    {
        int inputs = weight.Size(1), outputs = y.Size(-1);
        if (x.Size(-1) != inputs || firstOut < 0 || firstOut + outputs > weight.Size(0) || x.ElementCount / inputs != y.ElementCount / outputs)
            throw new TensorShapeException($"Linear: x {Shape.Format(x.Shape)}, weight {Shape.Format(weight.Shape)} from row {firstOut}, y {Shape.Format(y.Shape)} do not fit");
        if (!y.Device.IsCpu || weight.DType == DType.BF16)
        {
            using Tensor rows = weight.Slice(0, firstOut, outputs);
            using Tensor? shift = bias?.Slice(0, firstOut, outputs);
            MatMul.Linear(x, rows, shift, y);
            return;
        }
        Forward(x.Pointer<float>(), inputs, (int)(x.ElementCount / inputs), weight, bias, y.Pointer<float>(), outputs, firstOut, outputs);
    }

    /// <summary>
    /// residual [..., out] += x [..., in] · Wᵀ + b: the out-projection and c_proj of a residual block. On a GPU one GEMM
    /// adds to the residual stream as it stores (<see cref="MatMul.LinearAdding"/>); on the CPU the product goes into
    /// <paramref name="scratch"/> (the residual's shape) and <see cref="Add.Residual"/> adds it.
    /// </summary>
    public static void ForwardAdding(Tensor x, Tensor weight, Tensor? bias, Tensor residual, Tensor scratch)
    {
        ArgumentNullException.ThrowIfNull(residual);
        if (!residual.Device.IsCpu)
        {
            MatMul.LinearAdding(x, weight, bias, residual, scratch);
            return;
        }
        Forward(x, weight, bias, scratch);
        Add.Residual(residual, scratch);
    }

    /// <summary>dx [..., in] = dy [..., out] · W on contiguous tensors, overwriting dx (beta 0) or adding to it (beta 1), on the device of dx.</summary>
    public static void Backward(Tensor dy, Tensor weight, Tensor dx, float beta = 0)
    {
        int inputs = weight.Size(1), outputs = weight.Size(0);
        if (dy.Size(-1) != outputs || dx.Size(-1) != inputs || dy.ElementCount / outputs != dx.ElementCount / inputs)
            throw new TensorShapeException($"Linear.Backward: dy {Shape.Format(dy.Shape)}, weight {Shape.Format(weight.Shape)}, dx {Shape.Format(dx.Shape)} do not fit");
        int rows = (int)(dy.ElementCount / outputs);
        if (!dx.Device.IsCpu)
        {
            using Tensor gradient = dy.Reshape(rows, outputs), result = dx.Reshape(rows, inputs);
            MatMul.Multiply(gradient, weight, result, transposeB: false, alpha: 1, beta: beta);
            return;
        }
        Backward(dy.Pointer<float>(), outputs, rows, weight, dx.Pointer<float>(), inputs, beta);
    }

    /// <summary>dx [rows, in] (stride lddx) = dy [rows, out] (stride lddy) · W, overwriting dx (beta 0) or adding to it (beta 1).</summary>
    public static void Backward(float* dy, long lddy, int rows, Tensor weight, float* dx, long lddx, float beta = 0)
    {
        int inputs = weight.Size(1), outputs = weight.Size(0);
        Sgemm.Multiply(rows, inputs, outputs, 1, new GemmOperand(dy, lddy, false), new GemmOperand(weight.Pointer<float>(), inputs, false), beta, dx, lddx);
    }
}
