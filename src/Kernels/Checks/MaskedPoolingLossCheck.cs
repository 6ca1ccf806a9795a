using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class MaskedPoolingLossCheck : IOpCheck
{
    // The logits are 100·⟨p_i, t_c⟩ with p_i a float32 mean of N ≤ 1024 rows: relative rounding of a few
    // 1e-7 on logits of magnitude ≤ 100·|p_i| (a few units), so ~1e-5 on the loss and the probabilities.
    private static readonly Tolerance Loss = new(2e-5, 1e-5);
    private static readonly Tolerance Probabilities = new(2e-6, 1e-4);

    // dmask = (1/N)·F·(100·dz·T)ᵀ: two float32 GEMMs over C and E, ~1e-6 relative. The entries are at most
    // about logitScale·gradLoss/(N·|S|) and cancel partly, so the absolute floor is 1e-5 of that size, not of 1.
    private static Tolerance Backward(int patches, int count) =>
        new(1e-5 * MaskedPoolingLoss.DefaultLogitScale * GradLoss / (patches * count), 1e-4);

    private const float GradLoss = 0.5f;

    public Type Op => typeof(MaskedPoolingLoss);

    private const string BatchPrefix = "batch ";

    /// <summary>
    /// N x C x E x |S|; 441x20x512x3 is a VOC image (spec §13), 1024x150x512x22 an ADE one (mean |S| 22, §8). "batch"
    /// B x N x C x E: a training step's batch through <see cref="MaskedPoolingLoss.ForwardBackward"/>, image b with b mod 4
    /// hypothesis classes (so one or more with none); 8x441x20x512 is a VOC step at 336 px.
    /// </summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1x1x1", "9x5x7x3", "441x20x512x3", "1024x150x512x22", BatchPrefix + "3x9x5x7", BatchPrefix + "8x441x20x512"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        if (testCase.StartsWith(BatchPrefix, StringComparison.Ordinal))
            return RunBatch(testCase, CaseSize.Parse(testCase[BatchPrefix.Length..]), device, seed);
        int[] size = CaseSize.Parse(testCase);
        (int patches, int classCount, int width, int count) = (size[0], size[1], size[2], size[3]);
        var random = new RandomTensors(seed);
        float[] features = UnitRows(random.Uniform(patches * width), width), text = UnitRows(random.Uniform(classCount * width), width);
        float[] mask = random.Uniform(patches * classCount, 0, 1);
        int[] classes = Hypothesis(new System.Random(seed), classCount, count);
        float[] probabilities = new float[count * classCount], dMask = new float[patches * classCount];
        float loss = MaskedPoolingLoss.Reference(features, mask, classes, text, classCount, probabilities);
        MaskedPoolingLoss.BackwardReference(features, text, classes, probabilities, dMask, classCount, GradLoss);

        var outputs = new CheckOutputs("masked_pooling_loss", testCase);
        using Tensor tf = RandomTensors.On(device, features, patches, width), tm = RandomTensors.On(device, mask, patches, classCount);
        using Tensor tt = RandomTensors.On(device, text, classCount, width), tp = Tensor.Empty([count, classCount], DType.F32, device);
        float got = 0;
        outputs.Time(() => got = MaskedPoolingLoss.Forward(tf, tm, classes, tt, tp));
        using (Tensor scalar = Tensor.FromSpan<float>([got], [1]))
            outputs.Compare("loss", scalar, [loss], Loss);
        outputs.Compare("probabilities", tp, probabilities, Probabilities);

        using Tensor td = Tensor.Empty([patches, classCount], DType.F32, device);
        outputs.Time(() => MaskedPoolingLoss.Backward(tf, tt, classes, tp, td, GradLoss));
        outputs.Compare("dmask", td, dMask, Backward(patches, count));
        return outputs.Results;
    }

    private static IReadOnlyList<OpCheckResult> RunBatch(string testCase, int[] size, Device device, int seed)
    {
        (int batch, int patches, int classCount, int width) = (size[0], size[1], size[2], size[3]);
        var random = new RandomTensors(seed);
        var picks = new System.Random(seed);
        float[] features = UnitRows(random.Uniform(batch * patches * width), width), text = UnitRows(random.Uniform(classCount * width), width);
        float[] mask = random.Uniform(batch * patches * classCount, 0, 1), dMask = new float[mask.Length];
        int[][] hypotheses = [.. Enumerable.Range(0, batch).Select(b => Hypothesis(picks, classCount, Math.Min(b % 4, classCount)))];
        double loss = 0;
        int largest = 1;
        for (int b = 0; b < batch; b++)
        {
            int[] classes = hypotheses[b];
            largest = Math.Max(largest, classes.Length);
            float[] probabilities = new float[classes.Length * classCount];
            ReadOnlySpan<float> f = features.AsSpan(b * patches * width, patches * width), m = mask.AsSpan(b * patches * classCount, patches * classCount);
            loss += MaskedPoolingLoss.Reference(f, m, classes, text, classCount, probabilities);
            MaskedPoolingLoss.BackwardReference(f, text, classes, probabilities, dMask.AsSpan(b * patches * classCount, patches * classCount), classCount, GradLoss);
        }

        var outputs = new CheckOutputs("masked_pooling_loss", testCase);
        using Tensor tf = RandomTensors.On(device, features, batch, patches, width), tm = RandomTensors.On(device, mask, batch, patches, classCount);
        using Tensor tt = RandomTensors.On(device, text, classCount, width), td = Tensor.Empty([batch, patches, classCount], DType.F32, device);
        using Tensor total = MaskedPoolingLoss.NewTotal(device);
        outputs.Time(() => MaskedPoolingLoss.ForwardBackward(tf, tm, hypotheses, tt, total, td, GradLoss));
        using (Tensor sum = Tensor.FromSpan<float>([(float)MaskedPoolingLoss.ReadTotal(total)], [1]))
            outputs.Compare("batch loss", sum, [(float)loss], Loss with { Absolute = batch * Loss.Absolute });
        outputs.Compare("batch dmask", td, dMask, Backward(patches, largest));
        return outputs.Results;
    }

    /// <summary>CLIP's features are L2-normalised rows (spec §4.4, §2.1).</summary>
    private static float[] UnitRows(float[] values, int width)
    {
        for (int start = 0; start < values.Length; start += width)
        {
            Span<float> row = values.AsSpan(start, width);
            float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
            System.Numerics.Tensors.TensorPrimitives.Divide(row, norm, row);
        }
        return values;
    }

    /// <summary><paramref name="count"/> distinct class ids in random order.</summary>
    private static int[] Hypothesis(System.Random random, int classCount, int count)
    {
        int[] ids = Enumerable.Range(0, classCount).ToArray();
        random.Shuffle(ids);
        return ids[..count];
    }
}
