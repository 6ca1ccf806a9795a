// kernels/nonfinite.cu as FiniteCheck.Cuda.cs launches it: one launch per tensor into one zeroed flags buffer; a NaN, an
// infinity or neither in each, at the first, a middle and the last position, and an empty tensor.
#include "check.h"
#include "nonfinite.cu"

int main()
{
    Inputs inputs(13);
    const int length = 1000;
    std::vector<std::vector<float>> tensors;
    std::vector<int> expected;
    for (int position : { 0, 517, length - 1 })
        for (int kind = 0; kind < 3; kind++)
        {
            std::vector<float> values = inputs.uniform(length);
            if (kind == 1) values[position] = std::numeric_limits<float>::quiet_NaN();
            if (kind == 2) values[position] = -std::numeric_limits<float>::infinity();
            tensors.push_back(values);
            expected.push_back(kind != 0);
        }
    std::vector<int> flags(tensors.size() + 1, 0);
    for (size_t t = 0; t < tensors.size(); t++)
        launch(nonfinite_flag, elementwise(length), dim3(256), (const float*)tensors[t].data(), (long long)length, flags.data(), (int)t);
    expected.push_back(0);
    std::printf("%zu tensors of %d values and an empty one\n", tensors.size(), length);
    return report_same("not finite", flags, expected) ? 0 : 1;
}
