namespace ReClip.Runtime.IO;

/// <summary>Where reclip keeps what it can rebuild (Query banks, the demo's generated world): one root, a folder per kind.</summary>
public static class CacheFolders
{
    public const string Variable = "RECLIP_CACHE";

    /// <summary>$RECLIP_CACHE, else $XDG_CACHE_HOME/reclip, else ~/.cache/reclip.</summary>
    public static string Root =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } configured ? configured
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "reclip");

    public static string Of(string kind) => Path.Combine(Root, kind);
}
