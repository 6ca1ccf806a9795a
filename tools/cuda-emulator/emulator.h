// A CPU emulation of the subset of CUDA that kernels/*.cu use, so their logic can be checked on a machine without
// a GPU: each block runs as blockDim std::threads, __syncthreads is a barrier of the block, warp shuffles exchange
// through a per-warp buffer between two barriers of the warp, and `__shared__` becomes a function-local static,
// shared by the block's threads because blocks run one after another. It checks indexing, masking, tiling and
// reduction orders; it says nothing of speed, occupancy or memory coalescing.
#pragma once
#define RECLIP_CUDA_EMULATOR
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <math.h>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

struct dim3
{
    unsigned x = 1, y = 1, z = 1;
    dim3() = default;
    dim3(unsigned a, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};
struct uint3 { unsigned x, y, z; };
struct alignas(8) float2 { float x, y; };
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(8) uint2 { unsigned x, y; };
inline float2 make_float2(float a, float b) { return { a, b }; }
inline float4 make_float4(float a, float b, float c, float d) { return { a, b, c, d }; }
inline uint2 make_uint2(unsigned a, unsigned b) { return { a, b }; }

inline thread_local uint3 threadIdx, blockIdx;
inline dim3 blockDim, gridDim;

namespace emulator
{
inline std::unique_ptr<std::barrier<>> block_barrier;
inline std::vector<std::unique_ptr<std::barrier<>>> warp_barriers;
inline std::vector<uint64_t> warp_slots;
inline std::vector<uint32_t> fragment_slots; // 6 registers per thread: a[0…3], b[0…1] of a tensor-core product
inline std::mutex atomics;

inline int thread_rank() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }

// Every lane of the warp publishes its value, then reads the one of `source` (lanes past the warp's end keep their own).
template <typename T> T exchange(T value, int source)
{
    static_assert(sizeof(T) <= sizeof(uint64_t));
    int rank = thread_rank(), warp = rank / 32;
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    warp_slots[rank] = bits;
    warp_barriers[warp]->arrive_and_wait();
    uint64_t other = (source >= 0 && source < 32) ? warp_slots[warp * 32 + source] : bits;
    warp_barriers[warp]->arrive_and_wait();
    T result;
    std::memcpy(&result, &other, sizeof(T));
    return result;
}
}

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static
#define __align__(bytes) __attribute__((aligned(bytes)))
#define __launch_bounds__(...)

using std::max;
using std::min;

inline void __syncthreads() { emulator::block_barrier->arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emulator::warp_barriers[emulator::thread_rank() / 32]->arrive_and_wait(); }
template <typename T> T __shfl_xor_sync(unsigned, T value, int mask) { return emulator::exchange(value, (emulator::thread_rank() % 32) ^ mask); }
template <typename T> T __shfl_sync(unsigned, T value, int lane) { return emulator::exchange(value, lane); }
template <typename T> T __shfl_down_sync(unsigned, T value, int delta) { return emulator::exchange(value, emulator::thread_rank() % 32 + delta); }

inline float __int_as_float(int bits) { float value; std::memcpy(&value, &bits, 4); return value; }
inline int __float_as_int(float value) { int bits; std::memcpy(&bits, &value, 4); return bits; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((uint64_t)a * b) >> 32); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
// The fast intrinsics exactly: their few ulps on a GPU are for reclip selfcheck's tolerances, not for these checks.
inline float __fdividef(float a, float b) { return a / b; }
inline float __logf(float x) { return std::log(x); }
template <typename T> T atomicAdd(T* address, T value) { std::lock_guard<std::mutex> lock(emulator::atomics); T old = *address; *address = old + value; return old; }
template <typename T> T atomicMin(T* address, T value) { std::lock_guard<std::mutex> lock(emulator::atomics); T old = *address; *address = std::min(old, value); return old; }
template <typename T> T atomicMax(T* address, T value) { std::lock_guard<std::mutex> lock(emulator::atomics); T old = *address; *address = std::max(old, value); return old; }

