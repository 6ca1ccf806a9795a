using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

/// <summary>
/// The prefix form of attention against <see cref="Attention.Forward"/> and <see cref="Attention.Backward"/> on the
/// concatenated keys [prefix; own] of every class (causal offset P), which the fixtures and finite differences of
/// AttentionTests check: equal results, so the gradients of the prefix form are checked through them.
/// </summary>
[TestFixture]
public sealed class AttentionAfterPrefixTests
{
    // float32 on both sides, only the order of the sums differs (prefix and own keys apart, or together).
    private const double ForwardTolerance = 2e-5;

    // dS cancels O(1) terms; the prefix's dk and dv sum over up to 20 classes.
    private const double BackwardTolerance = 1e-4;

    private const int Heads = 2, HeadDim = 16, Width = Heads * HeadDim;

    // classes, own positions, prefix length: one query block; blocks of 12 rows that cut across classes (1,000 keys).
    [TestCase(5, 4, 13, true)]
    [TestCase(20, 5, 1000, true)]
    [TestCase(3, 4, 9, false)]
    public void MatchesTheFullCausalRunOnConcatenatedKeys(int classes, int length, int prefix, bool stacked)
    {
        var random = new RandomTensors(21);
        using var own = new PackedQkv(random, classes, length, stacked);
        using var shared = new PackedQkv(random, 1, prefix, stacked: true);
        using Tensor dO = Tensor.FromSpan<float>(random.Uniform(classes * length * Width), [classes, length, Width]);
        using Tensor fullK = Concatenated(shared.K, own.K), fullV = Concatenated(shared.V, own.V);
        Tensor q = own.Q;
        using Tensor expectedO = Tensor.Empty([classes, length, Width]), expectedLogsumexp = Tensor.Empty([classes, Heads, length]);
        using Tensor expectedDq = Tensor.Empty(q.Shape), expectedDk = Tensor.Empty(fullK.Shape), expectedDv = Tensor.Empty(fullV.Shape);
        Attention.Forward(q, fullK, fullV, expectedO, Heads, causal: true, queryOffset: prefix, expectedLogsumexp);
        Attention.Backward(dO, q, fullK, fullV, expectedLogsumexp, expectedDq, expectedDk, expectedDv, Heads, causal: true, queryOffset: prefix);

        using Tensor o = Tensor.Empty([classes, length, Width]), logsumexp = Tensor.Empty([classes, Heads, length]);
        Attention.ForwardAfterPrefix(own.Q, own.K, own.V, shared.K, shared.V, o, Heads, logsumexp);
        using var gradient = new PackedQkv(random, classes, length, stacked);
        using var sharedGradient = new PackedQkv(random, 1, prefix, stacked: true);
        float[] keysBefore = sharedGradient.K.ToFloatArray(), valuesBefore = sharedGradient.V.ToFloatArray();
        Attention.BackwardAfterPrefix(dO, own.Q, own.K, own.V, shared.K, shared.V, logsumexp,
            gradient.Q, gradient.K, gradient.V, sharedGradient.K, sharedGradient.V, Heads);

        (float[] prefixDk, float[] ownDk) = Split(expectedDk, prefix);
        (float[] prefixDv, float[] ownDv) = Split(expectedDv, prefix);
        Assert.Multiple(() =>
        {
            Assert.That(o.ToFloatArray(), Is.EqualTo(expectedO.ToFloatArray()).Within(ForwardTolerance), "o");
            Assert.That(logsumexp.ToFloatArray(), Is.EqualTo(expectedLogsumexp.ToFloatArray()).Within(ForwardTolerance), "logsumexp");
            Assert.That(gradient.Q.ToFloatArray(), Is.EqualTo(expectedDq.ToFloatArray()).Within(BackwardTolerance), "dq");
            Assert.That(gradient.K.ToFloatArray(), Is.EqualTo(ownDk).Within(BackwardTolerance), "dk");
            Assert.That(gradient.V.ToFloatArray(), Is.EqualTo(ownDv).Within(BackwardTolerance), "dv");
            // The prefix's gradients are added to what the buffer held (the prefix block's own share comes later).
            Assert.That(sharedGradient.K.ToFloatArray(), Is.EqualTo(keysBefore.Zip(prefixDk, (a, b) => a + b).ToArray()).Within(BackwardTolerance), "prefix dk");
            Assert.That(sharedGradient.V.ToFloatArray(), Is.EqualTo(valuesBefore.Zip(prefixDv, (a, b) => a + b).ToArray()).Within(BackwardTolerance), "prefix dv");
        });
    }

    [Test]
    public void RejectsKeysThatDoNotMatchTheQueries()
    {
        using Tensor q = Tensor.Zeros([3, 4, Width]), k = Tensor.Zeros([3, 5, Width]), o = Tensor.Zeros([3, 4, Width]);
        using Tensor prefix = Tensor.Zeros([1, 6, Width]), twoPrefixes = Tensor.Zeros([2, 6, Width]);
        Assert.Multiple(() =>
        {
            Assert.That(() => Attention.ForwardAfterPrefix(q, k, k, prefix, prefix, o, Heads),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("its own keys"));
            Assert.That(() => Attention.ForwardAfterPrefix(q, q, q, twoPrefixes, twoPrefixes, o, Heads),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("prefix keys"));
        });
    }

    /// <summary>[C, P + S, D]: the prefix's rows, then each class's own, as Forward wants them.</summary>
    private static Tensor Concatenated(Tensor prefix, Tensor own) =>
        Tensor.FromSpan<float>(PrefixSequences.Concatenate(prefix.ToFloatArray(), own.ToFloatArray(), own.Size(0)),
            [own.Size(0), prefix.Size(1) + own.Size(1), Width]);

    /// <summary>A full [C, P + S, D] gradient as the prefix's rows summed over the classes and the own rows.</summary>
    private static (float[] Prefix, float[] Own) Split(Tensor full, int prefixLength) =>
        PrefixSequences.Split(full.ToFloatArray(), full.Size(0), prefixLength, Width);

    /// <summary>
    /// q, k, v as the column blocks of one [B, T, 3D] buffer filled with random values, as the text tower has them; when not
    /// stacked, the buffer has a spare token per batch, so consecutive batches' rows do not continue one another.
    /// </summary>
    private sealed class PackedQkv : IDisposable
    {
        private readonly Tensor buffer, rows;

        public PackedQkv(RandomTensors random, int batch, int tokens, bool stacked)
        {
            int stored = stacked ? tokens : tokens + 1;
            buffer = Tensor.FromSpan<float>(random.Uniform(batch * stored * 3 * Width, -2, 2), [batch, stored, 3 * Width]);
            rows = buffer.Slice(1, 0, tokens);
            Q = rows.Slice(2, 0, Width);
            K = rows.Slice(2, Width, Width);
            V = rows.Slice(2, 2 * Width, Width);
        }

        public Tensor Q { get; }

        public Tensor K { get; }

        public Tensor V { get; }

        public void Dispose()
        {
            foreach (Tensor t in new[] { Q, K, V, rows, buffer })
                t.Dispose();
        }
    }
}
