using System.Globalization;

namespace ReClip.Model.Sharding;

/// <summary>
/// Shard i of n of a split's samples, for runs spread over processes or machines. The shard is the contiguous block
/// [⌊i·N/n⌋, ⌊(i+1)·N/n⌋) of the N samples in the dataset's own order (the split list's order, or file names sorted
/// ordinally for the folder layouts), so it depends on nothing but that list. Contiguous blocks rather than every
/// n-th sample: the merged hypothesis file is then the shards' lines concatenated in index order, a shard's partial
/// file reads as a slice of the whole, and the block sizes still differ by at most one image.
/// </summary>
public readonly record struct DatasetShard
{
    public DatasetShard(int index, int count)
    {
        if (count < 1 || index < 0 || index >= count)
            throw new ArgumentOutOfRangeException(nameof(index), $"shard {index}/{count}: needs n ≥ 1 and 0 ≤ i < n");
        Index = index;
        Count = count;
    }

    /// <summary>The 0-based index i.</summary>
    public int Index { get; }

    /// <summary>The number of shards n.</summary>
    public int Count { get; }

    /// <summary>Parses "i/n" (0-based i, 0 ≤ i &lt; n); null with the reason when the text is not such a pair.</summary>
    public static DatasetShard? TryParse(string text, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split('/');
        error = null;
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count))
        {
            if (count >= 1 && index < count)
                return new DatasetShard(index, count);
            error = $"'{text}': the shard index i must satisfy 0 ≤ i < n (0-based), and n ≥ 1";
            return null;
        }
        error = $"'{text}' is not i/n (shard i of n, 0-based, e.g. 0/4)";
        return null;
    }

    /// <summary>The first sample and the number of samples of this shard among <paramref name="samples"/>.</summary>
    public (int First, int Length) Block(int samples)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(samples);
        if (Count > samples)
            throw new ArgumentException($"--shard {this}: the split has only {samples} images, so at most {samples} shards");
        int first = (int)((long)Index * samples / Count), end = (int)((long)(Index + 1) * samples / Count);
        return (first, end - first);
    }

    /// <summary>This shard's samples, in their order.</summary>
    public IReadOnlyList<T> Of<T>(IReadOnlyList<T> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        (int first, int length) = Block(samples.Count);
        var part = new T[length];
        for (int i = 0; i < length; i++)
            part[i] = samples[first + i];
        return part;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Index}/{Count}");
}
