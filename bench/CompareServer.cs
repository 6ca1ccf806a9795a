using System.Diagnostics;
using System.Globalization;

namespace ReClip.Bench;

/// <summary>
/// The side of bench/compare.py that runs our workloads. Reads lines "CASE REPEATS [WARMUP]" and answers with the
/// milliseconds of each repeat, space separated, after setting the case up once (first use) and warming it up (WARMUP
/// calls, by default the case's own count, for at least <see cref="SettleTime"/>); "peak" answers with this process's
/// peak resident MiB since the last case was set up. compare.py alternates rounds between this process and the PyTorch
/// peer, so both see the same machine state.
/// </summary>
public static class CompareServer
{
    /// <summary>
    /// The least time a case warms up for. The runtime recompiles a hot method with full optimisation on a background
    /// thread, about 100 ms after its first 30 calls; a light case's warm-up calls take a few milliseconds, so without
    /// this its first rounds timed the first tier's code (block224_quickgelu read 0.29–0.30 ms where its steady state was 0.23).
    /// </summary>
    private static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(0.5);

    public static int Serve(TextReader input, TextWriter output)
    {
        var cases = new Dictionary<string, ICompareCase>();
        output.WriteLine("ready " + string.Join(' ', CompareCases.Names));
        output.Flush();
        while (input.ReadLine() is { } line)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0) continue;
            if (words[0] == "quit") break;
            if (words[0] == "peak")
            {
                output.WriteLine("ok " + PeakMemory.Mebibytes().ToString("F1", CultureInfo.InvariantCulture));
                output.Flush();
                continue;
            }
            try
            {
                int repeats = words.Length > 1 ? int.Parse(words[1], CultureInfo.InvariantCulture) : 5;
                if (!cases.TryGetValue(words[0], out ICompareCase? workload))
                {
                    PeakMemory.Reset();
                    workload = CompareCases.Create(words[0]);
                    cases[words[0]] = workload;
                    int warmup = words.Length > 2 ? int.Parse(words[2], CultureInfo.InvariantCulture) : workload.WarmupCalls;
                    long warmupStart = Stopwatch.GetTimestamp();
                    for (int i = 0; i < warmup || (warmup > 0 && Stopwatch.GetElapsedTime(warmupStart) < SettleTime); i++)
                        workload.Run();
                }
                var times = new List<string>();
                for (int i = 0; i < repeats; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    workload.Run();
                    times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds.ToString("F4", CultureInfo.InvariantCulture));
                }
                output.WriteLine("ok " + string.Join(' ', times));
            }
            catch (Exception e) when (e is ArgumentException or FormatException)
            {
                output.WriteLine("error " + e.Message.ReplaceLineEndings(" "));
            }
            output.Flush();
        }
        return 0;
    }
}
