using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Support;

/// <summary>
/// The raw bytes of every tensor of a safetensors file in name order: two runs that must agree bit for bit compare these;
/// and, for runs that agree up to rounding, how far each tensor of one file lies from the other's.
/// </summary>
public static class CheckpointTensors
{
    /// <summary>Per tensor of <paramref name="expectedPath"/>: the largest |difference| from the same tensor of <paramref name="actualPath"/>, and the largest |value| of the expected one.</summary>
    public static IReadOnlyList<(string Name, double Difference, double Scale)> Differences(string expectedPath, string actualPath)
    {
        using var expected = SafetensorsFile.Open(expectedPath);
        using var actual = SafetensorsFile.Open(actualPath);
        var differences = new List<(string, double, double)>();
        foreach (WeightEntry entry in expected.Entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            using Tensor x = expected.Load(entry.Name), y = actual.Load(entry.Name);
            float[] a = x.ToFloatArray(), b = y.ToFloatArray();
            differences.Add((entry.Name, a.Zip(b, (p, q) => Math.Abs((double)p - q)).DefaultIfEmpty().Max(), a.Select(v => Math.Abs((double)v)).DefaultIfEmpty().Max()));
        }
        return differences;
    }

    public static byte[] Bytes(string path)
    {
        using var file = SafetensorsFile.Open(path);
        var bytes = new List<byte>();
        foreach (WeightEntry entry in file.Entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            using Tensor tensor = file.Load(entry.Name);
            foreach (float value in tensor.AsSpan<float>())
                bytes.AddRange(BitConverter.GetBytes(value));
        }
        return [.. bytes];
    }
}
