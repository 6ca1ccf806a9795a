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

    /// <summary>
    /// Writes the safetensors file at <paramref name="path"/> anew with its metadata edited by <paramref name="edit"/> and only
    /// the tensors <paramref name="keep"/> accepts: a checkpoint damaged in a chosen way.
    /// </summary>
    public static void Rewrite(string path, Action<Dictionary<string, string>> edit, Func<string, bool> keep)
    {
        Dictionary<string, string> metadata;
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            using (var file = SafetensorsFile.Open(path))
            {
                metadata = new Dictionary<string, string>(file.Metadata);
                foreach (WeightEntry entry in file.Entries.Where(e => keep(e.Name)))
                {
                    using Tensor mapped = file.Load(entry.Name);
                    tensors.Add(KeyValuePair.Create(entry.Name, mapped.Clone()));
                }
            }
            edit(metadata);
            SafetensorsWriter.Write(path, tensors, metadata);
        }
        finally
        {
            foreach ((_, Tensor tensor) in tensors) tensor.Dispose();
        }
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
