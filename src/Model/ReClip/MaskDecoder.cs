using ReClip.Kernels.Ops;
using ReClip.Runtime.Collectives;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.ReClip;

/// <summary>
/// The rectified-mask decoder of spec §6 steps 2–4: input [F ; Rect] (E feature channels first, then the C
/// rectified logits) as [B, E + C, h, w]; decoder_conv2, a 5×5 conv (pad 2, bias) to C channels; decoder_norm2,
/// BatchNorm2d(C) (γ = 1, β = 0, batch statistics in training, running ones in eval); no activation → O [B, C, h, w].
/// Init: conv weight kaiming-normal, mode fan_out, ReLU gain: σ = √(2/(25C)); conv bias PyTorch's default
/// U(±1/√(25(E + C))); both drawn by <see cref="ParameterInit"/> from a seed.
/// F and Rect come channels last ([B, N, E], [B, N, C], patches row-major); the decoder transposes them.
/// </summary>
public sealed class MaskDecoder : IDisposable
{
    public const int Kernel = 5;

    public MaskDecoder(int embedDim, int classes, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        ConvWeight = Tensor.Empty([classes, embedDim + classes, Kernel, Kernel]);
        ConvBias = Tensor.Empty([classes]);
        Gamma = Tensor.Empty([classes]);
        Beta = Tensor.Zeros([classes]);
        RunningMean = Tensor.Zeros([classes]);
        RunningVar = Tensor.Empty([classes]);
        Gamma.AsSpan<float>().Fill(1);
        RunningVar.AsSpan<float>().Fill(1);
        ParameterInit.Normal(seed, ParameterInit.DecoderWeightStream, (float)Math.Sqrt(2.0 / (Kernel * Kernel * classes)), ConvWeight.AsSpan<float>());
        ParameterInit.Uniform(seed, ParameterInit.DecoderBiasStream, (float)(1 / Math.Sqrt(Kernel * Kernel * (embedDim + classes))), ConvBias.AsSpan<float>());
    }

    private MaskDecoder(Tensor convWeight, Tensor convBias, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar)
    {
        ConvWeight = convWeight;
        ConvBias = convBias;
        Gamma = gamma;
        Beta = beta;
        RunningMean = runningMean;
        RunningVar = runningVar;
    }

    /// <summary>decoder_conv2.weight [C, E + C, 5, 5].</summary>
    public Tensor ConvWeight { get; }

    /// <summary>decoder_conv2.bias [C].</summary>
    public Tensor ConvBias { get; }

    /// <summary>decoder_norm2.weight (γ) [C].</summary>
    public Tensor Gamma { get; }

    /// <summary>decoder_norm2.bias (β) [C].</summary>
    public Tensor Beta { get; }

    /// <summary>Running statistics [C] (buffers, not trained).</summary>
    public Tensor RunningMean { get; }

    public Tensor RunningVar { get; }

    public int Classes => ConvWeight.Size(0);

    public int EmbedDim => ConvWeight.Size(1) - Classes;

    /// <summary>Trainable values: C·(E + C)·25 + C (conv) + 2C (BN).</summary>
    public static long ParameterCount(int embedDim, int classes) => (long)classes * (embedDim + classes) * Kernel * Kernel + 3L * classes;

