// kernels/confusionmatrix.cu against ConfusionMatrix.Reference and CountRange (src/Kernels/Ops/ConfusionMatrix.cs):
// counts[gt * C + pred] for valid maps, through the per-block shared histogram (C * C * 4 <= 48 KiB) and the direct
// global path, and the first invalid pixel (by CountRange's rules) for maps with bad labels.
//
// The emulator has no dynamic shared memory: `extern __shared__ unsigned int bins[];` would read
// `extern static ...`, which does not compile. Here __shared__ is defined empty while the kernel is included, so the
// declaration names the global array below, sized to the launcher's 48 KiB limit. Blocks run one after another, and
// the kernel zeroes its bins first, so one array serves every block as the block's shared memory would.
#include "check.h"
#include <cstdint>
#include <limits>
extern "C" { unsigned int bins[48 * 1024 / 4]; }
#undef __shared__
#define __shared__
#include "confusionmatrix.cu"
#undef __shared__
#define __shared__ static

// pixels, classes, ignore; invalid: where to plant a bad label (-1: nowhere), kind: which rule it breaks; grid: 0 for
// the launcher's grid, else that many blocks, which runs the grid-stride loop past its first pass (the launcher's
// 4096-block cap does so only beyond ~1M pixels).
struct Case { int pixels, classes, ignore, invalid, kind, grid; };

// CountRange's rules for one pixel: is it invalid?
static bool invalid(int pred, int gt, int classes, int ignore)
{
    if (gt == ignore) return (unsigned)pred >= (unsigned)classes && pred != ignore;
    return (unsigned)gt >= (unsigned)classes || (unsigned)pred >= (unsigned)classes;
}

static bool run(const Case& c)
{
    std::mt19937 generator(17 + c.pixels);
    std::vector<int> prediction(c.pixels), ground_truth(c.pixels);
    for (int i = 0; i < c.pixels; i++)
    {
        // Labels skewed to a few classes (so bins collide within a block) and 1 in 8 ground truths ignored; where the
        // ground truth is ignored, the prediction may be the ignore label too (valid).
        ground_truth[i] = generator() % 8 == 0 ? c.ignore : (int)(generator() % 4 == 0 ? generator() % c.classes : generator() % 3);
        prediction[i] = ground_truth[i] == c.ignore && generator() % 2 ? c.ignore : (int)(generator() % c.classes);
    }
    // Bad labels at `invalid` and at two later pixels (the first must be reported, whichever thread sees it first).
    auto plant = [&](int at) {
        switch (c.kind)
        {
            case 0: ground_truth[at] = c.classes; break;                           // gt past the classes
            case 1: ground_truth[at] = -3; break;                                  // negative gt
            case 2: ground_truth[at] = 0; prediction[at] = c.classes + 5; break;  // pred past the classes
            case 3: ground_truth[at] = 1; prediction[at] = c.ignore; break;       // pred ignored where gt counts
            default: ground_truth[at] = c.ignore; prediction[at] = -1; break;     // pred neither class nor ignore
        }
    };
    if (c.invalid >= 0)
        for (int at : { c.pixels - 1, c.invalid + (c.pixels - c.invalid) / 2, c.invalid }) plant(at);

    int first = std::numeric_limits<int>::max();
    std::vector<double> expected((size_t)c.classes * c.classes);
    for (int i = 0; i < c.pixels; i++)
        if (invalid(prediction[i], ground_truth[i], c.classes, c.ignore)) { first = std::min(first, i); }
        else if (ground_truth[i] != c.ignore) expected[(size_t)ground_truth[i] * c.classes + prediction[i]] += 1;

    // As ConfusionMatrix.AccumulateCuda: zeroed 64-bit counts, first_invalid = INT_MAX, Elementwise(pixels) blocks of 256,
    // shared bins when C * C * 4 <= 48 KiB (the dynamic shared size is not an argument here: see the top of the file).
    int bin_count = c.classes * c.classes;
    int shared = (long long)bin_count * 4 <= 48 * 1024 ? 1 : 0;
    std::vector<unsigned long long> counts(bin_count, 0);
    int first_invalid = std::numeric_limits<int>::max();
    unsigned grid = c.grid ? c.grid : (unsigned)std::clamp((c.pixels + 255LL) / 256, 1LL, 4096LL);
    std::fill(std::begin(bins), std::end(bins), 0xdeadbeefu); // as uninitialised shared memory
    launch(confusion_matrix, dim3(grid), dim3(256), (const int*)prediction.data(), (const int*)ground_truth.data(), counts.data(), &first_invalid,
        c.pixels, c.classes, c.ignore, shared);

    std::printf("%d pixels, %d classes, ignore %d, %s bins, grid %u, %s\n", c.pixels, c.classes, c.ignore, shared ? "shared" : "global", grid,
        c.invalid >= 0 ? ("bad labels (rule " + std::to_string(c.kind) + ") from pixel " + std::to_string(c.invalid)).c_str() : "all labels valid");
    // INT_MAX (no bad pixel) is not a float: the pixel index is compared as an integer, printed in report()'s layout.
    bool passed = first_invalid == first;
    std::printf("  %-48s %d (expected %d)%s\n", "first invalid pixel (INT_MAX: none)", first_invalid, first, passed ? "" : "  <-- differs");
    // With a bad label the host discards the counts (they are then partial), so they are compared only for valid maps.
    if (c.invalid < 0) passed &= report("counts (exact)", std::vector<float>(counts.begin(), counts.end()), expected, 0.0);
    return passed;
}

int main()
{
    bool passed = true;
    passed &= run({ 1, 21, 255, -1, 0, 0 });        // one pixel
    passed &= run({ 777, 21, 255, -1, 0, 0 });      // VOC, 4 blocks, the last one partly idle
    passed &= run({ 12288, 21, 255, -1, 0, 0 });    // a 96 x 128 map: 48 blocks
    passed &= run({ 5000, 110, 255, -1, 0, 0 });    // the largest C with shared bins (48,400 bytes)
    passed &= run({ 5000, 111, 255, -1, 0, 0 });    // the smallest without (49,284 bytes)
    passed &= run({ 9999, 150, 255, -1, 0, 0 });    // ADE-20k: global atomics
    passed &= run({ 100003, 21, 255, -1, 0, 5 });   // grid-stride: 5 blocks over 100k pixels, shared bins
    passed &= run({ 100003, 150, 255, -1, 0, 3 });  // grid-stride, global counts
    passed &= run({ 3000, 5, 4, -1, 0, 0 });        // an ignore label that is also the next class value
    for (int kind = 0; kind < 5; kind++)
    {
        passed &= run({ 2000, 21, 255, 1234, kind, 0 });   // a bad label in block 4, repeated later
        passed &= run({ 60000, 150, 255, 777, kind, 7 });  // the same over a grid-stride loop
    }
    passed &= run({ 300, 21, 255, 0, 3, 0 });       // the very first pixel is bad
    return passed ? 0 : 1;
}
