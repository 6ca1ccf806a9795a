using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class SgdCheck : IOpCheck
{
    // Element-wise, no sums: the fast path rounds four times per element (d, μ·buf, + d, θ) where the
    // double reference rounds twice; θ, buf are O(1), so the results agree to a few ulps of 1.
    private static readonly Tolerance Update = new(1e-6, 1e-6);

    private static readonly float[] LearningRates = [0.01f, 0.0075f, 0.005f];

    public Type Op => typeof(Sgd);

    /// <summary>Elements; 697164 is the whole VOC parameter count (spec §9), larger than one parallel chunk.</summary>
    public IReadOnlyList<string> Cases { get; } = ["1", "37", "16411", "697164"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int count = CaseSize.Parse(testCase)[0];
        var random = new RandomTensors(seed);
        float[] parameter = random.Uniform(count), buffer = new float[count];
        var outputs = new CheckOutputs("sgd", testCase);
        using Tensor tp = RandomTensors.On(device, parameter, count);
        using var state = new SgdState();
        // Three steps with different gradients and lrs, as the PyTorch dump: the first sets buf = d, the others accumulate.
        for (int step = 0; step < LearningRates.Length; step++)
        {
            float[] gradient = random.Uniform(count);
            Sgd.Reference(parameter, gradient, buffer, step == 0, LearningRates[step]);
            using Tensor tg = RandomTensors.On(device, gradient, count);
            outputs.Time(() => Sgd.Step(tp, tg, state, LearningRates[step]));
            outputs.Compare($"parameter after step {step + 1}", tp, parameter, Update);
            outputs.Compare($"momentum after step {step + 1}", state.Buffer!, buffer, Update);
        }
        return outputs.Results;
    }
}
