"""Bias add broadcast over rows (x + bias), residual add (x + r), and the bias gradient (sum of dy over rows)."""
import torch

# (rows, width): a single element, odd sizes, a ViT width, and a long narrow sum for the bias gradient.
CASES = [(1, 1), (7, 33), (9, 768), (600, 5)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(41)
    for index, (rows, width) in enumerate(CASES):
        case = f"case{index}"
        x = torch.rand(rows, width, generator=generator) * 4 - 2
        bias = (torch.rand(width, generator=generator) * 2 - 1).requires_grad_()
        residual = torch.rand(rows, width, generator=generator) * 4 - 2
        dy = torch.rand(rows, width, generator=generator) * 2 - 1
        biased = x + bias
        biased.backward(dy)
        tensors.update({f"{case}.x": x, f"{case}.bias": bias, f"{case}.residual": residual, f"{case}.dy": dy,
                        f"{case}.biased": biased, f"{case}.summed": x + residual, f"{case}.dbias": bias.grad})
        metadata[case] = f"{rows}x{width}"
    save("add", tensors, metadata)
