using ReClip.Kernels.Ops;
using ReClip.Model.Benchmarks;
using ReClip.Model.Clip;
using ReClip.Model.ReClip;
using ReClip.Model.Training;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Support;

namespace ReClip.Tests.Model.Training;

/// <summary>
/// Training steps replayed as CUDA graphs against the same steps queued kernel by kernel, on the fixture CLIP: the graph
/// replays the same kernels on the same data, so every value must match to the bit, step after step, while the images,
/// the hypotheses and the step number change under it. A head on the CPU has no graph.
/// </summary>
[TestFixture]
public sealed class StepGraphTests
{
    private const int Classes = 6, Crop = 24, Batch = 2;
    private const ulong Seed = 5;

    [Test]
    public void AHeadOnTheCpuHasNoGraph()
    {
        using ClipWeights weights = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        using ReClipHead head = NewHead(weights);
        using var graph = new StepGraph(head, new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps), Seed);
        using Tensor images = Images(0);
        Assert.That(() => graph.Run(images, [[0], [1]], 0), Throws.InvalidOperationException.With.Message.Contains("one GPU"));
    }

    [Test]
    public void ReplayedStepsMatchEagerStepsBitForBit()
    {
        Requires.CudaDevice();
        using ClipWeights host = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        using ClipWeights weights = host.ToDevice(Device.Cuda());
        var vision = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps);
        using ReClipHead replayed = NewHead(weights).MoveTo(Device.Cuda()), eager = replayed.ToDevice(Device.Cuda());
        using var graph = new StepGraph(replayed, vision, Seed);
        int[][][] hypotheses = [[[0, 3], [1]], [[2], []], [[4, 5, 0], [3]], [[1], [2, 4]], [[5], [0]]];
        for (int step = 0; step < hypotheses.Length; step++)
        {
            using Tensor images = Images(step);
            using StepResult a = graph.Run(images, hypotheses[step], (ulong)step);
            Assert.That(graph.Failure, Is.Null);
            Assert.That(graph.Replayed, Is.EqualTo(step >= 1), "eager first, then captured and replayed");
            using Tensor onDevice = images.ToDevice(Device.Cuda());
            using DenseFeatures dense = vision.EncodeDense(onDevice);
            using StepResult b = eager.LossAndGradients(dense.Features, dense.PositionalGrid, dense.Rows, dense.Columns, hypotheses[step], null, Seed, (ulong)step);
            Assert.That(a.Loss, Is.EqualTo(b.Loss), $"loss of step {step}");
            Assert.That(a.NonFiniteGradients, Is.EqualTo(FiniteCheck.NonFinite(b.Gradients)), $"finiteness flags read with the loss of step {step}");
            Assert.That(a.NonFiniteGradients, Has.Count.EqualTo(replayed.Parameters.Count).And.All.False);
            Assert.That(a.Mask.ToFloatArray(), Is.EqualTo(b.Mask.ToFloatArray()), $"mask of step {step}");
            for (int i = 0; i < a.Gradients.Count; i++)
                Assert.That(a.Gradients[i].ToFloatArray(), Is.EqualTo(b.Gradients[i].ToFloatArray()), $"{replayed.Parameters[i].Name}'s gradient at step {step}");
            replayed.Update(a, 0.01f);
            eager.Update(b, 0.01f);
        }
        Assert.That(replayed.Decoder.RunningMean.ToFloatArray(), Is.EqualTo(eager.Decoder.RunningMean.ToFloatArray()), "BatchNorm's statistics moved alike");
    }

    [Test]
    public void AReplayedStepFlagsItsNonFiniteGradientsAndTheNextStepStartsClean()
    {
        Requires.CudaDevice();
        using ClipWeights host = ClipWeights.Load(ClipFixture.PathOf("weights_openai.safetensors"));
        using ClipWeights weights = host.ToDevice(Device.Cuda());
        using ReClipHead head = NewHead(weights).MoveTo(Device.Cuda());
        using var graph = new StepGraph(head, new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps), Seed);
        int[][] hypotheses = [[0, 3], [1]];
        for (int step = 0; step < 4; step++)
        {
            using Tensor images = Images(step);
            if (step == 2)
                images.AsSpan<float>()[5] = float.NaN;
            using StepResult result = graph.Run(images, hypotheses, (ulong)step);
            Assert.That(graph.Replayed, Is.EqualTo(step >= 1));
            Assert.That(result.NonFiniteGradients, Is.EqualTo(FiniteCheck.NonFinite(result.Gradients)), $"the flags read with the loss at step {step}");
            Assert.That(result.NonFiniteGradients!.Contains(true), Is.EqualTo(step == 2), $"step {step}: a NaN pixel poisons the gradients, and the next replay clears the flags");
        }
    }

    /// <summary>The head of one-token class names inside the fixture's 300-token vocabulary.</summary>
    private static ReClipHead NewHead(ClipWeights weights)
    {
        using Tensor query = RandomInputs.UnitRows(Classes, weights.Config.EmbedDim, 3);
        int[] slots = ReferencePrompt.SlotIds([.. Enumerable.Range(0, Classes).Select(c => new[] { 10 + c })], weights.Config.EndToken);
        return new ReClipHead(new TextTransformer(weights), query, slots, weights.Config.VisionWidth, Seed);
    }

    /// <summary>Another batch of normalised-looking images for every step.</summary>
    private static Tensor Images(int step)
    {
        var random = new Random(100 + step);
        float[] values = new float[Batch * 3 * Crop * Crop];
        foreach (ref float x in values.AsSpan())
            x = random.NextSingle() * 2 - 1;
        return Tensor.FromSpan<float>(values, [Batch, 3, Crop, Crop]);
    }
}
