// kernels/attention.cu against attention written out in double: plain, causal, shared keys with an offset,
// after a prefix, odd head dims and strided query rows; forward, lse and every input gradient.
#include "check.h"
#include "attention.cu"

struct Case { int batch, queries, keys, heads, head_dim, causal, offset, prefix, shared_keys, query_padding; };

static bool run(const Case& c)
{
    Inputs inputs(7);
    int width = c.heads * c.head_dim, key_batch = c.shared_keys ? 1 : c.batch, total = c.prefix + c.keys;
    long long q_row = width + c.query_padding, kv_batch = c.shared_keys ? 0 : (long long)c.keys * width;
    std::vector<float> q = inputs.uniform((size_t)c.batch * c.queries * q_row, -2, 2), k = inputs.uniform((size_t)key_batch * c.keys * width, -2, 2);
    std::vector<float> v = inputs.uniform(k.size(), -2, 2), pk = inputs.uniform((size_t)std::max(1, c.prefix) * width, -2, 2);
    std::vector<float> pv = inputs.uniform(pk.size(), -2, 2), d_out = inputs.uniform((size_t)c.batch * c.queries * width, -2, 2);
    // The prefix's gradients are added to (the launcher's accumulate flag): they start from values of their own.
    std::vector<float> prefix_dk0 = inputs.uniform(pk.size(), -1, 1), prefix_dv0 = inputs.uniform(pk.size(), -1, 1);
    double scale = 1 / std::sqrt((double)c.head_dim);

    // The reference on the concatenated key sequence of each batch.
    std::vector<double> o(d_out.size()), lse((size_t)c.batch * c.heads * c.queries), dq(d_out.size()), dk(k.size()), dv(k.size());
    std::vector<double> expected_delta(lse.size());
    std::vector<double> dpk(prefix_dk0.begin(), prefix_dk0.end()), dpv(prefix_dv0.begin(), prefix_dv0.end());
    auto key_index = [&](int b, int j, int h) { return j < c.prefix ? (size_t)j * width + h * c.head_dim : ((size_t)(c.shared_keys ? 0 : b) * c.keys + j - c.prefix) * width + h * c.head_dim; };
    for (int b = 0; b < c.batch; b++)
        for (int h = 0; h < c.heads; h++)
            for (int i = 0; i < c.queries; i++)
            {
                int visible = c.causal ? c.prefix + c.offset + i + 1 : total;
                const float* qi = &q[((size_t)b * c.queries + i) * q_row + h * c.head_dim];
                const float* gi = &d_out[((size_t)b * c.queries + i) * width + h * c.head_dim];
                std::vector<double> p(visible), dp(visible);
                double high = -1e300, sum = 0, delta = 0;
                for (int j = 0; j < visible; j++)
                {
                    const float* kj = (j < c.prefix ? pk.data() : k.data()) + key_index(b, j, h);
                    double dot = 0;
                    for (int d = 0; d < c.head_dim; d++) dot += (double)qi[d] * kj[d];
                    p[j] = dot * scale;
                    high = std::max(high, p[j]);
                }
                for (int j = 0; j < visible; j++) sum += p[j] = std::exp(p[j] - high);
                lse[((size_t)b * c.heads + h) * c.queries + i] = high + std::log(sum);
                for (int j = 0; j < visible; j++)
                {
                    p[j] /= sum;
                    const float* vj = (j < c.prefix ? pv.data() : v.data()) + key_index(b, j, h);
                    for (int d = 0; d < c.head_dim; d++)
                    {
                        o[((size_t)b * c.queries + i) * width + h * c.head_dim + d] += p[j] * vj[d];
                        dp[j] += (double)gi[d] * vj[d];
                    }
                    delta += p[j] * dp[j];
                }
                expected_delta[((size_t)b * c.heads + h) * c.queries + i] = delta;
                for (int j = 0; j < visible; j++)
                {
                    double ds = p[j] * (dp[j] - delta);
                    const float* kj = (j < c.prefix ? pk.data() : k.data()) + key_index(b, j, h);
                    double* dkj = (j < c.prefix ? dpk.data() : dk.data()) + key_index(b, j, h);
                    double* dvj = (j < c.prefix ? dpv.data() : dv.data()) + key_index(b, j, h);
                    for (int d = 0; d < c.head_dim; d++)
                    {
                        dq[((size_t)b * c.queries + i) * width + h * c.head_dim + d] += scale * ds * kj[d];
                        dkj[d] += scale * ds * qi[d];
                        dvj[d] += p[j] * gi[d];
                    }
                }
            }

    std::vector<float> out(o.size()), out_lse(lse.size()), delta(lse.size()), out_dq(q.size()), out_dk(k.size()), out_dv(k.size());
    std::vector<float> out_dpk = prefix_dk0, out_dpv = prefix_dv0;
    float fscale = (float)scale;
    dim3 grid((c.queries + TILE - 1) / TILE, c.heads, c.batch);
    long long q_batch = (long long)c.queries * q_row;
    launch(attention_forward, grid, dim3(THREADS), q.data(), q_batch, q_row, k.data(), v.data(), kv_batch, (long long)width,
        pk.data(), pv.data(), (long long)width, c.prefix, out.data(), out_lse.data(), c.queries, c.keys, c.heads, c.head_dim, c.causal, c.offset, fscale);
    // D from a pass over the keys (no o), then from the forward's o into buffers of their own.
    std::vector<float> delta_from_o(delta.size()), dq_from_o(q.size());
    for (const float* given : { (const float*)nullptr, (const float*)out.data() })
        launch(attention_backward_queries, grid, dim3(THREADS), d_out.data(), q.data(), q_batch, q_row, k.data(), v.data(), kv_batch, (long long)width,
            pk.data(), pv.data(), (long long)width, c.prefix, out_lse.data(), given, given ? delta_from_o.data() : delta.data(),
            given ? dq_from_o.data() : out_dq.data(), q_batch, q_row, c.queries, c.keys, c.heads, c.head_dim, c.causal, c.offset, fscale);
    // The key kernel over one segment as Attention.Cuda.cs's LaunchKeys runs it: per batch for own keys, or for a shared
    // segment split among SharedGroups blocks, whose slots attention_sum_groups adds when there is more than one.
    auto launch_keys = [&](const float* keys, const float* values, long long batch_stride, int start, int length, bool shared, int accumulate,
        float* dk, float* dv)
    {
        int tiles = (length + TILE - 1) / TILE;
        int groups = shared ? std::max(1, std::min({ 256 / (tiles * c.heads), c.batch, 32 })) : 0;
        bool split = groups > 1;
        std::vector<float> partial_k(split ? (size_t)groups * length * width : 0), partial_v(partial_k.size());
        launch(attention_backward_keys, dim3(tiles, c.heads, shared ? groups : c.batch), dim3(THREADS), d_out.data(), q.data(), q_batch, q_row,
            keys, values, shared ? 0LL : batch_stride, (long long)width, start, length, out_lse.data(), delta.data(),
            split ? partial_k.data() : dk, split ? partial_v.data() : dv, split ? (long long)length * width : (shared ? 0LL : batch_stride),
            (long long)width, c.batch, groups, split ? 0 : accumulate, c.prefix, c.queries, c.keys, c.heads, c.head_dim, c.causal, c.offset, fscale);
        if (split)
            launch(attention_sum_groups, dim3((unsigned)((length * width + 255) / 256)), dim3(256), (const float*)partial_k.data(),
                (const float*)partial_v.data(), groups, length, width, dk, dv, (long long)width, accumulate);
    };
    if (c.prefix > 0)
        launch_keys(pk.data(), pv.data(), 0, 0, c.prefix, true, 1, out_dpk.data(), out_dpv.data());
    launch_keys(k.data(), v.data(), kv_batch, c.prefix, c.keys, c.shared_keys != 0, 0, out_dk.data(), out_dv.data());
    std::vector<float> dense_dq(dq.size()), dense_dq_from_o(dq.size());
    for (size_t r = 0; r < (size_t)c.batch * c.queries; r++)
    {
        std::copy_n(&out_dq[r * q_row], width, &dense_dq[r * width]);
        std::copy_n(&dq_from_o[r * q_row], width, &dense_dq_from_o[r * width]);
    }

    std::printf("batch %d, %d queries, %d keys, %d heads x %d, causal %d, offset %d, prefix %d, shared keys %d, q row padding %d\n",
        c.batch, c.queries, c.keys, c.heads, c.head_dim, c.causal, c.offset, c.prefix, c.shared_keys, c.query_padding);
    bool passed = report("o", out, o) & report("lse", out_lse, lse) & report("delta", delta, expected_delta) & report("dq", dense_dq, dq)
        & report("delta from o", delta_from_o, expected_delta) & report("dq with delta from o", dense_dq_from_o, dq)
        & report("dk", out_dk, dk) & report("dv", out_dv, dv);
    if (c.prefix > 0) passed &= report("prefix dk", out_dpk, dpk) & report("prefix dv", out_dpv, dpv);
    return passed;
}

