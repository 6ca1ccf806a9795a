// What the emulated kernel checks share: seeded inputs, a relative error against a double-precision reference,
// and a verdict line per output.
#pragma once
#include "emulator.h"
#include <cstdio>
#include <random>

struct Inputs
{
    std::mt19937 generator;
    explicit Inputs(unsigned seed) : generator(seed) {}

    std::vector<float> uniform(size_t count, float low = -1.0f, float high = 1.0f)
    {
        std::uniform_real_distribution<float> distribution(low, high);
        std::vector<float> values(count);
        for (float& value : values) value = distribution(generator);
        return values;
    }
};

// max |a − b| / (1 + |b|) over all elements: absolute near 0, relative for large values. Non-finite values must
// match exactly (NaN for NaN, the same infinity); a mismatch makes the error infinite.
inline double error_of(const std::vector<float>& actual, const std::vector<double>& expected)
{
    double worst = 0;
    for (size_t i = 0; i < expected.size(); i++)
    {
        double a = actual[i], b = expected[i];
        if (!std::isfinite(a) || !std::isfinite(b))
        {
            if (!(a == b || (std::isnan(a) && std::isnan(b)))) return INFINITY;
            continue;
        }
        worst = std::max(worst, std::abs(a - b) / (1 + std::abs(b)));
    }
    return worst;
}

// Prints one output's error and returns whether it is within the tolerance (float32 sums against double: ~1e-6).
inline bool report(const char* what, const std::vector<float>& actual, const std::vector<double>& expected, double tolerance = 1e-4)
{
    double error = error_of(actual, expected);
    bool passed = error <= tolerance;
    std::printf("  %-48s %.1e%s\n", what, error, passed ? "" : "  <-- over the tolerance");
    return passed;
}

// float32 → bfloat16 bits written out on their own: the upper 16 bits rounded to nearest even, a NaN kept a NaN.
inline unsigned short bfloat16_expected(float value)
{
    unsigned int bits;
    std::memcpy(&bits, &value, 4);
    if (std::isnan(value)) return (unsigned short)((bits >> 16) | 0x40u);
    return (unsigned short)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

// A kernel's bfloat16 output against its float32 output rounded: the same arithmetic, so every value must match exactly.
inline bool report_rounded(const char* what, const std::vector<unsigned short>& actual, const std::vector<float>& float_output)
{
    size_t wrong = 0;
    for (size_t i = 0; i < actual.size(); i++)
        wrong += actual[i] != bfloat16_expected(float_output[i]);
    std::printf("  %-48s %zu of %zu differ from the float32 output rounded%s\n", what, wrong, actual.size(), wrong ? "  <-- wrong" : "");
    return wrong == 0;
}

// Two runs that must agree bit for bit (the same arithmetic on the same values).
template <typename T> bool report_same(const char* what, const std::vector<T>& actual, const std::vector<T>& expected)
{
    size_t wrong = 0;
    for (size_t i = 0; i < actual.size(); i++) wrong += std::memcmp(&actual[i], &expected[i], sizeof(T)) != 0;
    std::printf("  %-48s %zu of %zu differ%s\n", what, wrong, actual.size(), wrong ? "  <-- wrong" : "");
    return wrong == 0;
}

// What Cublas.Gemm / GemmStridedBatched (src/Runtime/Cuda/Cublas.cs) compute, row-major: C = alpha·op(A)·op(B) + beta·C
// with op(A) m×k (stored k×m when transposed), op(B) k×n (stored n×k when transposed), leading dimensions as given.
inline void gemm_strided_batched(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* a, int lda, long long stride_a,
    const float* b, int ldb, long long stride_b, float beta, float* c, int ldc, long long stride_c, int batch)
{
    for (int p = 0; p < batch; p++)
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int l = 0; l < k; l++)
                {
                    float av = transpose_a ? a[p * stride_a + (long long)l * lda + i] : a[p * stride_a + (long long)i * lda + l];
                    float bv = transpose_b ? b[p * stride_b + (long long)j * ldb + l] : b[p * stride_b + (long long)l * ldb + j];
                    sum += (double)av * bv;
                }
                float& out = c[p * stride_c + (long long)i * ldc + j];
                out = (float)(alpha * sum + (beta == 0 ? 0.0 : beta * (double)out));
            }
}

inline void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b, int ldb,
    float beta, float* c, int ldc)
{
    gemm_strided_batched(transpose_a, transpose_b, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c, ldc, 0, 1);
}

// LaunchShapes.Elementwise(LaunchShapes.Items(count, vectorised)): the blocks of a kernel that walks float4 vectors
// when vectorised, else single elements.
inline unsigned elementwise_blocks(long long count, int vectorised)
{
    long long items = vectorised ? std::max(1LL, count / 4) : count;
    return (unsigned)std::clamp((items + 255) / 256, 1LL, 4096LL);
}

// DeviceTensors.Aligned16: 1 when every pointer is on a 16-byte boundary (the launchers' float4 condition).
inline int aligned16(std::initializer_list<const void*> pointers)
{
    for (const void* pointer : pointers)
        if ((uintptr_t)pointer % 16 != 0) return 0;
    return 1;
}

// LaunchShapes.Elementwise of a kernel that walks single elements.
inline dim3 elementwise(long long count) { return dim3(elementwise_blocks(count, 0)); }
