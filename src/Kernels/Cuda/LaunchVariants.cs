using System.Collections.Concurrent;
using ReClip.Runtime.Cuda;
using ReClip.Runtime.Tensors;

namespace ReClip.Kernels.Cuda;

/// <summary>
/// Chooses among builds of one kernel that compute the same bits, each with its launch shape (launch bounds that let
/// ptxas fit another number of blocks on a multiprocessor, or blocks of another size), by timing them all the first time a
/// shape is launched outside a capture and keeping the fastest for that shape: which one wins depends on the card and
/// the grid, which no rule written here knows (the builds' equality is a test's on a GPU: AttentionBuildsTests). Within
/// a capture, before any timing, the first build runs; so it does while work runs beside the main stream
/// (<see cref="StreamFork"/>), which would share the card with the timing. The launches write their real outputs, which
/// must not alias their inputs, since each build runs more than once.
/// </summary>
internal static class LaunchVariants
{
    /// <summary>Timings of each build, in turn, after one launch each to warm them: the least of each counts.</summary>
    private const int Rounds = 3;

    /// <summary>Launches of one build between a timing's two events: queued back to back, they time the kernel, not the host's queueing of one launch.</summary>
    private const int Burst = 4;

    /// <summary>
    /// The driver's launch refusals that leave the context usable: CUDA_ERROR_INVALID_VALUE (a block too large, say),
    /// NO_BINARY_FOR_GPU, NOT_FOUND and LAUNCH_OUT_OF_RESOURCES. Any other status may be an earlier asynchronous fault that
    /// the launch reported, which every later call would report again: no build's to lose on.
    /// </summary>
    private static readonly int[] Refusals = [1, 209, 500, 701];

    private static readonly ConcurrentDictionary<(int Device, string Kernel, LaunchShape First, LaunchShape Last), int> chosen = new();

    /// <summary>
    /// Launches one of <paramref name="builds"/> through <paramref name="launch"/>: the one timed fastest for this shape (the
    /// first build's name and the first and last builds' shapes identify it), or the first.
    /// </summary>
    public static void Launch(int device, IReadOnlyList<(string Kernel, LaunchShape Shape)> builds, Action<string, LaunchShape> launch)
    {
        var key = (device, builds[0].Kernel, builds[0].Shape, builds[^1].Shape);
        if (chosen.TryGetValue(key, out int index))
        {
            launch(builds[index].Kernel, builds[index].Shape);
            return;
        }
        if (CudaGraph.Capturing(device) || StreamFork.IsOpen(Device.Cuda(device)))
        {
            launch(builds[0].Kernel, builds[0].Shape);
            return;
        }
        chosen[key] = Fastest(device, builds, launch);
    }

    /// <summary>
    /// The index of the fastest build by its least time over <see cref="Rounds"/> bursts, the earlier on a tie; all ran, to
    /// the same outputs. A build after the first that the driver will not launch (its resources, say) loses without a timing.
    /// </summary>
    private static int Fastest(int device, IReadOnlyList<(string Kernel, LaunchShape Shape)> builds, Action<string, LaunchShape> launch)
    {
        launch(builds[0].Kernel, builds[0].Shape);
        List<int> runnable = [0];
        for (int i = 1; i < builds.Count; i++)
        {
            try
            {
                launch(builds[i].Kernel, builds[i].Shape);
                runnable.Add(i);
            }
            catch (CudaException e) when (Refusals.Contains(e.Status))
            {
                // Not launchable on this device: it is not a candidate.
            }
        }
        if (runnable.Count == 1)
            return 0;
        double[] least = [.. builds.Select(_ => double.PositiveInfinity)];
        for (int round = 0; round < Rounds; round++)
            foreach (int i in runnable)
                least[i] = Math.Min(least[i], CudaTimer.Time(device, () =>
                {
                    for (int call = 0; call < Burst; call++)
                        launch(builds[i].Kernel, builds[i].Shape);
                }));
        return runnable.MinBy(i => least[i]);
    }
}
