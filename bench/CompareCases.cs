namespace ReClip.Bench;

/// <summary>One workload of the side-by-side comparison, set up once and run many times.</summary>
public interface ICompareCase : IDisposable
{
    /// <summary>Calls before timing: ~30 for small kernels (tiered PGO needs them), a couple for whole encoders.</summary>
    int WarmupCalls { get; }

    void Run();
}

/// <summary>The comparison cases by name; bench/peer_torch.py defines the same names.</summary>
public static class CompareCases
{
    public static IReadOnlyList<string> Names { get; } =
        ["sgemm_2048", "sgemm_vit224_qkv", "sgemm_vit224_fc1", "sgemm_vit224_fc2", "sgemm_vit336_qkv", "sgemm_vit336_fc1", "sgemm_vit336_fc2",
         "linear_vit224_qkv", "linear_vit224_fc1", "linear_vit224_fc2",
         "vit224_b1", "vit336_b1", "vit448_b1", "text20", "text171", "refprompt20_prefix", "train_step_voc336"];

    /// <summary>
    /// ViT shapes are activations [tokens, in] times a weight [out, in] transposed, as a linear layer
    /// computes them: 197 tokens at 224 px, 442 at 336 px.
    /// </summary>
    public static ICompareCase Create(string name) => name switch
    {
        "sgemm_2048" => new SgemmCase(2048, 2048, 2048, weightLayout: false),
        "sgemm_vit224_qkv" => new SgemmCase(197, 2304, 768, weightLayout: true),
        "sgemm_vit224_fc1" => new SgemmCase(197, 3072, 768, weightLayout: true),
        "sgemm_vit224_fc2" => new SgemmCase(197, 768, 3072, weightLayout: true),
        "sgemm_vit336_qkv" => new SgemmCase(442, 2304, 768, weightLayout: true),
        "sgemm_vit336_fc1" => new SgemmCase(442, 3072, 768, weightLayout: true),
        "sgemm_vit336_fc2" => new SgemmCase(442, 768, 3072, weightLayout: true),
        "linear_vit224_qkv" => new LinearCase(197, 2304, 768),
        "linear_vit224_fc1" => new LinearCase(197, 3072, 768),
        "linear_vit224_fc2" => new LinearCase(197, 768, 3072),
        "vit224_b1" => ClipCases.DenseImage(224),
        "vit336_b1" => ClipCases.DenseImage(336),
        "vit448_b1" => ClipCases.DenseImage(448),
        "text20" => ClipCases.Text(20),
        "text171" => ClipCases.Text(171),
        "refprompt20_prefix" => ClipCases.ReferencePrompt(20),
        "train_step_voc336" => new TrainStepCase(),
        _ => throw new ArgumentException($"unknown case '{name}'; known: {string.Join(", ", Names)}"),
    };
}
