// kernels/sgd.cu against Sgd.Reference (src/Kernels/Ops/Sgd.cs) written out in double, and bit for bit against the CPU
// fast path's float32 roundings (d = fma(theta, wd, g); buf = first ? d : fl(fl(buf * mu) + d); theta = fma(buf, -lr,
// theta)), which the kernel's header promises to reproduce: a first step on an uninitialised (NaN) buffer, which must
// not be read, then two more steps carrying the momentum, through the float4 and scalar paths.
#include "check.h"
#include "sgd.cu"

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>

// offset: elements by which the views start past an aligned allocation (the launcher then picks the scalar path);
// grid: 0 for the launcher's grid, else that many blocks (the grid-stride loop past its first pass).
struct Case { long long count; int offset; float lr, momentum, weight_decay; int grid; };

static bool run(const Case& c)
{
    Inputs inputs(41);
    size_t count = (size_t)c.count;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> parameter_store = inputs.uniform(count + c.offset, -1, 1), buffer_store(count + c.offset, nan);
    float* parameter = parameter_store.data() + c.offset;
    float* buffer = buffer_store.data() + c.offset;
    // The reference state: in double with float storage between steps, as Sgd.Reference; and the CPU fast path's floats.
    std::vector<float> reference_parameter(parameter, parameter + count), reference_buffer(count), exact_parameter = reference_parameter, exact_buffer(count);

    bool passed = true;
    std::printf("%lld elements, offset %d, lr %g, momentum %g, weight decay %g, grid %s\n", c.count, c.offset, c.lr, c.momentum, c.weight_decay,
        c.grid ? std::to_string(c.grid).c_str() : "as the launcher");
    for (int step = 0; step < 3; step++)
    {
        int first = step == 0;
        std::vector<float> gradient_store = inputs.uniform(count + c.offset, -1, 1);
        const float* gradient = gradient_store.data() + c.offset;
        std::vector<double> expected_parameter(count), expected_buffer(count);
        for (size_t i = 0; i < count; i++)
        {
            double d = gradient[i] + (double)c.weight_decay * reference_parameter[i];
            reference_buffer[i] = (float)(first ? d : c.momentum * (double)reference_buffer[i] + d);
            reference_parameter[i] = (float)(reference_parameter[i] - (double)c.lr * reference_buffer[i]);
            float e = std::fma(exact_parameter[i], c.weight_decay, gradient[i]);
            if (!first)
            {
                float product = exact_buffer[i] * c.momentum;
                e = product + e;
            }
            exact_buffer[i] = e;
            exact_parameter[i] = std::fma(e, -c.lr, exact_parameter[i]);
        }

        // As Sgd.StepCuda: vectorised when parameter, gradient and buffer are all aligned; first = !HasStepped.
        int vectorised = aligned16({ parameter, gradient, buffer });
        launch(sgd_step, dim3(c.grid ? c.grid : elementwise_blocks(c.count, vectorised)), dim3(256), parameter, gradient, buffer, c.count, first,
            c.lr, c.momentum, c.weight_decay, vectorised);

        std::vector<float> out_parameter(parameter, parameter + count), out_buffer(buffer, buffer + count);
        std::printf(" step %d%s (float4 %d)\n", step + 1, first ? ", first: buffer uninitialised (NaN)" : "", vectorised);
        passed &= report("parameter", out_parameter, std::vector<double>(reference_parameter.begin(), reference_parameter.end()));
        passed &= report("momentum buffer", out_buffer, std::vector<double>(reference_buffer.begin(), reference_buffer.end()));
        passed &= report("parameter = CPU roundings, bit for bit", out_parameter, std::vector<double>(exact_parameter.begin(), exact_parameter.end()), 0.0);
        passed &= report("buffer = CPU roundings, bit for bit", out_buffer, std::vector<double>(exact_buffer.begin(), exact_buffer.end()), 0.0);
    }
    return passed;
}

int main()
{
    bool passed = true;
    passed &= run({ 1, 0, 0.5f, 0.9f, 5e-4f, 0 });          // one element: float4 path with no vector
    passed &= run({ 7, 0, 0.5f, 0.9f, 5e-4f, 0 });          // one vector, a tail of three
    passed &= run({ 77, 1, 0.5f, 0.9f, 0.1f, 0 });          // misaligned: scalar; a large weight decay
    passed &= run({ 513, 0, 2e-3f, 0.9f, 5e-4f, 0 });       // ReCLIP++'s step size
    passed &= run({ 512 * 77 + 3, 0, 0.5f, 0.9f, 5e-4f, 0 }); // the Reference context vectors' size: 39 blocks
    passed &= run({ 768 * 768 + 1, 0, 0.5f, 0.9f, 5e-4f, 9 }); // a 768 x 768 weight (+1) over 9 blocks: grid-stride
    passed &= run({ 100001, 2, 0.5f, 0.0f, 0.0f, 3 });      // no momentum nor decay, scalar grid-stride
    return passed ? 0 : 1;
}
