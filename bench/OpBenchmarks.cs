using BenchmarkDotNet.Attributes;
using ReClip.Kernels.Ops;
using ReClip.Runtime.Tensors;

namespace ReClip.Bench;

/// <summary>
/// The heavy non-GEMM ops at the shapes of one ViT-B/16 block at 224 px (197 tokens, width 768, 12 heads) and of
/// the ReCLIP++ decoder at VOC's 21×21 grid (spec §13). Run: dotnet run -c Release --project bench -- --filter *OpBenchmarks*
/// </summary>
[MemoryDiagnoser]
public class OpBenchmarks
{
    private const int Tokens = 197, Width = 768, Heads = 12, Hidden = 3072, Classes = 20, Grid = 21;

    private readonly List<Tensor> owned = [];
    private Tensor tokens = null!, gamma = null!, beta = null!, normalized = null!;
    private Tensor hidden = null!, activated = null!, scores = null!, probabilities = null!;
    private Tensor qkv = null!, attended = null!, decoderInput = null!, decoderWeight = null!, decoderBias = null!, logits = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(0);
        tokens = Filled(random, Tokens, Width);
        gamma = Filled(random, Width);
        beta = Filled(random, Width);
        normalized = Filled(random, Tokens, Width);
        hidden = Filled(random, Tokens, Hidden);
        activated = Filled(random, Tokens, Hidden);
        scores = Filled(random, Heads * Tokens, Tokens);
        probabilities = Filled(random, Heads * Tokens, Tokens);
        qkv = Filled(random, 1, Tokens, 3 * Width);
        attended = Filled(random, 1, Tokens, Width);
        decoderInput = Filled(random, 1, 512 + Classes, Grid, Grid);
        decoderWeight = Filled(random, Classes, 512 + Classes, 5, 5);
        decoderBias = Filled(random, Classes);
        logits = Filled(random, 1, Classes, Grid, Grid);
    }

    [Benchmark]
    public void LayerNorm197x768() => LayerNorm.Forward(tokens, gamma, beta, normalized, 1e-5f);

    [Benchmark]
    public void QuickGelu197x3072() => QuickGelu.Forward(hidden, activated);

    [Benchmark]
    public void Softmax12Heads197() => Softmax.Forward(scores, probabilities, 0.125f);

    [Benchmark]
    public void Attention197x12x64()
    {
        using Tensor q = qkv.Slice(2, 0, Width), k = qkv.Slice(2, Width, Width), v = qkv.Slice(2, 2 * Width, Width);
        Attention.Forward(q, k, v, attended, Heads, causal: false);
    }

    [Benchmark]
    public void DecoderConv5x5() => Conv2d.Forward(decoderInput, decoderWeight, decoderBias, logits);

    [GlobalCleanup]
    public void Cleanup() => owned.ForEach(t => t.Dispose());

    private Tensor Filled(Random random, params int[] shape)
    {
        Tensor t = Tensor.Empty(shape);
        foreach (ref float x in t.AsSpan<float>())
            x = (float)(random.NextDouble() * 2 - 1);
        owned.Add(t);
        return t;
    }
}
