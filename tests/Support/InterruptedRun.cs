using System.Diagnostics;

namespace ReClip.Tests.Support;

/// <summary>A CLI run stopped by Ctrl-C once it has shown progress, and the dataset of many image names that keeps it busy meanwhile.</summary>
public static class InterruptedRun
{
    /// <summary>
    /// Starts the CLI, waits for its first stderr line starting with <paramref name="progress"/>, sends SIGINT and waits
    /// for the end: the exit code and what it wrote to stderr after the signal.
    /// </summary>
    public static (int ExitCode, string Stderr) Of(IReadOnlyDictionary<string, string> environment, string[] arguments, string progress)
    {
        Interrupt.RequireDeliverable();
        using Process process = ReclipProcess.Start(environment, arguments);
        _ = process.StandardOutput.ReadToEndAsync();
        try
        {
            WaitForLine(process, progress);
            Interrupt.Send(process);
            string rest = process.StandardError.ReadToEnd();
            Assert.That(process.WaitForExit(60_000), Is.True, "stopped after the signal");
            return (process.ExitCode, rest);
        }
        finally
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
        }
    }

    /// <summary>Reads <paramref name="process"/>'s stderr up to its first line starting with <paramref name="prefix"/>, which must come before it ends.</summary>
    public static void WaitForLine(Process process, string prefix)
    {
        ArgumentNullException.ThrowIfNull(process);
        var seen = new System.Text.StringBuilder();
        string? line;
        while ((line = process.StandardError.ReadLine()) is not null && !line.StartsWith(prefix, StringComparison.Ordinal))
            seen.AppendLine(line);
        Assert.That(line, Is.Not.Null, $"no line starting '{prefix}' before the process ended: {seen}");
    }

    /// <summary>
    /// A folder-layout dataset at <paramref name="root"/> whose <paramref name="count"/> images (and labels, when the source
    /// has them) are links to the first of <paramref name="source"/>'s: far more work than a signal takes to arrive, in no space.
    /// </summary>
    public static void LinkedDataset(string source, string root, int count)
    {
        Directory.CreateDirectory(root);
        File.Copy(Path.Combine(source, "classes.txt"), Path.Combine(root, "classes.txt"));
        foreach (string part in new[] { "images", "labels" }.Where(p => Directory.Exists(Path.Combine(source, p))))
        {
            Directory.CreateDirectory(Path.Combine(root, part));
            string first = Directory.GetFiles(Path.Combine(source, part), "0*.png").Order(StringComparer.Ordinal).First();
            for (int i = 0; i < count; i++)
                File.CreateSymbolicLink(Path.Combine(root, part, $"{i:D6}.png"), first);
        }
    }
}
