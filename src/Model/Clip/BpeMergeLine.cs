namespace ReClip.Model.Clip;

/// <summary>
/// One line of a merges list: two symbols separated by one space ("t h", "th e&lt;/w&gt;"), with the 1-based line
/// number in its file for error messages. Both vocabulary formats store merges this way, best-ranked first.
/// </summary>
internal readonly record struct BpeMergeLine(string First, string Second, int LineNumber)
{
    /// <summary>
    /// The merges of a file's text, at most <paramref name="limit"/>. Line 1 is a header ("#version: 0.2") that
    /// OpenAI's and Hugging Face's CLIP tokenizers skip without reading, and so does this.
    /// </summary>
    public static List<BpeMergeLine> ParseAll(string text, string source, int limit = int.MaxValue)
    {
        var merges = new List<BpeMergeLine>();
        ReadOnlySpan<char> lines = text.AsSpan().TrimEnd("\r\n");
        int lineNumber = 0;
        foreach (Range line in lines.Split('\n'))
        {
            if (++lineNumber == 1)
                continue;
            if (merges.Count == limit)
                break;
            merges.Add(Parse(lines[line], lineNumber, source));
        }
        return merges;
    }

    private static BpeMergeLine Parse(ReadOnlySpan<char> line, int lineNumber, string source)
    {
        line = line.TrimEnd('\r');
        int space = line.IndexOf(' ');
        bool twoSymbols = space > 0 && space < line.Length - 1 && line[(space + 1)..].IndexOf(' ') < 0;
        if (!twoSymbols)
            throw new InvalidDataException($"{source} line {lineNumber}: a merge must be two symbols separated by one space, found \"{line}\"");
        return new BpeMergeLine(line[..space].ToString(), line[(space + 1)..].ToString(), lineNumber);
    }
}
