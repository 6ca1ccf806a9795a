using ReClip.Model.Benchmarks;
using ReClip.Model.Clip;
using ReClip.Runtime.Tensors;

namespace ReClip.Bench;

/// <summary>The CLIP ViT-B/16 workloads of the comparison, on random weights shared by every case of one process.</summary>
public static class ClipCases
{
    private static readonly Lazy<ClipWeights> weights = new(() =>
    {
        using var file = new RandomClipFile();
        return ClipWeights.Load(file);
    });

    public static ClipWeights Weights => weights.Value;

    /// <summary>The MaskCLIP dense image path (what ReCLIP++ runs) on <paramref name="batch"/> images of side <paramref name="size"/>.</summary>
    public static ICompareCase DenseImage(int size, int batch) => new Workload(() =>
    {
        Tensor images = RandomInputs.Images(batch, size);
        var vision = new VisionTransformer(Weights, ResidualBlock.MaskClipVisualEps);
        return (() => vision.EncodeDense(images).Dispose(), images);
    });

    /// <summary>The text tower on <paramref name="prompts"/> sequences of 77 tokens (SOT, 8 word ids, EOT, padding).</summary>
    public static ICompareCase Text(int prompts) => new Workload(() =>
    {
        int length = Weights.Config.ContextLength, vocabulary = Weights.TokenEmbedding.Size(0);
        int[] ids = new int[prompts * length];
        for (int p = 0; p < prompts; p++)
        {
            ids[p * length] = vocabulary - 2;
            for (int i = 1; i <= 8; i++) ids[p * length + i] = 1000 + p * 8 + i;
            ids[p * length + 9] = vocabulary - 1;
        }
        var text = new TextTransformer(Weights);
        return (() => text.Encode(ids).Dispose(), null);
    });

    /// <summary>
    /// The Reference prompt of spec §2.2 for <paramref name="classes"/> classes: with <paramref name="sharedPrefix"/>
    /// the 73 context vectors common to every class go through the text tower once, without it every class's full
    /// 77-token sequence does (the authors' way).
    /// </summary>
    public static ICompareCase ReferencePrompt(int classes, bool sharedPrefix) => new Workload(() =>
    {
        int slotCount = Model.ReClip.ReferencePrompt.SlotCount;
        var text = new TextTransformer(Weights);
        Tensor context = Tensor.Zeros([text.ContextCount(slotCount), Weights.Config.TextWidth]);
        int[] slots = RandomInputs.OneTokenSlots(classes, Weights.Config.EndToken);
        return sharedPrefix
            ? (() => text.EncodePromptShared(context, slots, slotCount).Dispose(), context)
            : (() => text.EncodePrompt(context, slots, slotCount).Dispose(), context);
    });

    private sealed class Workload(Func<(Action Run, Tensor? Owned)> setup) : ICompareCase
    {
        private readonly (Action Run, Tensor? Owned) state = setup();

        public int WarmupCalls => 2;

        public void Run() => state.Run();

        public void Dispose() => state.Owned?.Dispose();
    }
}
