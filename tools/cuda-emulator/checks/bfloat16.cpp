// kernels/bfloat16.cu against rounding written out: the upper 16 bits, to nearest even, NaN kept a NaN; ties both
// ways, ±0, ±∞, NaN and random values; launched as LaunchShapes.Elementwise.
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
    size_t wrong = 0;
    for (size_t i = 0; i < x.size(); i++)
        wrong += out[i] != bfloat16_expected(x[i]);
    std::printf("%zu values, %zu rounded differently\n", x.size(), wrong);
    return wrong == 0 ? 0 : 1;
}
