// Plane-wise transposes (CPU reference: src/Kernels/Ops/PlaneTranspose.cs):
//   destination[p, j, i] = source[p, i, j]   for p < planes, i < rows, j < columns
// Each side has its own plane and row strides (in elements; the last dimension is contiguous), so a plane may be
// a range of channels inside a larger tensor: the mask decoder writes F and Rect into the channel ranges of its
// [B, E + C, h, w] input and reads dRect out of the input gradient's last C channels (spec §6.2) without copies.
// A 32 x 32 tile passes through shared memory, rows padded to 33 floats so that reading it transposed hits 32
// banks; reads and writes are then both coalesced. Blocks of 32 x 8 threads, four tile rows per thread; the
// planes go over gridDim.z in a grid-stride loop, as a batch may pass the z limit of 65535.

#define TRANSPOSE_TILE 32
#define TRANSPOSE_ROWS 8

extern "C" __global__ void plane_transpose(const float* __restrict__ source, float* __restrict__ destination, int planes, int rows,
    int columns, long long source_plane, long long source_row, long long destination_plane, long long destination_row)
{
    __shared__ float tile[TRANSPOSE_TILE][TRANSPOSE_TILE + 1];
    int i0 = blockIdx.y * TRANSPOSE_TILE, j0 = blockIdx.x * TRANSPOSE_TILE;
    for (int p = blockIdx.z; p < planes; p += gridDim.z)
    {
        const float* from = source + p * source_plane;
        float* to = destination + p * destination_plane;
        // Consecutive threads read consecutive floats of a source row ...
        int j = j0 + threadIdx.x;
        for (int k = threadIdx.y; k < TRANSPOSE_TILE; k += TRANSPOSE_ROWS)
            if (i0 + k < rows && j < columns)
                tile[k][threadIdx.x] = from[(i0 + k) * source_row + j];
        __syncthreads();
        // ... and write consecutive floats of a destination row.
        int i = i0 + threadIdx.x;
        for (int k = threadIdx.y; k < TRANSPOSE_TILE; k += TRANSPOSE_ROWS)
            if (j0 + k < columns && i < rows)
                to[(j0 + k) * destination_row + i] = tile[threadIdx.x][k];
        // The next plane overwrites the tile.
        __syncthreads();
    }
}
