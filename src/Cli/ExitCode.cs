namespace ReClip.Cli;

/// <summary>The process exit codes of `reclip`, as documented in the README.</summary>
public static class ExitCode
{
    public const int Success = 0;
    public const int BadInput = 1;
    public const int RuntimeFailure = 2;
    public const int Interrupted = 130;
}
