using ReClip.Runtime.Tensors;
using ReClip.Runtime.Weights;

namespace ReClip.Tests.Support;

/// <summary>The raw bytes of every tensor of a safetensors file in name order: two runs that must agree bit for bit compare these.</summary>
public static class CheckpointTensors
{
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
