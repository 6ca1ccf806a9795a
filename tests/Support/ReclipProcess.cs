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
    public static Result Run(IReadOnlyDictionary<string, string> environment, params string[] arguments) => Launch(["dotnet"], environment, arguments);

    /// <summary>Runs with the process's address space capped (util-linux `prlimit --as`), so large allocations fail as they would on a small machine.</summary>
    public static Result RunWithAddressSpaceLimit(long bytes, IReadOnlyDictionary<string, string> environment, params string[] arguments) =>
        Launch(["prlimit", $"--as={bytes}", "dotnet"], environment, arguments);

    /// <summary>Starts <paramref name="command"/> (ending in `dotnet`) with the CLI and its arguments appended.</summary>
    private static Result Launch(string[] command, IReadOnlyDictionary<string, string> environment, string[] arguments)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "reclip.dll");
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach ((string name, string value) in environment)
            start.Environment[name] = value;
        foreach (string part in command.Skip(1))
            start.ArgumentList.Add(part);
        start.ArgumentList.Add(cli);
        foreach (string argument in arguments)
            start.ArgumentList.Add(argument);
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet");
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
