using ReClip.Runtime.Memory;
using ReClip.Runtime.Tensors;

namespace ReClip.Runtime.Cuda;

/// <summary>
/// Picks the fastest of a GEMM's candidate algorithms by running each on the device (<see cref="CublasLt.Tuning"/>):
/// one run to warm it, then <see cref="Repeats"/> between two events on the stream where the GEMM itself runs.
/// The runs write a scratch output, not the caller's, whose C a product added to (beta 1) must be read once only; the
/// inputs are the caller's, read as they are. An algorithm the library refuses for these operands is passed over.
/// </summary>
internal static class GemmTuning
{
    private const int Repeats = 10;

    /// <summary>
    /// The candidate of least time, the first when none ran. <paramref name="run"/> queues one product with an algorithm
    /// into the output at the given address and returns cuBLASLt's status. Waits for the device: not for a capture.
    /// </summary>
    public static ulong[] Fastest(int device, nint stream, IReadOnlyList<ulong[]> candidates, long outputBytes, Func<ulong[], ulong, int> run)
    {
        if (candidates.Count == 1)
            return candidates[0];
        CaptureStream.Refuse(device, "timing a GEMM's algorithms");
        DeviceStorage scratch = DeviceStorage.Allocate(Device.Cuda(device), outputBytes);
        nint start = 0, end = 0;
        try
        {
            CudaDriver.Check(DriverApi.cuEventCreate(out start, 0), "cuEventCreate");
            CudaDriver.Check(DriverApi.cuEventCreate(out end, 0), "cuEventCreate");
            return Fastest(candidates, algorithm => Time(algorithm, scratch.DevicePointer, run, stream, start, end));
        }
        finally
        {
            if (end != 0) CudaDriver.Check(DriverApi.cuEventDestroy(end), "cuEventDestroy");
            if (start != 0) CudaDriver.Check(DriverApi.cuEventDestroy(start), "cuEventDestroy");
            scratch.Release();
        }
    }

    /// <summary>The candidate whose <paramref name="milliseconds"/> is least; null times (it did not run) never win, and the first stands when none ran.</summary>
    internal static ulong[] Fastest(IReadOnlyList<ulong[]> candidates, Func<ulong[], double?> milliseconds)
    {
        ulong[] best = candidates[0];
        double least = double.PositiveInfinity;
        foreach (ulong[] candidate in candidates)
            if (milliseconds(candidate) is double time && time < least)
                (best, least) = (candidate, time);
        return best;
    }

    private static double? Time(ulong[] algorithm, ulong output, Func<ulong[], ulong, int> run, nint stream, nint start, nint end)
    {
        if (run(algorithm, output) != 0)
            return null;
        CudaDriver.Check(DriverApi.cuEventRecord(start, stream), "cuEventRecord");
        for (int i = 0; i < Repeats; i++)
            if (run(algorithm, output) != 0)
                return null;
        CudaDriver.Check(DriverApi.cuEventRecord(end, stream), "cuEventRecord");
        CudaDriver.Check(DriverApi.cuEventSynchronize(end), "cuEventSynchronize");
        CudaDriver.Check(DriverApi.cuEventElapsedTime(out float milliseconds, start, end), "cuEventElapsedTime");
        return milliseconds / Repeats;
    }
}
