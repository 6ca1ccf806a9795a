using ReClip.Runtime.Cuda;

namespace ReClip.Kernels.Cuda;

/// <summary>The launch layouts the op kernels share: grid-stride elementwise loops and one warp per row.</summary>
internal static class LaunchShapes
{
    private const uint ThreadsPerBlock = 256, RowsPerBlock = 8;

    /// <summary>Grid-stride blocks cap: enough to fill an H100 (132 SMs × 8 blocks of 256) several times over; more only adds scheduling.</summary>
    private const long MaxBlocks = 4096;

    /// <summary>Blocks of 256 threads for a grid-stride loop over <paramref name="items"/> (float4 vectors or elements), at least one.</summary>
    public static LaunchShape Elementwise(long items) =>
        new((uint)Math.Clamp((items + ThreadsPerBlock - 1) / ThreadsPerBlock, 1, MaxBlocks), 1, 1, ThreadsPerBlock);

    /// <summary>One warp per row, 8 rows per block (kernels that index rows as blockIdx.x · 8 + warp).</summary>
    public static LaunchShape WarpPerRow(int rows) =>
        new((uint)Math.Max(1, (rows + RowsPerBlock - 1) / RowsPerBlock), 1, 1, 32 * RowsPerBlock);

    /// <summary>float4 items a vectorised elementwise kernel loops over (count/4), or all elements when it runs scalar.</summary>
    public static long Items(long count, int vectorised) => vectorised != 0 ? Math.Max(1, count / 4) : count;
}
