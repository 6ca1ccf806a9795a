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
        tensorName is null ? $"{path}: {problem}" : $"{path}: tensor '{tensorName}': {problem}";
}
