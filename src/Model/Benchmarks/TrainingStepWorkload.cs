using ReClip.Model.Clip;
using ReClip.Model.ReClip;
using ReClip.Model.Training;
using ReClip.Runtime.Tensors;

namespace ReClip.Model.Benchmarks;

/// <summary>
/// One ReCLIP++ training step as training runs it (spec §13, B = 1): the frozen MaskCLIP dense encoding of a crop,
/// then <see cref="ReClipHead.Step(Tensor, Tensor, int, int, IReadOnlyList{int[]}, float, ulong, ulong)"/>
/// (Reference prompt with the shared prefix, bias, rectification, 5×5 decoder and BatchNorm, Gumbel-softmax,
/// masked-pooling loss, backward, SGD). The Query bank is built once per run, so any unit rows stand in for it;
/// the class names are one token each and the hypothesis is fixed. The crop and the head are where the towers are, as
/// training places them; on a GPU each step replays as a CUDA graph (<see cref="StepGraph"/>), as training runs it, unless
/// the workload is made without.
/// </summary>
public sealed class TrainingStepWorkload : IDisposable
{
    private const int Seed = 7;
    private const float LearningRate = 0.01f;

    private readonly VisionTransformer vision;
    private readonly ReClipHead head;
    private readonly Tensor image;
    private readonly int[][] hypotheses;
    private readonly StepGraph? graph;
    private ulong step;

    /// <param name="weights">The frozen CLIP (not owned).</param>
    /// <param name="crop">The crop side in pixels (336 in the VOC setting).</param>
    /// <param name="classes">C, at least 2.</param>
    /// <param name="cudaGraphs">On a GPU, replay steps as CUDA graphs.</param>
    /// <param name="overlapTowers">In those graphs, the text forward beside the image tower (<see cref="StepGraph.OverlapTowers"/>).</param>
    public TrainingStepWorkload(ClipWeights weights, int crop, int classes, bool cudaGraphs = true, bool overlapTowers = false)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (classes < 2)
            throw new ArgumentOutOfRangeException(nameof(classes), $"a training step needs at least 2 classes, not {classes}");
        ClipConfig config = weights.Config;
        vision = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps);
        // Two present classes, as a typical VOC image's hypothesis holds (spec §8): 3 and 7 as in PyTorch's peer
        // (bench/peer_torch.py), the last two of a smaller vocabulary.
        hypotheses = classes > 7 ? [[3, 7]] : [[classes - 2, classes - 1]];
        using (Tensor picture = RandomInputs.Images(1, crop))
            image = picture.ToDevice(vision.Device);
        try
        {
            using Tensor query = RandomInputs.UnitRows(classes, config.EmbedDim, Seed);
            head = new ReClipHead(new TextTransformer(weights), query, RandomInputs.OneTokenSlots(classes, config.EndToken), config.VisionWidth, Seed)
                .MoveTo(vision.Device);
            graph = cudaGraphs && !head.Device.IsCpu ? new StepGraph(head, vision, Seed) { OverlapTowers = overlapTowers } : null;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>Why steps do not replay as graphs (<see cref="StepGraph.Failure"/>), or null.</summary>
    public string? GraphFailure => graph?.Failure;

    /// <summary>Whether the last step replayed a CUDA graph.</summary>
    public bool Replayed => graph?.Replayed ?? false;

    public void Run()
    {
        if (graph is not null)
        {
            using StepResult replayed = graph.Run(image, hypotheses, step++);
            head.Update(replayed, LearningRate);
            return;
        }
        using DenseFeatures dense = vision.EncodeDense(image);
        using StepResult result = head.Step(dense.Features, dense.PositionalGrid, dense.Rows, dense.Columns, hypotheses, LearningRate, Seed, step++);
    }

    /// <summary>The head's trainable values as they stand, for comparing two workloads' runs.</summary>
    public float[][] ParameterValues() => [.. head.Parameters.Select(p => p.Value.ToFloatArray())];

    public void Dispose()
    {
        graph?.Dispose();
        head.Dispose();
        image.Dispose();
    }
}
