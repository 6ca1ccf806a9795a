namespace ReClip.Cli;

/// <summary>What a command says when Ctrl-C stops it before it wrote its output: one line on stderr, and exit code 130.</summary>
internal static class Interruption
{
    public static int NothingWritten(string? output)
    {
        Console.Error.WriteLine(output is null ? "reclip: interrupted" : $"reclip: interrupted; nothing was written to {Path.GetFullPath(output)}");
        return ExitCode.Interrupted;
    }
}
