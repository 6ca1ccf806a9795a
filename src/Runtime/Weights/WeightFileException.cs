namespace ReClip.Runtime.Weights;

/// <summary>
/// A weight file is unreadable, malformed or unsafe. The message is one line: the file, the tensor or
/// record when there is one, and the problem.
/// </summary>
public sealed class WeightFileException : Exception
{
    public WeightFileException(string path, string problem, string? tensorName = null, Exception? inner = null)
        : base(Compose(path, problem, tensorName), inner)
    {
        FilePath = path;
        TensorName = tensorName;
        Problem = problem;
    }

    public string FilePath { get; }

    public string? TensorName { get; }

    public string Problem { get; }

    private static string Compose(string path, string problem, string? tensorName) =>
        OneLine(tensorName is null ? $"{path}: {problem}" : $"{path}: tensor '{tensorName}': {problem}");

    /// <summary>Names come from the file itself; a control character in one must not break the message into lines.</summary>
    private static string OneLine(string text)
    {
        if (!text.Any(char.IsControl))
            return text;
        var builder = new System.Text.StringBuilder(text.Length + 8);
        foreach (char c in text)
            builder.Append(char.IsControl(c) ? $"\\u{(int)c:x4}" : c);
        return builder.ToString();
    }
}
