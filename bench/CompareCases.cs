using System.Globalization;
using System.Text.RegularExpressions;

namespace ReClip.Bench;

/// <summary>One workload of the side-by-side comparison, set up once and run many times.</summary>
public interface ICompareCase : IDisposable
{
    /// <summary>Calls before timing: ~30 for small kernels (tiered PGO needs them), a couple for whole encoders.</summary>
    int WarmupCalls { get; }

    void Run();
}

/// <summary>The comparison cases by name; bench/peer_torch.py defines the same names, bench/scaling.py runs the curves.</summary>
public static partial class CompareCases
{
    /// <summary>The sizes and class counts of the scaling curves (VOC 20, Context 59, ADE 150, COCO-Stuff 171 classes).</summary>
    public static IReadOnlyList<int> ImageSizes { get; } = [224, 336, 448, 672];

    public static IReadOnlyList<int> Batches { get; } = [1, 8];

    public static IReadOnlyList<int> ClassCounts { get; } = [20, 59, 150, 171];

    public static IReadOnlyList<string> Names { get; } =
    [
        "sgemm_2048", "sgemm_vit224_qkv", "sgemm_vit224_fc1", "sgemm_vit224_fc2", "sgemm_vit336_qkv", "sgemm_vit336_fc1", "sgemm_vit336_fc2",
        "sgemm_vit448_qkv", "sgemm_vit448_fc1", "sgemm_vit448_fc2",
        "linear_vit224_qkv", "linear_vit224_fc1", "linear_vit224_fc2", "text20", "text171", "train_step_voc336",
        .. ImageSizes.SelectMany(size => Batches.Select(batch => $"vit{size}_b{batch}")),
        .. ClassCounts.SelectMany(classes => new[] { $"refprompt{classes}_prefix", $"refprompt{classes}_full" }),
        .. ClassCounts.Select(classes => $"train_step336_c{classes}"),
        .. BlockCases.Names,
    ];

    /// <summary>
    /// ViT shapes are activations [tokens, in] times a weight [out, in] transposed, as a linear layer
    /// computes them: 197 tokens at 224 px, 442 at 336 px.
    /// </summary>
    public static ICompareCase Create(string name)
    {
        if (!Names.Contains(name))
            throw new ArgumentException($"unknown case '{name}'; known: {string.Join(", ", Names)}");
        return name switch
        {
            "sgemm_2048" => new SgemmCase(2048, 2048, 2048, weightLayout: false),
            "sgemm_vit224_qkv" => new SgemmCase(197, 2304, 768, weightLayout: true),
            "sgemm_vit224_fc1" => new SgemmCase(197, 3072, 768, weightLayout: true),
            "sgemm_vit224_fc2" => new SgemmCase(197, 768, 3072, weightLayout: true),
            "sgemm_vit336_qkv" => new SgemmCase(442, 2304, 768, weightLayout: true),
            "sgemm_vit336_fc1" => new SgemmCase(442, 3072, 768, weightLayout: true),
            "sgemm_vit336_fc2" => new SgemmCase(442, 768, 3072, weightLayout: true),
            "sgemm_vit448_qkv" => new SgemmCase(785, 2304, 768, weightLayout: true),
            "sgemm_vit448_fc1" => new SgemmCase(785, 3072, 768, weightLayout: true),
            "sgemm_vit448_fc2" => new SgemmCase(785, 768, 3072, weightLayout: true),
            "linear_vit224_qkv" => new LinearCase(197, 2304, 768),
            "linear_vit224_fc1" => new LinearCase(197, 3072, 768),
            "linear_vit224_fc2" => new LinearCase(197, 768, 3072),
            "text20" => ClipCases.Text(20),
            "text171" => ClipCases.Text(171),
            "train_step_voc336" => new TrainStepCase(20),
            _ when BlockCases.Names.Contains(name) => BlockCases.Create(name),
            _ when DenseImageName().Match(name) is { Success: true } m => ClipCases.DenseImage(Number(m, 1), Number(m, 2)),
            _ when PromptName().Match(name) is { Success: true } m => ClipCases.ReferencePrompt(Number(m, 1), m.Groups[2].Value == "prefix"),
            _ when TrainStepName().Match(name) is { Success: true } m => new TrainStepCase(Number(m, 1)),
            _ => throw new ArgumentException($"case '{name}' has no workload"),
        };
    }

    private static int Number(Match match, int group) => int.Parse(match.Groups[group].ValueSpan, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^vit(\d+)_b(\d+)$")]
    private static partial Regex DenseImageName();

    [GeneratedRegex(@"^refprompt(\d+)_(prefix|full)$")]
    private static partial Regex PromptName();

    [GeneratedRegex(@"^train_step336_c(\d+)$")]
    private static partial Regex TrainStepName();
}
