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

    /// <summary>The MaskCLIP dense image path (what ReCLIP++ runs) on one image of side <paramref name="size"/>.</summary>
    public static ICompareCase DenseImage(int size) => new Workload(() =>
    {
        Tensor image = RandomImage(size);
        var vision = new VisionTransformer(Weights, ResidualBlock.MaskClipVisualEps);
        return (() => vision.EncodeDense(image).Dispose(), image);
    });

    /// <summary>One normalised-looking image [1, 3, size, size] with seeded values in [−1, 1).</summary>
    public static Tensor RandomImage(int size)
    {
        Tensor image = Tensor.Empty([1, 3, size, size]);
        var random = new Random(1);
        foreach (ref float x in image.AsSpan<float>())
            x = random.NextSingle() * 2 - 1;
        return image;
    }

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

    /// <summary>The Reference prompt of spec §2.2 for <paramref name="classes"/> classes, encoded with prefix sharing.</summary>
    public static ICompareCase ReferencePrompt(int classes) => new Workload(() =>
    {
        int contexts = Weights.Config.ContextLength - 4, vocabulary = Weights.TokenEmbedding.Size(0);
        Tensor context = Tensor.Zeros([contexts, Weights.Config.TextWidth]);
        int[] slots = new int[classes * 3];
        for (int c = 0; c < classes; c++) (slots[c * 3], slots[c * 3 + 1], slots[c * 3 + 2]) = (2000 + c, vocabulary - 1, 0);
        var text = new TextTransformer(Weights);
        return (() => text.EncodePromptShared(context, slots, 3).Dispose(), context);
    });

    private sealed class Workload(Func<(Action Run, Tensor? Owned)> setup) : ICompareCase
    {
        private readonly (Action Run, Tensor? Owned) state = setup();

        public int WarmupCalls => 2;

        public void Run() => state.Run();

        public void Dispose() => state.Owned?.Dispose();
    }
}
