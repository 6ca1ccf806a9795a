using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class ArgmaxCheck : IOpCheck
{
    // Indices must be identical (compared as floats, exact below 2^24).
    private static readonly Tolerance Exact = new(0, 0);

    public Type Op => typeof(Argmax);

    // [pixels, classes]: 4096x21 VOC-like, 333x150 ADE-like (150 = 18 vectors + a tail of 6); 7x33 odd.
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x33", "4096x21", "333x150"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        (int rows, int width) = CaseSize.Two(testCase);
        var random = new RandomTensors(seed);
        float[] x = random.Uniform(rows * width, -2, 2);
        // Quantise every other row to quarters so that rows hold ties, which must go to the first maximum.
        for (int r = 0; r < rows; r += 2)
            for (int i = r * width; i < (r + 1) * width; i++)
                x[i] = MathF.Round(x[i] * 4) / 4;
        int[] indices = new int[rows];
        Argmax.Reference(x, indices);

        var outputs = new CheckOutputs("argmax", testCase);
        using Tensor tx = RandomTensors.On(device, x, rows, width), ti = Tensor.Empty([rows], DType.I32, device);
        outputs.Time(() => Argmax.Forward(tx, ti));
        outputs.Compare("indices", ti, Array.ConvertAll(indices, index => (float)index), Exact);
        return outputs.Results;
    }
}
