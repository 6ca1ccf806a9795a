"""Rectified logits Rect = Q − P·Rᵀ (spec §5–6), forward and the gradients of P and R (Q is constant)."""
import torch

# (B, N, C, E). The last is a VOC step's patch grid and classes (N = 441, C = 20, spec §13) with the
# embedding width cut from 512 to 32 to keep the file small.
CASES = [(1, 1, 1, 1), (2, 7, 5, 13), (1, 441, 20, 32)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(21)
    for index, (batch, patches, classes, width) in enumerate(CASES):
        case = f"case{index}"
        q = torch.rand(batch, patches, classes, generator=generator) * 0.6 - 0.3
        p = torch.randn(patches, width, generator=generator).requires_grad_()
        r = torch.randn(classes, width, generator=generator)
        r = (r / r.norm()).requires_grad_()  # Frobenius-normalised, as the Reference features are
        d_rect = torch.rand(batch, patches, classes, generator=generator) * 2 - 1
        bias = p @ r.t()  # [N, C], broadcast over the batch as in model.py
        rect = q - bias.unsqueeze(0)
        rect.backward(d_rect)
        tensors.update({f"{case}.q": q, f"{case}.p": p, f"{case}.r": r, f"{case}.rect": rect,
                        f"{case}.drect": d_rect, f"{case}.dp": p.grad, f"{case}.dr": r.grad})
        metadata[case] = f"{batch}x{patches}x{classes}x{width}"
    save("rectify", tensors, metadata)