int main()
{
    bool passed = true;
    passed &= run({ 2, 45, 45, 2, 64, 0, 0, 0, 0, 0 });   // image tokens, bidirectional, more than one tile
    passed &= run({ 2, 40, 40, 2, 64, 1, 0, 0, 0, 128 }); // text, causal, q a slice of a packed qkv row
    passed &= run({ 3, 5, 12, 2, 64, 1, 7, 0, 1, 0 });    // shared keys, queries at an offset
    passed &= run({ 3, 5, 5, 2, 64, 1, 0, 9, 0, 0 });     // after a prefix
    passed &= run({ 2, 7, 7, 1, 48, 1, 0, 40, 0, 96 });   // a prefix longer than a tile, odd head dim
    passed &= run({ 2, 33, 70, 3, 32, 0, 0, 0, 0, 0 });   // more keys than queries
    passed &= run({ 2, 33, 70, 1, 64, 0, 0, 0, 1, 0 });   // shared keys summed over the batch
    passed &= run({ 40, 3, 3, 1, 64, 1, 0, 5, 0, 0 });    // a prefix shared by more classes than key-gradient groups (32)
    passed &= run({ 2, 9, 9, 2, 30, 1, 0, 3, 0, 0 });     // a head dim not a multiple of 4: the score loop's scalar tail
    passed &= run({ 1, 3, 3, 2, 64, 1, 0, 10, 0, 0 });    // one class after a prefix: one key-gradient group, no split
    passed &= run({ 2, 5, 5, 2, 2, 1, 0, 3, 0, 0 });      // head dim 2: the score loop's scalar tail only
    passed &= run({ 2, 5, 5, 1, 62, 1, 0, 3, 0, 0 });     // head dim 62: vectors, a tail, a lane's second feature partial
    passed &= run({ 20, 3, 3, 8, 64, 1, 0, 74, 0, 0 });   // the Reference prompt in training: 3 own positions after 74
                                                          // shared, 8 heads (10 key-gradient groups of 2 classes)
    passed &= run({ 1, 74, 74, 2, 64, 1, 0, 0, 0, 0 });   // and its 74 shared positions on their own
    return passed ? 0 : 1;
}
