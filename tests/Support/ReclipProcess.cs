using System.Diagnostics;

namespace ReClip.Tests.Support;

/// <summary>Runs the built `reclip` command as a separate process, so exit codes and stderr are tested as users see them.</summary>
public static class ReclipProcess
{
    /// <summary>The exit code, the output, and the highest resident set size sampled while it ran (0 if it exited before the first sample).</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr, long PeakWorkingSet);

    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    /// <summary>Linux keeps the high-water mark (VmHWM) that PeakWorkingSet64 reads, so sampling every few ms misses at most the last few ms.</summary>
    private const int SampleMilliseconds = 5;

    public static Result Run(params string[] arguments) => Run(new Dictionary<string, string>(), arguments);

    /// <summary>Runs with <paramref name="environment"/> added to this process's environment (e.g. a cache folder of the test's own).</summary>
    public static Result Run(IReadOnlyDictionary<string, string> environment, params string[] arguments) => Launch([], environment, arguments);

    /// <summary>Runs with the process's address space capped (util-linux `prlimit --as`), so large allocations fail as they would on a small machine.</summary>
    public static Result RunWithAddressSpaceLimit(long bytes, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        Launch(["prlimit", $"--as={bytes}"], environment, arguments);

    /// <summary>
    /// How the CLI starts: `dotnet reclip.dll` beside a built test assembly; its own host where the tests were published
    /// self-contained with it (tools/gpu/prepare.sh, for a machine without .NET), the runtime in the same folder.
    /// </summary>
    private static string[] CliCommand =>
        File.Exists(Path.Combine(AppContext.BaseDirectory, "libcoreclr.so"))
            ? [Path.Combine(AppContext.BaseDirectory, "reclip")]
            : ["dotnet", Path.Combine(AppContext.BaseDirectory, "reclip.dll")];

    /// <summary>
    /// Starts the CLI with its arguments, behind <paramref name="prefix"/> (a wrapper command, or none), its output and
    /// errors redirected for the caller to drain, <paramref name="environment"/> added to this process's.
    /// </summary>
    public static Process Start(IReadOnlyDictionary<string, string> environment, string[] arguments, params string[] prefix)
    {
        string[] command = [.. prefix, .. CliCommand, .. arguments];
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach ((string name, string value) in environment)
            start.Environment[name] = value;
        foreach (string part in command.Skip(1))
            start.ArgumentList.Add(part);
        return Process.Start(start) ?? throw new InvalidOperationException($"could not start {command[0]}");
    }

    /// <summary>Runs the CLI to its end (see <see cref="Start"/>), sampling its memory.</summary>
    private static Result Launch(string[] prefix, IReadOnlyDictionary<string, string> environment, string[] arguments)
    {
        using Process process = Start(environment, arguments, prefix);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        long peak = 0;
        var clock = Stopwatch.StartNew();
        while (!process.WaitForExit(SampleMilliseconds))
        {
            if (clock.Elapsed > Limit)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"reclip {string.Join(' ', arguments)} did not finish within {Limit}");
            }
            try
            {
                process.Refresh();
                peak = Math.Max(peak, process.PeakWorkingSet64);
            }
            catch (InvalidOperationException)
            {
                // It exited between the wait and the sample.
            }
        }
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result, peak);
    }
}
