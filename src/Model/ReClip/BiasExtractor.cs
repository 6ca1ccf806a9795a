using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.ReClip;

/// <summary>
/// The positional half of the bias extractor (spec §5): pe_proj, a 1×1 convolution Dv → E with bias on the
/// positional-embedding grid [h·w, Dv] (one map for the whole batch), P = grid·Wᵀ + b [N, E]. A 1×1 conv over a
/// channels-last grid is exactly this linear layer. The bias logits P·Rᵀ and their subtraction from Q are the
/// <see cref="Rectify"/> op. Init as PyTorch's default for Conv2d: weight and bias U(±1/√Dv), drawn by
/// <see cref="ParameterInit"/> from a seed.
/// </summary>
public sealed class BiasExtractor : IDisposable
{
    public BiasExtractor(int visionWidth, int embedDim, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(visionWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedDim);
        Weight = Tensor.Empty([embedDim, visionWidth, 1, 1]);
        Bias = Tensor.Empty([embedDim]);
        // kaiming_uniform(a = √5) gives the bound 1/√fan_in, the same as the bias's; fan_in = Dv·1·1.
        float bound = (float)(1 / Math.Sqrt(visionWidth));
        ParameterInit.Uniform(seed, ParameterInit.PeProjWeightStream, bound, Weight.AsSpan<float>());
        ParameterInit.Uniform(seed, ParameterInit.PeProjBiasStream, bound, Bias.AsSpan<float>());
    }

    private BiasExtractor(Tensor weight, Tensor bias)
    {
        Weight = weight;
        Bias = bias;
    }

    /// <summary>pe_proj.weight [E, Dv, 1, 1], PyTorch's layout.</summary>
    public Tensor Weight { get; }

    /// <summary>pe_proj.bias [E].</summary>
    public Tensor Bias { get; }

    public int VisionWidth => Weight.Size(1);

    public int EmbedDim => Weight.Size(0);

    /// <summary>Trainable values: E·Dv + E.</summary>
    public static long ParameterCount(int visionWidth, int embedDim) => (long)embedDim * visionWidth + embedDim;

    /// <summary>P [N, E] from the positional grid [N, Dv].</summary>
    public Tensor Forward(Tensor grid)
    {
        ArgumentNullException.ThrowIfNull(grid);
        if (grid.Rank != 2 || grid.Size(1) != VisionWidth)
            throw new TensorShapeException($"BiasExtractor: positional grid {Shape.Format(grid.Shape)} is not [N, {VisionWidth}]");
        Tensor p = Tensor.Empty([grid.Size(0), EmbedDim], DType.F32, Weight.Device);
        try
        {
            using Tensor weight = Weight.Reshape(EmbedDim, VisionWidth);
            MatMul.Linear(grid, weight, Bias, p);
            return p;
        }
        catch
        {
            p.Dispose();
            throw;
        }
    }

    /// <summary>The bias logits P·Rᵀ [N, C] of spec §5 from P [N, E] and R [C, E] (training and inference fuse this into <see cref="Rectify"/>).</summary>
    public static Tensor BiasLogits(Tensor p, Tensor reference)
    {
        ArgumentNullException.ThrowIfNull(p);
        ArgumentNullException.ThrowIfNull(reference);
        Tensor bias = Tensor.Empty([p.Size(0), reference.Size(0)], DType.F32, p.Device);
        try
        {
            MatMul.Multiply(p, reference, bias, transposeB: true);
            return bias;
        }
        catch
        {
            bias.Dispose();
            throw;
        }
    }

    /// <summary>dW [E, Dv, 1, 1] = dPᵀ·grid and db [E] = Σ_n dP[n] from dP [N, E] (the grid is constant: no input gradient).</summary>
    public void Backward(Tensor grid, Tensor dP, Tensor dWeight, Tensor dBias)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(dP);
        Shape.Require("BiasExtractor.Backward dP", [grid.Size(0), EmbedDim], dP.Shape);
        Shape.Require("BiasExtractor.Backward dWeight", Weight.Shape, dWeight.Shape);
        Shape.Require("BiasExtractor.Backward dBias", Bias.Shape, dBias.Shape);
        using (Tensor dW = dWeight.Reshape(EmbedDim, VisionWidth))
            MatMul.MultiplyTransposedA(dP, grid, dW);
        ColumnSum.Forward(dP, dBias);
    }

    /// <summary>A copy of this extractor's tensors on <paramref name="device"/>.</summary>
    public BiasExtractor ToDevice(Device device)
    {
        Tensor weight = Weight.ToDevice(device);
        try
        {
            return new BiasExtractor(weight, Bias.ToDevice(device));
        }
        catch
        {
            weight.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Weight.Dispose();
        Bias.Dispose();
    }
}
