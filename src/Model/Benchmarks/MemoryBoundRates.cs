using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Benchmarks;

/// <summary>One memory-bound kernel's rate: the bytes a call must read and write, over its GPU time per call.</summary>
public sealed record MemoryBoundRate(string Kernel, string Shape, double BytesPerCall, double MillisecondsPerCall)
{
    public double GigabytesPerSecond => BytesPerCall / (MillisecondsPerCall * 1e6);
}

/// <summary>
/// The memory-bound kernels of the image tower (LayerNorm, QuickGELU, the residual add, a softmax over attention-score
/// rows, the float32-to-bfloat16 conversion) and the head's plane transpose, at the tower's sizes for a batch: B·T rows
/// of D, or of 4D for the MLP's hidden activations. A call's bytes count every element read and written once, as the
/// kernels move them (γ, β and row statistics left out: under 0.1 %); its time is the GPU time of <see cref="Calls"/>
/// calls under a <see cref="KernelProfile"/> after a warm-up. Against the card's bandwidth (<see cref="GpuPeak"/>) this
/// says how close to memory speed each runs. The values are zeros: none of these kernels' speed depends on them.
/// </summary>
internal static class MemoryBoundRates
{
    private const int Calls = 10;

    public static IReadOnlyList<MemoryBoundRate> Measure(Device device, ClipConfig config, int size, int batch)
    {
        (int gridRows, int gridColumns) = PatchEmbedding.Grid(size, size, config.PatchSize);
        int tokens = 1 + gridRows * gridColumns, rows = batch * tokens, width = config.VisionWidth, hidden = 4 * width;
        int scoreRows = batch * config.VisionHeads * tokens;
        string activations = $"{rows}×{width}", hiddenActivations = $"{rows}×{hidden}";
        using Tensor x = Tensor.Zeros([rows, width], DType.F32, device), y = Tensor.Zeros([rows, width], DType.F32, device);
        using Tensor rounded = Tensor.Zeros([rows, width], DType.BF16, device);
        using Tensor gamma = Tensor.Zeros([width], DType.F32, device), beta = Tensor.Zeros([width], DType.F32, device);
        using Tensor h = Tensor.Zeros([rows, hidden], DType.F32, device), gelu = Tensor.Zeros([rows, hidden], DType.F32, device);
        using Tensor roundedHidden = Tensor.Zeros([rows, hidden], DType.BF16, device);
        using Tensor scores = Tensor.Zeros([scoreRows, tokens], DType.F32, device);
        using Tensor sequences = x.Reshape(batch, tokens, width), transposed = y.Reshape(batch, width, tokens);
        return
        [
            Rate(device, "LayerNorm, float32 to float32", activations, 8.0 * rows * width, () => LayerNorm.Forward(x, gamma, beta, y, ResidualBlock.DefaultEps)),
            Rate(device, "LayerNorm, float32 to bfloat16", activations, 6.0 * rows * width, () => LayerNorm.Forward(x, gamma, beta, rounded, ResidualBlock.DefaultEps)),
            Rate(device, "QuickGELU, bfloat16 in place", hiddenActivations, 4.0 * rows * hidden, () => QuickGelu.ForwardInPlace(roundedHidden)),
            Rate(device, "QuickGELU, float32", hiddenActivations, 8.0 * rows * hidden, () => QuickGelu.Forward(h, gelu)),
            Rate(device, "residual add, float32", activations, 12.0 * rows * width, () => Add.Residual(x, y)),
            Rate(device, "softmax, float32", $"{scoreRows}×{tokens}", 8.0 * scoreRows * tokens, () => Softmax.Forward(scores, scores)),
            Rate(device, "float32 to bfloat16", activations, 6.0 * rows * width, () => BFloat16Convert.Forward(x, rounded)),
            Rate(device, "plane transpose", $"{batch}×{tokens}×{width}", 8.0 * rows * width, () => PlaneTranspose.Forward(sequences, transposed)),
        ];
    }

    private static MemoryBoundRate Rate(Device device, string kernel, string shape, double bytes, Action call)
    {
        call();
        CudaDriver.Synchronize(device.Index);
        using KernelProfile profile = KernelProfile.Start(device.Index);
        for (int i = 0; i < Calls; i++)
            call();
        double milliseconds = profile.Stop().Sum(t => t.Milliseconds);
        return new MemoryBoundRate(kernel, shape, bytes, milliseconds / Calls);
    }
}
