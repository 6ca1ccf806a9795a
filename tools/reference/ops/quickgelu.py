"""QuickGELU (OpenAI CLIP): y = x * sigmoid(1.702 * x), forward and input gradient."""
import torch

CASES = [(1, 1), (7, 33), (5, 3072)]
# Both tails and the origin: exp overflows for x <= -52 (y -> -0) and underflows for large x (y -> x).
TAILS = [-100.0, -60.0, -30.0, -10.0, -1e-3, -0.0, 0.0, 1e-3, 10.0, 30.0, 100.0]


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(21)
    inputs = [torch.rand(rows, width, generator=generator) * 12 - 6 for rows, width in CASES]
    inputs.append(torch.tensor([TAILS]))
    for index, x in enumerate(inputs):
        case = f"case{index}"
        x = x.clone().requires_grad_()
        dy = torch.rand(x.shape, generator=generator) * 2 - 1
        y = quick_gelu(x)
        y.backward(dy)
        tensors.update({f"{case}.x": x, f"{case}.dy": dy, f"{case}.y": y, f"{case}.dx": x.grad})
        metadata[case] = f"{x.shape[0]}x{x.shape[1]}"
    save("quickgelu", tensors, metadata)
