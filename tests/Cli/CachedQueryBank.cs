using ReClip.Model.Benchmarks;
using ReClip.Model.Clip;
using ReClip.Model.ReClip;
using ReClip.Runtime.IO;
using ReClip.Runtime.Tensors;
using ReClip.Tests.Model;

namespace ReClip.Tests.Cli;

/// <summary>
/// The tiny test CLIP has a 300-token vocabulary and 16 positions, so it cannot encode the 85 templates with OpenAI's
/// BPE; the commands find its Query bank in the disk cache instead, written here with random unit rows under the keys
/// the commands compute (the built-in vocabulary; the CPU, or cuda:0, which they pick where a GPU is usable).
/// </summary>
internal static class CachedQueryBank
{
    public const int Embed = 64;

    /// <summary>Stores a bank for the fixture weights and <paramref name="names"/> under <paramref name="cacheRoot"/> (as RECLIP_CACHE).</summary>
    public static void Store(string cacheRoot, IReadOnlyList<string> names, int seed = 1) =>
        Store(cacheRoot, ClipFixture.PathOf("weights_openai.safetensors"), Embed, names, seed);

    /// <summary>Stores a bank of width <paramref name="embed"/> for <paramref name="weights"/> (any CLIP, e.g. the bundled tiny one, to skip its text tower).</summary>
    public static void Store(string cacheRoot, string weights, int embed, IReadOnlyList<string> names, int seed = 1)
    {
        using Tensor bank = RandomInputs.UnitRows(names.Count, embed, seed);
        foreach (Device device in new[] { Device.Cpu, Device.Cuda(0) })
        {
            string computation = QueryBankCache.Computation(ClipTokenizer.Default, device);
            QueryBankCache.Store(QueryBankCache.FileFor(weights, names, computation, Path.Combine(cacheRoot, "query")), bank, names);
        }
    }

    public static Dictionary<string, string> Environment(string cacheRoot) => new() { [CacheFolders.Variable] = cacheRoot };
}
