namespace ReClip.Runtime.Cuda;

/// <summary>The GPU time of one kernel (or cuBLAS call) name over a profiled region: how often it ran and for how long in all.</summary>
public sealed record KernelTime(string Name, int Calls, double Milliseconds);

/// <summary>
/// Per-kernel GPU time of the work queued while a profile is open: every kernel launch and cuBLAS call is
/// bracketed by two CUDA events on its stream, and <see cref="Stop"/> reads the pairs after the work has
/// finished. The events add a few microseconds per launch, so a profile says where the time goes, not
/// how fast the whole runs; that is what the benchmarks measure, with no profile open. One at a time.
/// </summary>
public sealed class KernelProfile : IDisposable
{
    private static KernelProfile? open;
    private readonly int device;
    private readonly List<(string Name, nint Start, nint End)> spans = [];
    private bool stopped;

    private KernelProfile(int device) => this.device = device;

    /// <summary>Starts profiling the work queued on <paramref name="device"/> from now on.</summary>
    public static KernelProfile Start(int device)
    {
        var profile = new KernelProfile(device);
        if (Interlocked.CompareExchange(ref open, profile, null) is not null)
            throw new InvalidOperationException("a kernel profile is open already; stop it first");
        return profile;
    }

    /// <summary>Waits for the profiled work, and returns the time per name, the most expensive first.</summary>
    public IReadOnlyList<KernelTime> Stop()
    {
        Close();
        CudaDriver.Synchronize(device);
        var totals = new Dictionary<string, (int Calls, double Milliseconds)>();
        foreach ((string name, nint start, nint end) in spans)
        {
            CudaDriver.Check(DriverApi.cuEventElapsedTime(out float milliseconds, start, end), "cuEventElapsedTime");
            (int calls, double sum) = totals.GetValueOrDefault(name);
            totals[name] = (calls + 1, sum + milliseconds);
        }
        return [.. totals.Select(t => new KernelTime(t.Key, t.Value.Calls, t.Value.Milliseconds)).OrderByDescending(t => t.Milliseconds)];
    }

    public void Dispose()
    {
        Close();
        if (spans.Count == 0)
            return;
        CudaDriver.MakeCurrent(device);
        foreach ((_, nint start, nint end) in spans)
        {
            DriverApi.cuEventDestroy(start);
            DriverApi.cuEventDestroy(end);
        }
        spans.Clear();
    }

    /// <summary>Whether a profile is open: callers that build a name for <see cref="Time"/> ask first, to build none otherwise.</summary>
    internal static bool IsOpen => open is not null;

    /// <summary>Brackets one launch on <paramref name="stream"/> when a profile of its device is open; otherwise does nothing.</summary>
    internal static Bracket Time(int device, nint stream, string name) =>
        open is { stopped: false } profile && profile.device == device ? new Bracket(profile, name, Record(stream), stream) : default;

    private static nint Record(nint stream)
    {
        CudaDriver.Check(DriverApi.cuEventCreate(out nint handle, 0), "cuEventCreate");
        CudaDriver.Check(DriverApi.cuEventRecord(handle, stream), "cuEventRecord");
        return handle;
    }

    private void Close()
    {
        stopped = true;
        Interlocked.CompareExchange(ref open, null, this);
    }

    /// <summary>One bracketed launch: records the closing event when disposed.</summary>
    internal readonly struct Bracket(KernelProfile? profile, string name, nint start, nint stream) : IDisposable
    {
        public void Dispose() => profile?.spans.Add((name, start, Record(stream)));
    }
}