// kernels/mma.cuh's product, from the fragment layout it documents (PTX's for m16n8k16): every lane publishes its A and
// B registers, then computes its own four elements of D from the whole warp's, summing in float in the order of k.
inline void mma_bf16_16816(float* c, const unsigned int* a, const unsigned int* b)
{
    int rank = emulator::thread_rank(), warp = rank / 32, lane = rank % 32, g = lane / 4, t = lane % 4;
    uint32_t* mine = &emulator::fragment_slots[rank * 6];
    for (int r = 0; r < 4; r++) mine[r] = a[r];
    mine[4] = b[0];
    mine[5] = b[1];
    emulator::warp_barriers[warp]->arrive_and_wait();
    const uint32_t* slots = &emulator::fragment_slots[warp * 32 * 6];
    // Element (row, k) of A and (k, column) of B: the owning lane, its register and the half of it.
    auto value = [&](int owner, int reg, int k) {
        uint32_t bits = (slots[owner * 6 + reg] >> (16 * (k % 2))) & 0xffffu;
        return __int_as_float((int)(bits << 16));
    };
    float result[4];
    for (int e = 0; e < 4; e++)
    {
        int row = g + 8 * (e / 2), column = 2 * t + e % 2;
        float sum = c[e];
        for (int k = 0; k < 16; k++)
            sum += value((row % 8) * 4 + (k % 8) / 2, (row / 8) + 2 * (k / 8), k) * value(column * 4 + (k % 8) / 2, 4 + k / 8, k);
        result[e] = sum;
    }
    emulator::warp_barriers[warp]->arrive_and_wait();
    for (int e = 0; e < 4; e++) c[e] = result[e];
}

// kernels/mma.cuh's ldmatrix: every lane publishes the row it names, then reads its elements from the rows of others.
inline void ldmatrix_gather(unsigned int* r, const unsigned short* row, bool transposed)
{
    int rank = emulator::thread_rank(), warp = rank / 32, lane = rank % 32, g = lane / 4, t = lane % 4;
    emulator::warp_slots[rank] = (uint64_t)(uintptr_t)row;
    emulator::warp_barriers[warp]->arrive_and_wait();
    auto row_of = [&](int source) { return (const unsigned short*)(uintptr_t)emulator::warp_slots[warp * 32 + source]; };
    unsigned int result[4];
    for (int i = 0; i < 4; i++)
    {
        unsigned int low = transposed ? row_of(8 * i + 2 * t)[g] : row_of(8 * i + g)[2 * t];
        unsigned int high = transposed ? row_of(8 * i + 2 * t + 1)[g] : row_of(8 * i + g)[2 * t + 1];
        result[i] = low | high << 16;
    }
    emulator::warp_barriers[warp]->arrive_and_wait();
    for (int i = 0; i < 4; i++) r[i] = result[i];
}
inline void ldmatrix_x4(unsigned int* r, const unsigned short* row) { ldmatrix_gather(r, row, false); }
inline void ldmatrix_x4_trans(unsigned int* r, const unsigned short* row) { ldmatrix_gather(r, row, true); }

// cp.async as a plain copy: the barrier that follows the wait on a GPU orders it here as well.
inline void copy_async16(void* shared, const void* global, bool valid)
{
    if (valid) std::memcpy(shared, global, 16);
    else std::memset(shared, 0, 16);
}
inline void copy_async_commit() {}
template <int Pending> void copy_async_wait() {}

// cvt.rn.bf16x2.f32 on finite values: the upper 16 bits of each, rounded to nearest even.
inline unsigned int bfloat16_pair_rn(float low, float high)
{
    auto rounded = [](float value) {
        unsigned int bits = (unsigned int)__float_as_int(value);
        return (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    };
    return rounded(low) | rounded(high) << 16;
}

// kernel<<<grid, block>>>(arguments...), synchronously: the blocks one at a time, each with all its threads live.
// A thread that returns leaves the block's barrier (arrive_and_drop), as an exited thread stops counting on a GPU.
template <typename... Parameters, typename... Arguments>
void launch(void (*kernel)(Parameters...), dim3 grid, dim3 block, Arguments... arguments)
{
    gridDim = grid;
    blockDim = block;
    unsigned threads = block.x * block.y * block.z, warps = (threads + 31) / 32;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++)
            {
                emulator::block_barrier = std::make_unique<std::barrier<>>(threads);
                emulator::warp_barriers.clear();
                for (unsigned w = 0; w < warps; w++)
                    emulator::warp_barriers.push_back(std::make_unique<std::barrier<>>(std::min(32u, threads - w * 32)));
                emulator::warp_slots.assign(warps * 32, 0);
                emulator::fragment_slots.assign(warps * 32 * 6, 0);
                std::vector<std::thread> pool;
                for (unsigned t = 0; t < threads; t++)
                    pool.emplace_back([&, t] {
                        threadIdx = { t % block.x, (t / block.x) % block.y, t / (block.x * block.y) };
                        blockIdx = { bx, by, bz };
                        kernel(static_cast<Parameters>(arguments)...);
                        emulator::block_barrier->arrive_and_drop();
                    });
                for (std::thread& thread : pool) thread.join();
            }
}
