using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Weights;

/// <summary>One tensor as a weight file declares it.</summary>
public sealed record WeightEntry(string Name, DType DType, int[] Shape)
{
    public long ElementCount => Tensors.Shape.ElementCount(Shape);
}

/// <summary>
/// A file of named tensors (safetensors, PyTorch checkpoint). Opening validates the whole index;
/// <see cref="Load"/> returns a CPU tensor the caller disposes (zero-copy where the format allows).
/// </summary>
public interface IWeightFile : IDisposable
{
    string Path { get; }

    IReadOnlyList<WeightEntry> Entries { get; }

    bool Contains(string name);

    Tensor Load(string name);

    /// <summary>
    /// Checks all of the file's content against the checksums it records and says what that covered ("the CRC-32 of 214
    /// zip entries"), or null when it records none. A mismatch throws <see cref="WeightFileException"/>.
    /// </summary>
    string? VerifyChecksums();
}
