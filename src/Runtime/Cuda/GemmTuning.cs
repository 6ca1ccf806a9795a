using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// Picks the fastest of a GEMM's candidate algorithms by running each on the device (<see cref="CublasLt.Tuning"/>).
/// A product of a few hundred rows takes a few microseconds, about what the host needs to queue one, so products queued
/// one by one would time the host: each candidate's <see cref="Repeats"/> products are captured into a CUDA graph, and
/// a replay of it is timed between two events, on a stream of the tuning's own. The runs write a scratch output, not
/// the caller's, whose C a product added to (beta 1) must be read once only; the inputs are the caller's, read as they
/// are (their values do not change the time). An algorithm the library refuses for these operands is passed over.
/// </summary>
internal static class GemmTuning
{
    private const int Repeats = 20;

    /// <summary>
    /// The position of the candidate of least time, the first's when none ran. <paramref name="run"/> queues one product
    /// with an algorithm into the output at the given address on the given stream and returns cuBLASLt's status. Waits
    /// for the device: not for a capture.
    /// </summary>
    public static int Fastest(int device, IReadOnlyList<ulong[]> candidates, long outputBytes, Func<ulong[], ulong, nint, int> run)
    {
        if (candidates.Count == 1)
            return 0;
        CaptureStream.Refuse(device, "timing a GEMM's algorithms");
        DeviceStorage scratch = DeviceStorage.Allocate(Device.Cuda(device), outputBytes);
        try
        {
            // Everything queued so far has run, on every stream: the scratch's allocation (in the order of the stream the
            // caller queues to) and the GEMMs that last used this lane's workspace, which the tuning's products use now.
            CudaDriver.Synchronize(device);
            using CudaStream stream = CudaStream.CreateNonBlocking(device);
            try
            {
                return Fastest(candidates, algorithm => Time(algorithm, product => run(product, scratch.DevicePointer, stream.Handle), stream));
            }
            finally
            {
                // A candidate given up on may still be running: the workspace and the scratch are free only after it.
                stream.Synchronize();
            }
        }
        finally
        {
            scratch.Release();
        }
    }

    /// <summary>The position of the candidate whose <paramref name="milliseconds"/> is least; null times (it did not run) never win, and the first stands when none ran.</summary>
    internal static int Fastest(IReadOnlyList<ulong[]> candidates, Func<ulong[], double?> milliseconds)
    {
        int best = 0;
        double least = double.PositiveInfinity;
        for (int i = 0; i < candidates.Count; i++)
            if (milliseconds(candidates[i]) is double time && time < least)
                (best, least) = (i, time);
        return best;
    }

    /// <summary>Milliseconds per product of <paramref name="algorithm"/>, replayed from a graph; null when the library refuses it.</summary>
    private static double? Time(ulong[] algorithm, Func<ulong[], int> run, CudaStream stream)
    {
        if (run(algorithm) != 0)
            return null;
        int refused = 0;
        CudaGraph graph;
        try
        {
            graph = CudaGraph.Capture(stream, () =>
            {
                for (int i = 0; i < Repeats; i++)
                    refused |= run(algorithm);
            });
        }
        catch (CudaException)
        {
            return null;
        }
        using (graph)
        {
            if (refused != 0)
                return null;
            graph.Launch(stream);
            using var timer = new CudaTimer(stream);
            timer.Start();
            graph.Launch(stream);
            return timer.StopMilliseconds() / Repeats;
        }
    }
}
