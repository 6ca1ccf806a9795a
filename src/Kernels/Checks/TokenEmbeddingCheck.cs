using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class TokenEmbeddingCheck : IOpCheck
{
    // One float addition per element on both sides: bit-identical (the floor only keeps Agreement's division finite).
    private static readonly Tolerance Exact = new(1e-30, 0);

    public Type Op => typeof(TokenEmbedding);

    /// <summary>B x T x W + first position, from a table of 1000 rows and 77 positions; 20x3x512+74 is VOC's class tokens after the prompt prefix.</summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1x1+0", "3x7x5+2", "4x77x512+0", "20x3x512+74"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        string[] parts = testCase.Split('+');
        int[] size = CaseSize.Parse(parts[0]);
        (int batch, int tokens, int width, int first) = (size[0], size[1], size[2], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        const int vocabulary = 1000, positions = 77;
        var random = new RandomTensors(seed);
        var draw = new System.Random(seed);
        float[] table = random.Uniform(vocabulary * width), positional = random.Uniform(positions * width), x = new float[batch * tokens * width];
        int[] ids = [.. Enumerable.Range(0, batch * tokens).Select(_ => draw.Next(vocabulary))];
        TokenEmbedding.Reference(table, ids, positional, first, x, tokens, width);

        var outputs = new CheckOutputs("token_embedding", testCase);
        using Tensor tt = RandomTensors.On(device, table, vocabulary, width), tp = RandomTensors.On(device, positional, positions, width);
        using Tensor tx = Tensor.Empty([batch, tokens, width], DType.F32, device);
        outputs.Time(() => TokenEmbedding.Forward(tt, ids, tp, first, tx));
        outputs.Compare("x", tx, x, Exact);
        return outputs.Results;
    }
}
