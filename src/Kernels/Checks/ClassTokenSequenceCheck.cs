using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class ClassTokenSequenceCheck : IOpCheck
{
    // One float addition per element on both sides: bit-identical (the floor only keeps Agreement's division finite).
    private static readonly Tolerance Exact = new(1e-30, 0);

    public Type Op => typeof(ClassTokenSequence);

    /// <summary>B x N x D; 1x196x768 is ViT-B/16 at 224 px, 8x441x768 a batch at 336 px.</summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1x1", "2x5x7", "1x196x768", "8x441x768"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] size = CaseSize.Parse(testCase);
        (int batch, int patches, int width) = (size[0], size[1], size[2]);
        var random = new RandomTensors(seed);
        float[] tokens = random.Uniform(batch * patches * width), grid = random.Uniform(patches * width), cls = random.Uniform(width), position = random.Uniform(width);
        float[] x = new float[batch * (1 + patches) * width];
        ClassTokenSequence.Reference(tokens, grid, cls, position, x, batch);

        var outputs = new CheckOutputs("class_token_sequence", testCase);
        using Tensor tt = RandomTensors.On(device, tokens, batch, patches, width), tg = RandomTensors.On(device, grid, patches, width);
        using Tensor tc = RandomTensors.On(device, cls, width), tp = RandomTensors.On(device, position, width);
        using Tensor tx = Tensor.Empty([batch, 1 + patches, width], DType.F32, device);
        outputs.Time(() => ClassTokenSequence.Forward(tt, tg, tc, tp, tx));
        outputs.Compare("x", tx, x, Exact);
        return outputs.Results;
    }
}
