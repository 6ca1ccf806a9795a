using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class ConfusionMatrixCheck : IOpCheck
{
    // Counts must be identical (compared as floats, exact below 2^24 — no case has that many pixels).
    private static readonly Tolerance Exact = new(0, 0);

    public Type Op => typeof(ConfusionMatrix);

    // pixels x classes: 187500x21 is a 500×375 VOC image, 65536x150 an ADE-sized class count; 7x33 odd.
    public IReadOnlyList<string> Cases { get; } = ["1x1", "7x33", "187500x21", "65536x150"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        (int pixels, int classes) = CaseSize.Two(testCase);
        var random = new RandomTensors(seed);
        int[] prediction = random.Integers(pixels, 0, classes), groundTruth = random.Integers(pixels, 0, classes);
        // About one pixel in ten is ignored (object boundaries in VOC), with predictions left in place there.
        int[] ignored = random.Integers(pixels, 0, 10);
        for (int i = 0; i < pixels; i++)
            if (ignored[i] == 0) groundTruth[i] = ConfusionMatrix.IgnoreLabel;
        long[] want = new long[classes * classes], got = new long[classes * classes];
        // Accumulate twice, as over a split of two images: counts add up and are never reset.
        ConfusionMatrix.Reference(prediction, groundTruth, want, classes);
        ConfusionMatrix.Reference(prediction, groundTruth, want, classes);

        var outputs = new CheckOutputs("confusionmatrix", testCase);
        using Tensor tp = RandomTensors.On(device, prediction, pixels), tg = RandomTensors.On(device, groundTruth, pixels);
        outputs.Time(() =>
        {
            ConfusionMatrix.Accumulate(tp, tg, got, classes);
            ConfusionMatrix.Accumulate(tp, tg, got, classes);
        });
        using Tensor counts = Tensor.FromSpan<float>(Array.ConvertAll(got, count => (float)count), [classes, classes]);
        outputs.Compare("counts", counts, Array.ConvertAll(want, count => (float)count), Exact);
        return outputs.Results;
    }
}
