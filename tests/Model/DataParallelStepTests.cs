using ReClip.Model.Clip;
using ReClip.Model.ReClip;
using ReClip.Runtime.Collectives;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Model;

/// <summary>
/// Data-parallel steps of the head on the step fixture (B = 3 images, 4×4 grid, C = 4): ranks in threads with the
/// in-process transport, each holding a contiguous run of the batch, against one head stepping on the whole batch
/// with the same Philox noise.
/// </summary>
[TestFixture]
public sealed class DataParallelStepTests
{
    /// <summary>
    /// What differs from the single run is only the order of sums: BatchNorm's per-channel sums and every parameter
    /// gradient add up per-rank partial sums (each rank's gradient rounded to float first) instead of one running sum,
    /// ~1e-7 relative per gradient. Sums over patches that mostly cancel (dβ = Σdy, since BN removes channel means)
    /// magnify that relative to the result, and three SGD steps with momentum carry it on. Measured after 3 steps,
    /// relative to each tensor's largest element: β 2.2e-5 (2 ranks × 2) and 1.8e-5 (3 × 1, 4 × 1), pe_proj.weight
    /// 5.3e-6, decoder_conv2.weight 4.4e-6, the rest below 3e-6, running statistics below 6e-7; every rank holds the
    /// same bits. 1e-4 leaves a factor 4 over the worst.
    /// </summary>
    private const double ParameterTolerance = 1e-4;

    private const int Steps = 3;
    private const float LearningRate = 0.05f;
    private const ulong Seed = 42;

    private ReClipStepFixture step = null!;

    [OneTimeSetUp]
    public void Open() => step = new ReClipStepFixture();

    [OneTimeTearDown]
    public void Close() => step.Dispose();

    private ReClipHead NewHead()
    {
        using Tensor query = step.Load("query");
        return new ReClipHead(new TextTransformer(step.Weights), query, ReferencePrompt.SlotIds(ReClipStepFixture.NameTokens, step.Weights.Config.EndToken),
            step.Weights.Config.VisionWidth, seed: 3);
    }

    /// <summary>Trainable tensors, then BatchNorm's running statistics, then the losses of the steps.</summary>
    private static float[][] State(ReClipHead head, IEnumerable<float> losses) =>
        [.. head.Parameters.Select(p => p.Value.ToFloatArray()), head.Decoder.RunningMean.ToFloatArray(), head.Decoder.RunningVar.ToFloatArray(), [.. losses]];

    private float[][] SingleProcess()
    {
        using Tensor features = step.Load("features");
        using Tensor grid = step.Load("grid");
        using ReClipHead head = NewHead();
        var losses = new List<float>();
        for (ulong s = 0; s < Steps; s++)
        {
            using StepResult result = head.Step(features, grid, step.Rows, step.Columns, step.Hypotheses(), LearningRate, Seed, s);
            losses.Add(result.Loss);
        }
        return State(head, losses);
    }

    /// <summary>Rank r holds images r·perRank.. of the batch (none when the batch ends before).</summary>
    private float[][] Rank(ICollective group, int perRank)
    {
        using Tensor all = step.Load("features");
        using Tensor grid = step.Load("grid");
        int batch = all.Size(0), first = Math.Min(group.Rank * perRank, batch), count = Math.Min(perRank, batch - first);
        int[][] hypotheses = step.Hypotheses();
        using ReClipHead head = NewHead();
        var losses = new List<float>();
        var share = new BatchShare(group, batch, first);
        for (ulong s = 0; s < Steps; s++)
        {
            using Tensor? features = count > 0 ? all.Slice(0, first, count).Clone() : null;
            using StepResult result = features is null
                ? head.IdleStep(step.Rows, step.Columns, share)
                : head.LossAndGradients(features, grid, step.Rows, step.Columns, hypotheses[first..(first + count)], null, Seed, s, share);
            head.SumOverRanks(result, group);
            head.Update(result, LearningRate);
            losses.Add(result.Loss);
        }
        return State(head, losses);
    }

    [TestCase(3, 1)]
    [TestCase(2, 2)]
    [TestCase(4, 1)]
    public void RanksTakeTheStepsOfOneProcessWithTheWholeBatch(int ranks, int perRank)
    {
        float[][] single = SingleProcess();
        float[][][] states = InProcessGroup.Run(ranks, group => Rank(group, perRank));
        string[] names = [.. Enumerable.Range(0, single.Length).Select(i => i < 7 ? $"tensor {i}" : i == 7 ? "running mean" : i == 8 ? "running var" : "losses")];
        Assert.Multiple(() =>
        {
            for (int i = 0; i < single.Length; i++)
            {
                double scale = single[i].Max(v => Math.Abs((double)v));
                double difference = states[0][i].Zip(single[i], (a, b) => Math.Abs((double)a - b)).Max();
                Assert.That(difference, Is.LessThanOrEqualTo(ParameterTolerance * scale), $"{names[i]}: max |Δ| {difference:G3} of max |x| {scale:G3}");
                for (int r = 1; r < ranks; r++)
                    Assert.That(states[r][i], Is.EqualTo(states[0][i]), $"rank {r} holds the bits of rank 0 ({names[i]})");
            }
        });
    }

    [Test]
    public void ARankOutsideTheBatchIsRefused()
    {
        using ReClipHead head = NewHead();
        using Tensor features = step.Load("features");
        using Tensor grid = step.Load("grid");
        InProcessGroup.Run(1, group =>
        {
            var error = Assert.Throws<ArgumentException>(() =>
                head.LossAndGradients(features, grid, step.Rows, step.Columns, step.Hypotheses(), null, Seed, 0, new BatchShare(group, 4, 2)));
            Assert.That(error!.Message, Does.Contain("images 2..4").And.Contain("batch of 4"));
            return 0;
        });
    }

    /// <summary>The TCP transport adds the ranks' parts in the same order as the in-process one: the same bits.</summary>
    [Test]
    public void RanksOverTcpHoldTheBitsOfRanksInThreads()
    {
        float[][][] threads = InProcessGroup.Run(2, group => Rank(group, 2));
        float[][][] tcp = ReClip.Tests.Runtime.Collectives.TcpCollectiveTests.OverTcp(2, group => Rank(group, 2));
        Assert.That(tcp, Is.EqualTo(threads));
    }
}
