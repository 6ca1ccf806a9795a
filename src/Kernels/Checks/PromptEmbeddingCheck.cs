using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class PromptEmbeddingCheck : IOpCheck
{
    // Each output is one float32 addition on both sides: bit-identical. (The floor is not 0 only because
    // Agreement divides the error by the allowance; any real difference of O(1) values is ≥ 1e-8.)
    private static readonly Tolerance Forward = new(1e-30, 0);

    // dctx sums C ≤ 150 values in [−1, 1] in float32 against a double reference: a random-walk error of
    // about √C·ε·√C·|dx| ≈ C·6e-8 ≈ 1e-5 at C = 150.
    private static readonly Tolerance Backward = new(2e-5, 1e-6);

    private const int Vocabulary = 997;

    public Type Op => typeof(PromptEmbedding);

    /// <summary>C x M x S x W; 20x73x3x512 is VOC with ViT-B/16 (spec §2.2), 150x73x3x512 ADE.</summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1x1x1", "5x7x3x9", "20x73x3x512", "150x73x3x512"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] size = CaseSize.Parse(testCase);
        (int classes, int contextCount, int slotCount, int width) = (size[0], size[1], size[2], size[3]);
        int length = 1 + contextCount + slotCount, startToken = Vocabulary - 2;
        var random = new RandomTensors(seed);
        var ids = new System.Random(seed);
        float[] embedding = random.Uniform(Vocabulary * width), context = random.Uniform(contextCount * width), positional = random.Uniform(length * width);
        int[] slotIds = Enumerable.Range(0, classes * slotCount).Select(_ => ids.Next(Vocabulary)).ToArray();
        float[] x = new float[classes * length * width], dx = random.Uniform(classes * length * width), dContext = new float[contextCount * width];
        PromptEmbedding.Reference(embedding, context, slotIds, slotCount, positional, x, startToken, width);
        PromptEmbedding.BackwardReference(dx, dContext, classes, length, width);

        var outputs = new CheckOutputs("prompt_embedding", testCase);
        using Tensor te = RandomTensors.On(device, embedding, Vocabulary, width), tc = RandomTensors.On(device, context, contextCount, width);
        using Tensor tpos = RandomTensors.On(device, positional, length, width), tx = Tensor.Empty([classes, length, width], DType.F32, device);
        outputs.Time(() => PromptEmbedding.Forward(te, tc, slotIds, slotCount, tpos, tx, startToken));
        outputs.Compare("x", tx, x, Forward);

        using Tensor tdx = RandomTensors.On(device, dx, classes, length, width), tdc = Tensor.Empty([contextCount, width], DType.F32, device);
        outputs.Time(() => PromptEmbedding.Backward(tdx, tdc));
        outputs.Compare("dcontext", tdc, dContext, Backward);
        return outputs.Results;
    }
}
