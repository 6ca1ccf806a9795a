using System.Text.Json;
using ReClip.Runtime.Tensors;

namespace ReClip.Tests.Runtime;

/// <summary>One tensor as tools/reference/make_checkpoints.py recorded it: raw bits for floating dtypes, values for integers.</summary>
internal sealed record ExpectedTensor(string Name, string DType, int[] Shape, long[]? Bits, long[]? Values)
{
    public long[] Elements => Bits ?? Values ?? throw new InvalidDataException($"expected.json: tensor '{Name}' has neither bits nor values");
}

internal sealed record ExpectedCheckpoint(string File, ExpectedTensor[] Tensors);

/// <summary>A malicious checkpoint, the global its pickle reaches, and the file its payload would create.</summary>
internal sealed record MaliciousCheckpoint(string File, string Global, string Marker);

internal sealed record TorchFixtureIndex(string Torch, ExpectedCheckpoint[] Checkpoints, MaliciousCheckpoint[] Malicious);

/// <summary>The fixtures under tests/fixtures/torch (written by tools/reference/make_checkpoints.py) and their expected.json.</summary>
internal static class TorchFixtures
{
    private static readonly Lazy<TorchFixtureIndex> LazyIndex = new(() =>
        JsonSerializer.Deserialize<TorchFixtureIndex>(File.ReadAllText(PathOf("expected.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })
        ?? throw new InvalidDataException("expected.json is empty"));

    public static TorchFixtureIndex Index => LazyIndex.Value;

    public static string PathOf(string file) => Path.Combine(AppContext.BaseDirectory, "fixtures", "torch", file);

    public static ExpectedCheckpoint Checkpoint(string file) => Index.Checkpoints.Single(c => c.File == file);

    /// <summary>The tensor's elements in the form expected.json records them: bit patterns for floats, values for integers.</summary>
    public static long[] Elements(Tensor tensor) => tensor.DType switch
    {
        DType.F32 => [.. tensor.AsSpan<float>().ToArray().Select(v => (long)BitConverter.SingleToUInt32Bits(v))],
        DType.F16 => [.. tensor.AsSpan<Half>().ToArray().Select(v => (long)BitConverter.HalfToUInt16Bits(v))],
        DType.BF16 => [.. tensor.AsSpan<BFloat16>().ToArray().Select(v => (long)v.Bits)],
        DType.I32 => [.. tensor.AsSpan<int>().ToArray().Select(v => (long)v)],
        DType.U8 => [.. tensor.AsSpan<byte>().ToArray().Select(v => (long)v)],
        _ => throw new ArgumentOutOfRangeException(nameof(tensor), tensor.DType, "no expected form for this dtype"),
    };
}
