using System.Diagnostics;
using System.Globalization;

namespace ReClip.Tests.Support;

/// <summary>Ctrl-C for a child process: SIGINT sent with `kill`, as a terminal sends it to the foreground process.</summary>
public static class Interrupt
{
    private const int SigInt = 2;

    /// <summary>
    /// Skips the test where this process ignores SIGINT: a shell without job control starts background jobs with SIGINT
    /// ignored, and children inherit that, so the signal would never reach the process under test, which would run to its end.
    /// </summary>
    public static void RequireDeliverable()
    {
        if (Ignored(SigInt))
            Assert.Ignore("SIGINT is ignored in this process (started as a background job?); the child would inherit it");
    }

    public static void Send(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        using Process signal = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]) ?? throw new InvalidOperationException("could not start kill");
        signal.WaitForExit();
    }

    /// <summary>Whether this process ignores signal <paramref name="number"/> (the SigIgn mask of /proc/self/status; false where there is none).</summary>
    private static bool Ignored(int number)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
            return false;
        string? line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null
            && (ulong.Parse(line["SigIgn:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << (number - 1))) != 0;
    }
}
