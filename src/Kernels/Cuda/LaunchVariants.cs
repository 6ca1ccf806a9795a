using System.Collections.Concurrent;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Cuda;

/// <summary>
/// Chooses between two builds of one kernel that compute the same bits (launch bounds that let ptxas fit another number
/// of blocks on a multiprocessor) by timing both the first time a shape is launched outside a capture, and keeping the
/// faster for that shape: which one wins depends on the card and the grid, which no rule written here knows (the two
/// builds' equality is a test's on a GPU: AttentionBuildsTests). Within a
/// capture, before any timing, the first build runs; so it does while work runs beside the main stream
/// (<see cref="StreamFork"/>), which would share the card with the timing. The launches write their real outputs, which
/// must not alias their inputs, since each build runs more than once.
/// </summary>
internal static class LaunchVariants
{
    /// <summary>Timings of each build, alternating, after one launch each to warm them: the least of each counts.</summary>
    private const int Rounds = 3;

    /// <summary>Launches of one build between a timing's two events: queued back to back, they time the kernel, not the host's queueing of one launch.</summary>
    private const int Burst = 4;

    private static readonly ConcurrentDictionary<(int Device, string Kernel, LaunchShape Shape), string> chosen = new();

    /// <summary>Launches <paramref name="kernel"/> or <paramref name="alternative"/> through <paramref name="launch"/>, the one timed faster for this shape.</summary>
    public static void Launch(int device, string kernel, string alternative, LaunchShape shape, Action<string> launch)
    {
        var key = (device, kernel, shape);
        if (chosen.TryGetValue(key, out string? name))
        {
            launch(name);
            return;
        }
        if (CudaGraph.Capturing(device) || StreamFork.IsOpen(Device.Cuda(device)))
        {
            launch(kernel);
            return;
        }
        chosen[key] = Faster(device, kernel, alternative, launch);
    }

    /// <summary>
    /// The faster of the two by their least time over <see cref="Rounds"/> bursts, the first on a tie; both ran, to the same
    /// outputs. An alternative the driver will not launch (its resources, say) loses without a timing.
    /// </summary>
    private static string Faster(int device, string kernel, string alternative, Action<string> launch)
    {
        try
        {
            launch(alternative);
        }
        catch (CudaException)
        {
            launch(kernel);
            return kernel;
        }
        launch(kernel);
        double first = double.PositiveInfinity, second = double.PositiveInfinity;
        for (int round = 0; round < Rounds; round++)
        {
            second = Math.Min(second, CudaTimer.Time(device, () => Repeat(launch, alternative)));
            first = Math.Min(first, CudaTimer.Time(device, () => Repeat(launch, kernel)));
        }
        return first <= second ? kernel : alternative;
    }

    private static void Repeat(Action<string> launch, string name)
    {
        for (int i = 0; i < Burst; i++)
            launch(name);
    }
}
