using ReClip.Kernels.Checks;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Kernels;

[TestFixture]
public sealed class AttentionTests
{
    // float32 on both sides, scores and sums over ≤ 64 features and ≤ 13 keys: a few ulps of O(1) values.
    private const double ForwardTolerance = 2e-5;

    // dS = P∘(dP − Σ P∘dP) cancels O(1) terms and dk, dv sum over up to four query batches.
    private const double BackwardTolerance = 1e-4;

    // Step 1e-2: truncation h²·L‴/6 ≈ 2e-5 for O(1) inputs and rounding ε·|L|/h ≈ 1e-5 (see FiniteDifference);
    // measured ≤ 3e-5 against gradients of 0.4–0.7.
    private const double FiniteDifferenceTolerance = 3e-4;

    private const float Step = 1e-2f;

    private static IEnumerable<TestCaseData> FixtureCases() =>
        OpFixture.CasesOf("attention").SelectMany(testCase => new[] { false, true }.Select(packed =>
            new TestCaseData(testCase, packed).SetArgDisplayNames(testCase, packed ? "packed" : "separate")));

    [TestCaseSource(nameof(FixtureCases))]
    public void MatchesPyTorch(string testCase, bool packed)
    {
        using var fixture = new OpFixture("attention");
        (int heads, bool causal, int offset) = Parameters(fixture.Describe(testCase));
        int[] queryShape = fixture.Shape(testCase, "q"), keyShape = fixture.Shape(testCase, "k");
        using var inputs = new Operands(queryShape, keyShape, packed, fixture.Values(testCase, "q"), fixture.Values(testCase, "k"), fixture.Values(testCase, "v"));
        using var gradients = new Operands(queryShape, keyShape, packed, null, null, null);
        using Tensor dO = fixture.Load(testCase, "do");
        using Tensor o = Tensor.Empty(queryShape), logsumexp = Tensor.Empty([queryShape[0], heads, queryShape[1]]);
        Attention.Forward(inputs.Q, inputs.K, inputs.V, o, heads, causal, offset, logsumexp);
        Attention.Backward(dO, inputs.Q, inputs.K, inputs.V, logsumexp, gradients.Q, gradients.K, gradients.V, heads, causal, offset);
        Assert.Multiple(() =>
        {
            Assert.That(o.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "o")).Within(ForwardTolerance), "o");
            Assert.That(logsumexp.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "logsumexp")).Within(ForwardTolerance), "logsumexp");
            Assert.That(gradients.Q.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dq")).Within(BackwardTolerance), "dq");
            Assert.That(gradients.K.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dk")).Within(BackwardTolerance), "dk");
            Assert.That(gradients.V.ToFloatArray(), Is.EqualTo(fixture.Values(testCase, "dv")).Within(BackwardTolerance), "dv");
        });
    }

    // batch, key batch, query length, key length, heads, head dim, causal: bidirectional, causal, shared prefix (offset 4).
    [TestCase(2, 2, 4, 4, 2, 3, false)]
    [TestCase(2, 2, 5, 5, 2, 3, true)]
    [TestCase(3, 1, 2, 6, 2, 3, true)]
    public void BackwardMatchesFiniteDifferences(int batch, int keyBatch, int queryLength, int keyLength, int heads, int headDim, bool causal)
    {
        int width = heads * headDim, offset = causal ? keyLength - queryLength : 0;
        var random = new RandomTensors(5);
        float[] q = random.Uniform(batch * queryLength * width, -2, 2), k = random.Uniform(keyBatch * keyLength * width, -2, 2);
        float[] v = random.Uniform(keyBatch * keyLength * width), dO = random.Uniform(batch * queryLength * width);
        float[] o = new float[q.Length], logsumexp = new float[batch * heads * queryLength];
        double Loss(float[] queries, float[] keys, float[] values)
        {
            Attention.Reference(queries, keys, values, o, logsumexp, batch, queryLength, keyLength, heads, causal, offset);
            return FiniteDifference.Dot(o, dO);
        }
        float[] dq = new float[q.Length], dk = new float[k.Length], dv = new float[v.Length];
        Attention.BackwardReference(dO, q, k, v, dq, dk, dv, batch, queryLength, keyLength, heads, causal, offset);
        Assert.Multiple(() =>
        {
            foreach (int i in FiniteDifference.Sample(q.Length, 12))
                Assert.That(dq[i], Is.EqualTo(FiniteDifference.Derivative(q, i, x => Loss(x, k, v), Step)).Within(FiniteDifferenceTolerance), $"dq[{i}]");
            foreach (int i in FiniteDifference.Sample(k.Length, 12))
            {
                Assert.That(dk[i], Is.EqualTo(FiniteDifference.Derivative(k, i, x => Loss(q, x, v), Step)).Within(FiniteDifferenceTolerance), $"dk[{i}]");
                Assert.That(dv[i], Is.EqualTo(FiniteDifference.Derivative(v, i, x => Loss(q, k, x), Step)).Within(FiniteDifferenceTolerance), $"dv[{i}]");
            }
        });
    }

    [Test]
    public void SharedPrefixEqualsTheLastRowsOfTheFullCausalRun()
    {
        // Spec §2.2: with the causal mask, positions before the class slots are the same for every class, so
        // attending from the last 3 positions to one shared batch of keys gives the full run's last 3 rows.
        const int batch = 4, length = 13, tail = 3, heads = 3, headDim = 5, width = heads * headDim;
        var random = new RandomTensors(9);
        float[] q = random.Uniform(batch * length * width, -2, 2), k = random.Uniform(length * width, -2, 2), v = random.Uniform(length * width);
        using Tensor shared = Tensor.FromSpan<float>(k, [1, length, width]), sharedValues = Tensor.FromSpan<float>(v, [1, length, width]);
        using Tensor keys = Repeat(k, batch, length, width), values = Repeat(v, batch, length, width);
        using Tensor queries = Tensor.FromSpan<float>(q, [batch, length, width]), lastQueries = queries.Slice(1, length - tail, tail);
        using Tensor full = Tensor.Empty([batch, length, width]), prefix = Tensor.Empty([batch, tail, width]);
        Attention.Forward(queries, keys, values, full, heads, causal: true);
        Attention.Forward(lastQueries, shared, sharedValues, prefix, heads, causal: true, queryOffset: length - tail);
        using Tensor fullTail = full.Slice(1, length - tail, tail);
        Assert.That(prefix.ToFloatArray(), Is.EqualTo(fullTail.ToFloatArray()).Within(ForwardTolerance));
    }

    [Test]
    public void SharedKeyGradientsSumOverTheQueryBatch()
    {
        const int batch = 3, queryLength = 2, keyLength = 6, heads = 2, headDim = 3, width = heads * headDim, offset = keyLength - queryLength;
        var random = new RandomTensors(3);
        float[] q = random.Uniform(batch * queryLength * width, -2, 2), k = random.Uniform(keyLength * width, -2, 2);
        float[] v = random.Uniform(keyLength * width), dO = random.Uniform(batch * queryLength * width);
        using Tensor tq = Tensor.FromSpan<float>(q, [batch, queryLength, width]), tdO = Tensor.FromSpan<float>(dO, [batch, queryLength, width]);
        using Tensor sharedK = Tensor.FromSpan<float>(k, [1, keyLength, width]), sharedV = Tensor.FromSpan<float>(v, [1, keyLength, width]);
        using Tensor repeatedK = Repeat(k, batch, keyLength, width), repeatedV = Repeat(v, batch, keyLength, width);
        Gradients shared = Backward(tq, sharedK, sharedV, tdO, heads, offset);
        Gradients repeated = Backward(tq, repeatedK, repeatedV, tdO, heads, offset);
        float[] summedDk = new float[shared.Dk.Length], summedDv = new float[shared.Dv.Length];
        for (int i = 0; i < repeated.Dk.Length; i++)
        {
            summedDk[i % summedDk.Length] += repeated.Dk[i];
            summedDv[i % summedDv.Length] += repeated.Dv[i];
        }
        Assert.Multiple(() =>
        {
            Assert.That(shared.Dq, Is.EqualTo(repeated.Dq).Within(BackwardTolerance));
            Assert.That(shared.Dk, Is.EqualTo(summedDk).Within(BackwardTolerance));
            Assert.That(shared.Dv, Is.EqualTo(summedDv).Within(BackwardTolerance));
        });
    }

    [Test]
    public void SharedKeysGiveTheSameResultWhetherOrNotTheQueryBatchesStack()
    {
        // Queries that are the last rows of longer sequences do not form one matrix across batches: the batches
        // then run one by one (and add into dk, dv) instead of as one block per head.
        const int batch = 3, length = 7, queryLength = 2, heads = 2, headDim = 3, width = heads * headDim, offset = 5;
        var random = new RandomTensors(6);
        float[] k = random.Uniform(length * width, -2, 2), v = random.Uniform(length * width);
        using Tensor sequences = Tensor.FromSpan<float>(random.Uniform(batch * length * width, -2, 2), [batch, length, width]);
        using Tensor lastRows = sequences.Slice(1, length - queryLength, queryLength), stacked = lastRows.Clone();
        using Tensor tk = Tensor.FromSpan<float>(k, [1, length, width]), tv = Tensor.FromSpan<float>(v, [1, length, width]);
        using Tensor dO = Tensor.FromSpan<float>(random.Uniform(batch * queryLength * width), [batch, queryLength, width]);
        using Tensor gradientBuffer = Tensor.Zeros([batch, length, width]), spreadDq = gradientBuffer.Slice(1, length - queryLength, queryLength);
        Gradients fromStacked = Backward(stacked, tk, tv, dO, heads, offset);
        Gradients fromSpread = Backward(lastRows, tk, tv, dO, heads, offset, spreadDq);
        Assert.Multiple(() =>
        {
            Assert.That(fromSpread.O, Is.EqualTo(fromStacked.O).Within(ForwardTolerance));
            Assert.That(fromSpread.Dq, Is.EqualTo(fromStacked.Dq).Within(BackwardTolerance));
            Assert.That(fromSpread.Dk, Is.EqualTo(fromStacked.Dk).Within(BackwardTolerance));
            Assert.That(fromSpread.Dv, Is.EqualTo(fromStacked.Dv).Within(BackwardTolerance));
        });
    }

    // batch, key batch, query length, key length, causal: enough keys that the queries go through in several blocks
    // (12 rows at 1,500 keys, so blocks also cut across the stacked query batches of the shared-prefix case).
    [TestCase(1, 1, 300, 300, false)]
    [TestCase(2, 2, 300, 300, true)]
    [TestCase(20, 1, 5, 1500, true)]
    public void LongSequencesMatchTheReferenceAcrossQueryBlocks(int batch, int keyBatch, int queryLength, int keyLength, bool causal)
    {
        const int heads = 2, headDim = 64, width = heads * headDim;
        int offset = causal ? keyLength - queryLength : 0;
        var random = new RandomTensors(9);
        float[] q = random.Uniform(batch * queryLength * width), k = random.Uniform(keyBatch * keyLength * width), v = random.Uniform(keyBatch * keyLength * width);
        float[] expected = new float[q.Length], expectedLogsumexp = new float[batch * heads * queryLength];
        Attention.Reference(q, k, v, expected, expectedLogsumexp, batch, queryLength, keyLength, heads, causal, offset);
        using Tensor tq = Tensor.FromSpan<float>(q, [batch, queryLength, width]);
        using Tensor tk = Tensor.FromSpan<float>(k, [keyBatch, keyLength, width]), tv = Tensor.FromSpan<float>(v, [keyBatch, keyLength, width]);
        using Tensor o = Tensor.Empty([batch, queryLength, width]), logsumexp = Tensor.Empty([batch, heads, queryLength]);
        Attention.Forward(tq, tk, tv, o, heads, causal, offset, logsumexp);
        // Sums over up to 1,500 keys and 64 features of values in [−1, 1], float32 against double: a few ulps of O(1).
        Assert.Multiple(() =>
        {
            Assert.That(o.ToFloatArray(), Is.EqualTo(expected).Within(ForwardTolerance), "o");
            Assert.That(logsumexp.ToFloatArray(), Is.EqualTo(expectedLogsumexp).Within(ForwardTolerance), "logsumexp");
        });
    }

    [Test]
    public void OneVisibleKeyCopiesItsValue()
    {
        // The first causal query sees only key 0, whatever the scores: its output is v₀ and its logsumexp s₀₀.
        const int heads = 2, headDim = 3, width = heads * headDim;
        var random = new RandomTensors(4);
        float[] v = random.Uniform(4 * width);
        using Tensor q = Tensor.FromSpan<float>(random.Uniform(4 * width, -2, 2), [1, 4, width]);
        using Tensor k = Tensor.FromSpan<float>(random.Uniform(4 * width, -2, 2), [1, 4, width]), tv = Tensor.FromSpan<float>(v, [1, 4, width]);
        using Tensor o = Tensor.Empty([1, 4, width]);
        Attention.Forward(q, k, tv, o, heads, causal: true);
        Assert.That(o.ToFloatArray()[..width], Is.EqualTo(v[..width]).Within(1e-6));
    }

    [Test]
    public void SharedKeyBackwardIsDeterministic()
    {
        const int batch = 6, heads = 8, headDim = 16, width = heads * headDim, keyLength = 40, queryLength = 3;
        var random = new RandomTensors(8);
        using Tensor q = Tensor.FromSpan<float>(random.Uniform(batch * queryLength * width), [batch, queryLength, width]);
        using Tensor k = Tensor.FromSpan<float>(random.Uniform(keyLength * width), [1, keyLength, width]);
        using Tensor v = Tensor.FromSpan<float>(random.Uniform(keyLength * width), [1, keyLength, width]);
        using Tensor dO = Tensor.FromSpan<float>(random.Uniform(batch * queryLength * width), [batch, queryLength, width]);
        Gradients first = Backward(q, k, v, dO, heads, keyLength - queryLength);
        Gradients second = Backward(q, k, v, dO, heads, keyLength - queryLength);
        Assert.Multiple(() =>
        {
            Assert.That(second.Dk, Is.EqualTo(first.Dk));
            Assert.That(second.Dv, Is.EqualTo(first.Dv));
        });
    }

    [Test]
    public void BFloat16PrecisionComputesOnRoundedOperands()
    {
        // On the CPU it is the float32 kernel on q, k and v rounded to bfloat16, here read from a packed qkv buffer.
        const int heads = 2, headDim = 64, width = heads * headDim, tokens = 70;
        var random = new RandomTensors(9);
        float[] q = random.Uniform(tokens * width, -2, 2), k = random.Uniform(tokens * width, -2, 2), v = random.Uniform(tokens * width);
        using var packed = new Operands([1, tokens, width], [1, tokens, width], packed: true, q, k, v);
        float[][] rounded = [BFloat16Convert.Rounded(q), BFloat16Convert.Rounded(k), BFloat16Convert.Rounded(v)];
        using var separate = new Operands([1, tokens, width], [1, tokens, width], packed: false, rounded[0], rounded[1], rounded[2]);
        using Tensor o = Tensor.Empty([1, tokens, width]), expected = Tensor.Empty([1, tokens, width]), exact = Tensor.Empty([1, tokens, width]);
        Attention.Forward(packed.Q, packed.K, packed.V, o, heads, causal: false, precision: AttentionPrecision.BFloat16);
        Attention.Forward(separate.Q, separate.K, separate.V, expected, heads, causal: false);
        Attention.Forward(packed.Q, packed.K, packed.V, exact, heads, causal: false);
        Assert.Multiple(() =>
        {
            Assert.That(o.ToFloatArray(), Is.EqualTo(expected.ToFloatArray()));
            Assert.That(o.ToFloatArray(), Is.Not.EqualTo(exact.ToFloatArray()));
        });
    }

    [Test]
    public void RejectsMismatchedShapesAndLayouts()
    {
        using Tensor q = Tensor.Zeros([2, 5, 6]), k = Tensor.Zeros([2, 5, 6]), v = Tensor.Zeros([2, 5, 6]), o = Tensor.Zeros([2, 5, 6]);
        using Tensor threeBatches = Tensor.Zeros([3, 5, 6]), narrowValues = Tensor.Zeros([2, 5, 4]), wrongOutput = Tensor.Zeros([2, 5, 7]);
        using Tensor tokensFirst = Tensor.Zeros([6, 5, 2]), transposed = tokensFirst.Transpose(0, 2);
        using Tensor wide = Tensor.Zeros([2, 5, 12]), stridedOutput = wide.Slice(2, 0, 6);
        Assert.Multiple(() =>
        {
            Assert.That(() => Attention.Forward(q, threeBatches, threeBatches, o, 2, causal: false),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("key/value batch 3"));
            Assert.That(() => Attention.Forward(q, k, narrowValues, o, 2, causal: false),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("Attention v"));
            Assert.That(() => Attention.Forward(q, k, v, wrongOutput, 2, causal: false),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("Attention o"));
            Assert.That(() => Attention.Forward(q, k, v, o, 4, causal: false),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("4 heads"));
            Assert.That(() => Attention.Forward(q, k, v, o, 2, causal: true, queryOffset: 1),
                Throws.ArgumentException.With.Message.Contains("need keys"));
            Assert.That(() => Attention.Forward(q, k, v, o, 2, causal: false, queryOffset: 1),
                Throws.ArgumentException.With.Message.Contains("causal"));
            Assert.That(() => Attention.Forward(q, transposed, v, o, 2, causal: false),
                Throws.ArgumentException.With.Message.Contains("dense"));
            Assert.That(() => Attention.Forward(q, k, v, stridedOutput, 2, causal: false),
                Throws.ArgumentException.With.Message.Contains("strided view"));
            Assert.That(() => Attention.Forward(q, k, v, v, 2, causal: false),
                Throws.ArgumentException.With.Message.Contains("shares memory with q, k or v"));
            using Tensor lse = Tensor.Zeros([2, 2, 5]), dq = Tensor.Zeros([2, 5, 6]), dk = Tensor.Zeros([2, 5, 6]), dv = Tensor.Zeros([2, 5, 6]);
            Assert.That(() => Attention.Backward(o, q, k, v, lse, dq, dk, dv, 2, causal: false, output: wrongOutput),
                Throws.TypeOf<TensorShapeException>().With.Message.Contains("Attention.Backward output"));
        });
    }

    /// <summary>
    /// The forward's o, given to the backward pass, is for the CUDA kernels' row sums (dO·o); the CPU takes them from P
    /// and dP as before, so its gradients do not move by a bit.
    /// </summary>
    [Test]
    public void TheForwardOutputLeavesTheCpuGradientsAsTheyAre()
    {
        const int batch = 2, tokens = 7, heads = 2, width = 8;
        var random = new ReClip.Kernels.Checks.RandomTensors(11);
        using Tensor q = Tensor.FromSpan<float>(random.Uniform(batch * tokens * width, -2, 2), [batch, tokens, width]);
        using Tensor k = Tensor.FromSpan<float>(random.Uniform(batch * tokens * width, -2, 2), [batch, tokens, width]);
        using Tensor v = Tensor.FromSpan<float>(random.Uniform(batch * tokens * width), [batch, tokens, width]);
        using Tensor dO = Tensor.FromSpan<float>(random.Uniform(batch * tokens * width), [batch, tokens, width]);
        using Tensor o = Tensor.Empty([batch, tokens, width]), lse = Tensor.Empty([batch, heads, tokens]);
        Attention.Forward(q, k, v, o, heads, causal: true, logsumexp: lse);
        float[][] Run(Tensor? output)
        {
            using Tensor dq = Tensor.Empty([batch, tokens, width]), dk = Tensor.Empty([batch, tokens, width]), dv = Tensor.Empty([batch, tokens, width]);
            Attention.Backward(dO, q, k, v, lse, dq, dk, dv, heads, causal: true, output: output);
            return [dq.ToFloatArray(), dk.ToFloatArray(), dv.ToFloatArray()];
        }
        Assert.That(Run(o), Is.EqualTo(Run(null)));
    }

    private static (int Heads, bool Causal, int Offset) Parameters(string description)
    {
        Dictionary<string, int> values = description.Split(' ').Select(part => part.Split('='))
            .ToDictionary(pair => pair[0], pair => int.Parse(pair[1], System.Globalization.CultureInfo.InvariantCulture));
        return (values["heads"], values["causal"] != 0, values["offset"]);
    }

    private sealed record Gradients(float[] O, float[] Dq, float[] Dk, float[] Dv);

    /// <summary>Causal forward and backward; dq goes into <paramref name="dqView"/> when given (e.g. a strided view).</summary>
    private static Gradients Backward(Tensor q, Tensor k, Tensor v, Tensor dO, int heads, int offset, Tensor? dqView = null)
    {
        using Tensor o = Tensor.Empty(q.Shape), logsumexp = Tensor.Empty([q.Size(0), heads, q.Size(1)]);
        using Tensor dq = Tensor.Empty(q.Shape), dk = Tensor.Empty(k.Shape), dv = Tensor.Empty(v.Shape);
        Attention.Forward(q, k, v, o, heads, causal: true, offset, logsumexp);
        Attention.Backward(dO, q, k, v, logsumexp, dqView ?? dq, dk, dv, heads, causal: true, offset);
        return new Gradients(o.ToFloatArray(), (dqView ?? dq).ToFloatArray(), dk.ToFloatArray(), dv.ToFloatArray());
    }

    private static Tensor Repeat(float[] values, int batch, int length, int width)
    {
        float[] repeated = new float[batch * values.Length];
        for (int b = 0; b < batch; b++)
            values.CopyTo(repeated, b * values.Length);
        return Tensor.FromSpan<float>(repeated, [batch, length, width]);
    }

    /// <summary>q, k, v (or their gradients) as separate tensors, or as column blocks of packed [B, T, 3·D] buffers (NaN elsewhere).</summary>
    private sealed class Operands : IDisposable
    {
        private readonly List<Tensor> owned = [];

        public Operands(int[] queryShape, int[] keyShape, bool packed, float[]? q, float[]? k, float[]? v)
        {
            int width = queryShape[2];
            if (!packed)
            {
                Q = Own(q is null ? Tensor.Empty(queryShape) : Tensor.FromSpan<float>(q, queryShape));
                K = Own(k is null ? Tensor.Empty(keyShape) : Tensor.FromSpan<float>(k, keyShape));
                V = Own(v is null ? Tensor.Empty(keyShape) : Tensor.FromSpan<float>(v, keyShape));
                return;
            }
            Tensor queryBuffer = Own(Packed(queryShape, [q, null, null])), keyBuffer = Own(Packed(keyShape, [null, k, v]));
            Q = Own(queryBuffer.Slice(2, 0, width));
            K = Own(keyBuffer.Slice(2, width, width));
            V = Own(keyBuffer.Slice(2, 2 * width, width));
        }

        public Tensor Q { get; }

        public Tensor K { get; }

        public Tensor V { get; }

        public void Dispose()
        {
            foreach (Tensor tensor in owned)
                tensor.Dispose();
        }

        private Tensor Own(Tensor tensor)
        {
            owned.Add(tensor);
            return tensor;
        }

        private static Tensor Packed(int[] shape, float[]?[] blocks)
        {
            int rows = shape[0] * shape[1], width = shape[2];
            float[] packed = new float[rows * 3 * width];
            Array.Fill(packed, float.NaN);
            for (int block = 0; block < 3; block++)
                if (blocks[block] is { } values)
                    for (int row = 0; row < rows; row++)
                        values.AsSpan(row * width, width).CopyTo(packed.AsSpan((row * 3 + block) * width, width));
            return Tensor.FromSpan<float>(packed, [shape[0], shape[1], 3 * width]);
        }
    }
}
