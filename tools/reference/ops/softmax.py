"""Softmax over the last dimension of scale * x, forward and input gradient."""
import torch

# (rows, width, scale): a single element; a negative scale; the prompt-denoising filter's softmax(10 * O)
# over a 21x21 patch grid and 21 VOC classes (spec 10.3); attention rows of 1025 keys scaled by 1/8.
CASES = [(1, 1, 1.0), (7, 33, -1.0), (441, 21, 10.0), (3, 1025, 0.125)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(31)
    for index, (rows, width, scale) in enumerate(CASES):
        case = f"case{index}"
        x = (torch.rand(rows, width, generator=generator) * 8 - 4).requires_grad_()
        dy = torch.rand(rows, width, generator=generator) * 2 - 1
        y = torch.softmax(scale * x, dim=-1)
        y.backward(dy)
        tensors.update({f"{case}.x": x, f"{case}.dy": dy, f"{case}.y": y, f"{case}.dx": x.grad})
        metadata[case] = f"{rows}x{width} scale={scale}"
    save("softmax", tensors, metadata)
