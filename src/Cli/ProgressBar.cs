using System.Diagnostics;
using System.Globalization;

namespace ReClip.Cli;

/// <summary>
/// Progress of long work on stderr, so that stdout stays clean for tables and --json: one redrawn line with a
/// bar, the count, the rate and the time left on a terminal; on a redirected stderr, a plain line per tenth of the
/// work (a log should not fill with carriage returns).
/// </summary>
public sealed class ProgressBar : IDisposable
{
    private const int BarWidth = 28;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(200);
    private readonly string label;
    private readonly long total;
    private readonly bool interactive = !Console.IsErrorRedirected;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private TimeSpan lastDraw = TimeSpan.MinValue;
    private long done;
    private int lastTenth = -1;
    private string detail = "";

    /// <param name="label">What is being done ("hypothesis", "epoch 3/51").</param>
    /// <param name="total">How many items; at least 1.</param>
    /// <param name="quiet">True draws nothing (e.g. under --json when a caller wants silence).</param>
    public ProgressBar(string label, long total, bool quiet = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(total);
        this.label = label;
        this.total = total;
        Quiet = quiet;
    }

    public bool Quiet { get; }

    /// <summary>The time since the bar was created.</summary>
    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>Items per second so far.</summary>
    public double Rate => done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);

    /// <summary>Marks <paramref name="count"/> more items done; <paramref name="status"/> (e.g. "loss 0.41") is shown after the count.</summary>
    public void Advance(long count = 1, string? status = null)
    {
        done = Math.Min(total, done + count);
        if (status is not null) detail = status;
        if (Quiet) return;
        if (interactive)
        {
            if (done < total && clock.Elapsed - lastDraw < RedrawInterval) return;
            lastDraw = clock.Elapsed;
            Console.Error.Write("\r" + Line() + "\u001b[K");
            return;
        }
        int tenth = (int)(done * 10 / total);
        if (tenth == lastTenth) return;
        lastTenth = tenth;
        Console.Error.WriteLine(Line());
    }

    /// <summary>The bar's text: label, bar, count, rate, elapsed and remaining time, status.</summary>
    public string Line()
    {
        int filled = (int)(done * BarWidth / total);
        double rate = Rate;
        string left = done >= total || rate <= 0 ? "" : $" ETA {Clock(TimeSpan.FromSeconds((total - done) / rate))}";
        string bar = interactive ? $" [{new string('#', filled)}{new string('.', BarWidth - filled)}]" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{label}{bar} {done}/{total} {rate:0.0}/s {Clock(clock.Elapsed)}{left}{(detail.Length > 0 ? " " + detail : "")}");
    }

    public static string Clock(TimeSpan time) =>
        time.TotalHours >= 1 ? time.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : time.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    /// <summary>Ends the redrawn line on a terminal.</summary>
    public void Dispose()
    {
        if (!Quiet && interactive && lastDraw != TimeSpan.MinValue)
            Console.Error.WriteLine();
    }
}