    /// <summary>
    /// O [B, C, h, w] from F [B, N, E] and Rect [B, N, C] (N = h·w); <paramref name="training"/> picks BatchNorm's mode.
    /// <paramref name="group"/>: this batch is one rank's part of a data-parallel batch, whose statistics BatchNorm uses.
    /// </summary>
    public DecoderActivations Forward(Tensor features, Tensor rectified, int rows, int columns, bool training, ICollective? group = null)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(rectified);
        if (features.Rank != 3 || features.Size(2) != EmbedDim || features.Size(1) != rows * columns)
            throw new TensorShapeException($"MaskDecoder: features {Shape.Format(features.Shape)} are not [B, {rows}·{columns}, {EmbedDim}]");
        Shape.Require("MaskDecoder rectified logits", [features.Size(0), rows * columns, Classes], rectified.Shape);
        int batch = features.Size(0), classes = Classes, embed = EmbedDim, patches = rows * columns;
        Device device = ConvWeight.Device;
        // References of their own go to the activations, so these go whatever happens.
        using Tensor input = Tensor.Empty([batch, embed + classes, rows, columns], DType.F32, device);
        using Tensor convolved = Tensor.Empty([batch, classes, rows, columns], DType.F32, device), output = Tensor.Empty(convolved.Shape, DType.F32, device);
        using Tensor mean = Tensor.Empty([classes], DType.F32, device), rstd = Tensor.Empty([classes], DType.F32, device);
        var a = new DecoderActivations(input.Contiguous(), convolved.Contiguous(), output.Contiguous(), mean.Contiguous(), rstd.Contiguous());
        try
        {
            // Channels first: F into channels 0..E−1 of each image's input, Rect into E..E+C−1.
            using (Tensor channels = a.Input.Reshape(batch, embed + classes, patches))
            using (Tensor featureChannels = channels.Slice(1, 0, embed))
            using (Tensor logitChannels = channels.Slice(1, embed, classes))
            {
                PlaneTranspose.Forward(features, featureChannels);
                PlaneTranspose.Forward(rectified, logitChannels);
            }
            Conv2d.Forward(a.Input, ConvWeight, ConvBias, a.Convolved);
            if (training)
                BatchNorm2d.ForwardTraining(a.Convolved, Gamma, Beta, RunningMean, RunningVar, a.Output, a.Mean, a.Rstd, group: group);
            else
                BatchNorm2d.ForwardEval(a.Convolved, Gamma, Beta, RunningMean, RunningVar, a.Output);
            return a;
        }
        catch
        {
            a.Dispose();
            throw;
        }
    }

    /// <summary>
    /// From dO [B, C, h, w] (training-mode forward): the parameter gradients (overwritten) and dRect [B, N, C],
    /// channels last; F is constant, so its part of the input gradient is dropped. <paramref name="group"/>: as for
    /// <see cref="Forward"/>; the parameter gradients are then this rank's part, to be summed over the ranks.
    /// </summary>
    public Tensor Backward(DecoderActivations a, Tensor dOutput, Tensor dConvWeight, Tensor dConvBias, Tensor dGamma, Tensor dBeta, ICollective? group = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(dOutput);
        Shape.Require("MaskDecoder.Backward dO", a.Output.Shape, dOutput.Shape);
        int batch = a.Input.Size(0), classes = Classes, embed = EmbedDim, patches = a.Input.Size(2) * a.Input.Size(3);
        Device device = ConvWeight.Device;
        using Tensor dConvolved = Tensor.Empty(a.Convolved.Shape, DType.F32, device);
        BatchNorm2d.Backward(dOutput, a.Convolved, Gamma, a.Mean, a.Rstd, dConvolved, dGamma, dBeta, group);
        using Tensor dInput = Tensor.Empty(a.Input.Shape, DType.F32, device);
        Conv2d.Backward(dConvolved, a.Input, ConvWeight, dInput, dConvWeight, dConvBias);
        Tensor dRect = Tensor.Empty([batch, patches, classes], DType.F32, device);
        try
        {
            // The last C channels of the input gradient, channels last again.
            using Tensor channels = dInput.Reshape(batch, embed + classes, patches);
            using Tensor logitChannels = channels.Slice(1, embed, classes);
            PlaneTranspose.Forward(logitChannels, dRect);
            return dRect;
        }
        catch
        {
            dRect.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A training step of a rank that holds no image of the data-parallel batch (its last, short batch): BatchNorm's
    /// exchanges of the forward and the backward with nothing to add, so that this rank's running statistics follow
    /// the batch's like every other rank's. dGamma and dBeta [C] receive this rank's part, 0.
    /// </summary>
    public void SynchronizeWithoutImages(int rows, int columns, ICollective group, Tensor dGamma, Tensor dBeta)
    {
        ArgumentNullException.ThrowIfNull(group);
        using Tensor none = Tensor.Empty([0, Classes, rows, columns]);
        using Tensor mean = Tensor.Empty([Classes]), rstd = Tensor.Empty([Classes]);
        BatchNorm2d.ForwardTraining(none, Gamma, Beta, RunningMean, RunningVar, none, mean, rstd, group: group);
        BatchNorm2d.Backward(none, none, Gamma, mean, rstd, none, dGamma, dBeta, group);
    }

    /// <summary>A copy of the decoder's tensors (its running statistics too) on <paramref name="device"/>.</summary>
    public MaskDecoder ToDevice(Device device)
    {
        var copies = new List<Tensor>(6);
        try
        {
            foreach (Tensor tensor in (ReadOnlySpan<Tensor>)[ConvWeight, ConvBias, Gamma, Beta, RunningMean, RunningVar])
                copies.Add(tensor.ToDevice(device));
            return new MaskDecoder(copies[0], copies[1], copies[2], copies[3], copies[4], copies[5]);
        }
        catch
        {
            foreach (Tensor copy in copies) copy.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        ConvWeight.Dispose();
        ConvBias.Dispose();
        Gamma.Dispose();
        Beta.Dispose();
        RunningMean.Dispose();
        RunningVar.Dispose();
    }
}

/// <summary>A decoder forward kept for its backward: the conv input [B, E + C, h, w], its output, the BN output O and BN's batch μ, σ⁻¹ [C].</summary>
public sealed class DecoderActivations(Tensor input, Tensor convolved, Tensor output, Tensor mean, Tensor rstd) : IDisposable
{
    public Tensor Input { get; } = input;

    public Tensor Convolved { get; } = convolved;

    /// <summary>O [B, C, h, w].</summary>
    public Tensor Output { get; } = output;

    public Tensor Mean { get; } = mean;

    public Tensor Rstd { get; } = rstd;

    public void Dispose()
    {
        Input.Dispose();
        Convolved.Dispose();
        Output.Dispose();
        Mean.Dispose();
        Rstd.Dispose();
    }
}
