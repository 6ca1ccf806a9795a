using ReClip.Kernels.Ops;
using ReClip.Model.Clip;
using ReClip.Model.ReClip;
using ReClip.Runtime.Tensors;

namespace ReClip.Bench;

/// <summary>
/// One ReCLIP++ training step in the VOC setting of spec §13 (crop 336, B = 1, C = 20, 21×21 grid): the frozen
/// MaskCLIP dense encoding of the crop, then <see cref="ReClipHead.Step(Tensor, Tensor, int, int, IReadOnlyList{int[]}, float, ulong, ulong)"/>
/// (Reference prompt with the shared prefix, bias, rectification, 5×5 decoder and BatchNorm, Gumbel-softmax,
/// masked-pooling loss, backward, SGD). Random ViT-B/16 weights; the Query bank is built once per run, so any
/// unit rows stand in for it; 20 one-token class names; the hypothesis is fixed.
/// </summary>
public sealed class TrainStepCase : ICompareCase
{
    private const int Size = 336, Classes = 20, Seed = 7;
    private const float LearningRate = 0.01f;
    private static readonly int[][] Hypotheses = [[3, 7]];

    private readonly VisionTransformer vision;
    private readonly ReClipHead head;
    private readonly Tensor image;
    private ulong step;

    public TrainStepCase()
    {
        ClipWeights weights = ClipCases.Weights;
        ClipConfig config = weights.Config;
        image = ClipCases.RandomImage(Size);
        vision = new VisionTransformer(weights, ResidualBlock.MaskClipVisualEps);
        int[] slots = new int[Classes * ReferencePrompt.SlotCount];
        for (int c = 0; c < Classes; c++)
            (slots[c * 3], slots[c * 3 + 1], slots[c * 3 + 2]) = (2000 + c, config.EndToken, 0);
        using Tensor query = Tensor.Empty([Classes, config.EmbedDim]);
        var random = new Random(Seed);
        foreach (ref float x in query.AsSpan<float>())
            x = random.NextSingle() * 2 - 1;
        L2Normalize.Forward(query, query);
        head = new ReClipHead(new TextTransformer(weights), query, slots, config.VisionWidth, Seed);
    }

    public int WarmupCalls => 2;

    public void Run()
    {
        using DenseFeatures dense = vision.EncodeDense(image);
        using StepResult result = head.Step(dense.Features, dense.PositionalGrid, dense.Rows, dense.Columns, Hypotheses, LearningRate, Seed, step++);
    }

    public void Dispose()
    {
        head.Dispose();
        image.Dispose();
    }
}
