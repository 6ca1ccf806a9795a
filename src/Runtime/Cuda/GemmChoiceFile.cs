using System.Globalization;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// The GEMM algorithms that tuning chose (<see cref="CublasLt.Tuning"/>), kept on disk so that later runs on the same
/// card and library take the same ones: the same bits from run to run, and no timing again. A choice is the position of
/// the chosen algorithm in the heuristic's list of candidates for the shape, which the heuristic gives in the same order
/// for the same card, library version and problem; no opaque algorithm structure is stored. One line per choice: card,
/// cuBLASLt version, the problem, the position, tab-separated. Like the kernel cache (which it lives beside) it is an
/// optimisation: lines it cannot read are passed over, and a file it cannot write costs a timing next run.
/// </summary>
internal sealed class GemmChoiceFile(string path)
{
    private readonly Lock gate = new();
    private Dictionary<string, int>? choices;

    /// <summary>The file beside the compiled kernels (<see cref="KernelCache.Directory"/>).</summary>
    public static GemmChoiceFile Default { get; } = new(Path.Combine(KernelCache.Directory, "gemm-choices.tsv"));

    public string Location { get; } = path;

    /// <summary>The position kept for <paramref name="problem"/> on <paramref name="card"/> with cuBLASLt <paramref name="library"/>, or null.</summary>
    public int? Find(string card, string library, string problem)
    {
        lock (gate)
            return Choices().TryGetValue(Line(card, library, problem), out int position) ? position : null;
    }

    /// <summary>Keeps <paramref name="position"/> for the problem, rewriting the file whole (atomically) with every choice it holds.</summary>
    public void Keep(string card, string library, string problem, int position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        lock (gate)
        {
            Dictionary<string, int> known = Choices();
            known[Line(card, library, problem)] = position;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(Location))!);
                IO.AtomicFile.WriteAllText(Location, string.Concat(known.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => $"{pair.Key}\t{pair.Value.ToString(CultureInfo.InvariantCulture)}\n")));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (KernelCache.Debug) Console.Error.WriteLine($"--- GEMM choices not written to {Location}: {e.Message}");
            }
        }
    }

    /// <summary>The choice's line without its position: tabs and line breaks in the parts would split it, so they become spaces.</summary>
    private static string Line(string card, string library, string problem) =>
        string.Join('\t', new[] { card, library, problem }.Select(part => part.Replace('\t', ' ').Replace('\n', ' ').Replace('\r', ' ')));

    /// <summary>The file's choices, read once (under the lock); a line without four fields or a position is passed over.</summary>
    private Dictionary<string, int> Choices()
    {
        if (choices is not null)
            return choices;
        choices = new Dictionary<string, int>(StringComparer.Ordinal);
        string[] lines;
        try
        {
            lines = File.Exists(Location) ? File.ReadAllLines(Location) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lines = [];
        }
        foreach (string line in lines)
        {
            int last = line.LastIndexOf('\t');
            if (last > 0 && line[..last].Count(c => c == '\t') == 2
                && int.TryParse(line[(last + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int position))
                choices[line[..last]] = position;
        }
        return choices;
    }
}
