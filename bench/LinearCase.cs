using ReClip.Kernels.Gemm;
using ReClip.Runtime.Tensors;

namespace ReClip.Bench;

/// <summary>
/// A linear layer with a frozen weight, as CLIP runs it: y = x·Wᵀ + b with W [out, in]. Ours packs W once
/// (<see cref="PackedMatrix"/>); PyTorch's peer is F.linear on the same shapes.
/// </summary>
public sealed unsafe class LinearCase : ICompareCase
{
    private readonly Tensor x, weight, bias, y;
    private readonly PackedMatrix packed;
    private readonly int rows, inputs;

    public LinearCase(int rows, int outputs, int inputs)
    {
        (this.rows, this.inputs) = (rows, inputs);
        var random = new Random(0);
        x = SgemmCase.Filled([rows, inputs], random);
        weight = SgemmCase.Filled([outputs, inputs], random);
        bias = SgemmCase.Filled([outputs], random);
        y = Tensor.Zeros([rows, outputs]);
        packed = PackedMatrix.Pack(new GemmOperand(weight.Pointer<float>(), inputs, true), inputs, outputs);
    }

    public int WarmupCalls => 30;

    public void Run() =>
        Sgemm.Multiply(rows, 1, new GemmOperand(x.Pointer<float>(), inputs, false), packed, 0, y.Pointer<float>(), packed.Columns, bias.Pointer<float>());

    public void Dispose()
    {
        packed.Dispose();
        x.Dispose();
        weight.Dispose();
        bias.Dispose();
        y.Dispose();
    }
}
