namespace ReClip.Runtime.Weights;

/// <summary>
/// How the tensors of a safetensors file share its data section. The reference implementation
/// (safetensors' <c>Metadata::validate</c>) demands that they tile it exactly: sorted by offset, each
/// begins where the previous one ended and the last ends at the end of the file. We demand the same,
/// so a file we accept is one every other reader accepts; overlapping tensors would alias each other,
/// and bytes that belong to no tensor are either a truncated or hand-edited file or a place to hide data.
/// </summary>
internal static class SafetensorsLayout
{
    /// <summary>The entries sorted by data offset (header order among equal offsets), after checking that they tile the data section.</summary>
    public static IReadOnlyList<SafetensorsEntry> InDataOrder(string path, IEnumerable<SafetensorsEntry> entries, long dataLength)
    {
        List<SafetensorsEntry> ordered = [.. entries.OrderBy(e => e.DataBegin).ThenBy(e => e.DataEnd)];
        long covered = 0;
        SafetensorsEntry? last = null;
        foreach (SafetensorsEntry entry in ordered)
        {
            if (entry.DataBegin < covered)
                throw new WeightFileException(path, $"data_offsets [{entry.DataBegin}, {entry.DataEnd}] overlap tensor '{last!.Name}' at [{last.DataBegin}, {last.DataEnd}]", entry.Name);
            if (entry.DataBegin > covered)
                throw new WeightFileException(path, $"bytes [{covered}, {entry.DataBegin}) of the data section belong to no tensor; the format allows no gaps");
            if (entry.DataEnd > covered)
            {
                covered = entry.DataEnd;
                last = entry;
            }
        }
        if (covered != dataLength)
            throw new WeightFileException(path, $"the last {dataLength - covered} bytes of the {dataLength}-byte data section belong to no tensor");
        return ordered;
    }
}
