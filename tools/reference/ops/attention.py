"""Multi-head attention core (after the in-projection, before the out-projection), forward and the input
gradients dq, dk, dv, with plain torch ops: q·kᵀ·scale, causal masked_fill(-inf), softmax, ·v.

q [B, Tq, H·Dh], k and v [Bk, Tk, H·Dh] with Bk = 1 broadcast over the query batch (the shared prompt
prefix of spec §2.2); causal query i sits at position offset + i and sees keys 0..offset + i.
Small shapes keep the file small; the realistic sizes are checked in C# against the plain reference.
"""
import torch

# (batch, key batch, query length, key length, heads, head dim, causal)
CASES = [
    (2, 2, 7, 7, 3, 5, False),     # bidirectional, odd sizes
    (2, 2, 11, 11, 3, 5, True),    # causal, odd sizes
    (4, 1, 3, 13, 3, 5, True),     # shared prefix: offset 10, one key/value batch for four query batches
    (1, 1, 9, 9, 8, 64, True),     # the text encoder's heads (8 × 64) over a short sequence
]


def attention(q, k, v, heads, causal, offset):
    batch, query_length, width = q.shape
    key_length = k.shape[1]
    head_dim = width // heads

    def split(x):
        return x.reshape(x.shape[0], x.shape[1], heads, head_dim).transpose(1, 2)

    scores = split(q) @ split(k).transpose(-1, -2) * head_dim ** -0.5
    if causal:
        query_position = offset + torch.arange(query_length).unsqueeze(1)
        scores = scores.masked_fill(torch.arange(key_length).unsqueeze(0) > query_position, float("-inf"))
    logsumexp = torch.logsumexp(scores, dim=-1)
    o = torch.softmax(scores, dim=-1) @ split(v)
    return o.transpose(1, 2).reshape(batch, query_length, width), logsumexp


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(17)
    for index, (batch, key_batch, query_length, key_length, heads, head_dim, causal) in enumerate(CASES):
        case = f"case{index}"
        width = heads * head_dim
        offset = key_length - query_length if causal else 0
        q = (torch.rand(batch, query_length, width, generator=generator) * 4 - 2).requires_grad_()
        k = (torch.rand(key_batch, key_length, width, generator=generator) * 4 - 2).requires_grad_()
        v = (torch.rand(key_batch, key_length, width, generator=generator) * 2 - 1).requires_grad_()
        do = torch.rand(batch, query_length, width, generator=generator) * 2 - 1
        o, logsumexp = attention(q, k, v, heads, causal, offset)
        o.backward(do)
        tensors.update({f"{case}.q": q, f"{case}.k": k, f"{case}.v": v, f"{case}.do": do, f"{case}.o": o,
                        f"{case}.logsumexp": logsumexp, f"{case}.dq": q.grad, f"{case}.dk": k.grad, f"{case}.dv": v.grad})
        metadata[case] = f"heads={heads} causal={int(causal)} offset={offset}"
    save("attention", tensors, metadata)
