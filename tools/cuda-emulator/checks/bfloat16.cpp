// kernels/bfloat16.cu against rounding written out: the upper 16 bits, to nearest even, NaN kept a NaN; ties both
// ways, ±0, ±∞, NaN and random values; launched as LaunchShapes.Elementwise. Both kernels: the bfloat16 bits, and the
// same bits widened back to float32.
#include "check.h"
#include "bfloat16.cu"

int main()
{
    Inputs inputs(41);
    std::vector<float> x = inputs.uniform(5000, -3, 3);
    unsigned int specials[] = { 0x3F808000u, 0x3F818000u, 0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0x7F800001u, 0x7F7FFFFFu };
    for (size_t i = 0; i < std::size(specials); i++) std::memcpy(&x[i], &specials[i], 4);
    std::vector<unsigned short> out(x.size(), 0x1234);
    launch(float_to_bfloat16, elementwise((long long)x.size()), dim3(256), x.data(), out.data(), (long long)x.size());
    std::vector<float> kept(x.size(), 7.0f);
    launch(float_rounded_to_bfloat16, elementwise((long long)x.size()), dim3(256), x.data(), kept.data(), (long long)x.size());
    size_t wrong = 0, wrongKept = 0;
    for (size_t i = 0; i < x.size(); i++)
    {
        wrong += out[i] != bfloat16_expected(x[i]);
        unsigned int bits;
        std::memcpy(&bits, &kept[i], 4);
        wrongKept += bits != (unsigned int)bfloat16_expected(x[i]) << 16;
    }
    std::printf("%zu values, %zu rounded differently, %zu kept in float32 differently\n", x.size(), wrong, wrongKept);
    return wrong == 0 && wrongKept == 0 ? 0 : 1;
}
