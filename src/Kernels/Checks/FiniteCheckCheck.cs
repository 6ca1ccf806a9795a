using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Checks;

public sealed class FiniteCheckCheck : IOpCheck
{
    // The answers are booleans, compared exactly (as 0 or 1; see EotGatherCheck for why the floor is not 0).
    private static readonly Tolerance Exact = new(1e-30, 0);

    public Type Op => typeof(FiniteCheck);

    /// <summary>
    /// T x N: T tensors of N values, tensor t with a NaN (t mod 3 = 1), an infinity (t mod 3 = 2) or neither, at a
    /// position that moves with t (the last one included); 7 x 697164 is the head's gradients at VOC's size.
    /// </summary>
    public IReadOnlyList<string> Cases { get; } = ["1x1", "5x33", "7x697164"];

    public IReadOnlyList<OpCheckResult> Run(string testCase, Device device, int seed)
    {
        int[] size = CaseSize.Parse(testCase);
        (int count, int length) = (size[0], size[1]);
        var random = new RandomTensors(seed);
        var tensors = new List<Tensor>(count);
        float[] expected = new float[count];
        try
        {
            for (int t = 0; t < count; t++)
            {
                float[] values = random.Uniform(length);
                if (t % 3 != 0)
                    values[(t * 7919) % length] = t % 3 == 1 ? float.NaN : float.NegativeInfinity;
                expected[t] = FiniteCheck.Reference(values) ? 0 : 1;
                tensors.Add(RandomTensors.On(device, values, length));
            }
            var outputs = new CheckOutputs("finite_check", testCase);
            bool[] flags = [];
            outputs.Time(() => flags = FiniteCheck.NonFinite(tensors));
            using (Tensor got = Tensor.FromSpan<float>([.. flags.Select(flag => flag ? 1f : 0f)], [count]))
                outputs.Compare("not finite", got, expected, Exact);
            return outputs.Results;
        }
        finally
        {
            foreach (Tensor tensor in tensors) tensor.Dispose();
        }
    }
}
