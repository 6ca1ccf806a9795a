using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class AddCheck : IOpCheck
{
    // One float32 addition per element on both sides: the results are the same bits.
    private static readonly Tolerance Exact = new(0, 0);

    public Type Op => typeof(Add);

    // 197x768: a ViT block's tokens; 1540x512: 77 tokens × 20 classes of the text encoder.
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x33", "197x768", "1540x512"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        (int rows, int width) = CaseSize.Two(testCase);
        var random = new RandomTensors(seed);
        float[] x = random.Uniform(rows * width, -2, 2), bias = random.Uniform(width), y = random.Uniform(rows * width, -2, 2);
        float[] withBias = (float[])x.Clone(), withResidual = (float[])x.Clone();
        Add.BiasReference(withBias, bias);
        Add.ResidualReference(withResidual, y);

        var outputs = new CheckOutputs("add", testCase);
        using Tensor tx = RandomTensors.On(device, x, rows, width), tb = RandomTensors.On(device, bias, width);
        outputs.Time(() => Add.Bias(tx, tb));
        outputs.Compare("x + bias", tx, withBias, Exact);

        using Tensor tr = RandomTensors.On(device, x, rows, width), ty = RandomTensors.On(device, y, rows, width);
        outputs.Time(() => Add.Residual(tr, ty));
        outputs.Compare("x + y", tr, withResidual, Exact);
        return outputs.Results;
    }
}
