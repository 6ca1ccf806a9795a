"""Conv2d, stride 1, zero padding k//2, odd square kernel, with bias (spec §5 1×1 pe_proj, §6 5×5 decoder):
forward and the input, weight and bias gradients."""
import torch
import torch.nn.functional as F

# (batch, in, out, H, W, k): 5×5 with batch 2, 1×1, 3×3, and a 5×5 over a grid smaller than the kernel.
CASES = [(2, 5, 3, 7, 6, 5), (1, 9, 4, 5, 3, 1), (1, 4, 6, 4, 9, 3), (1, 3, 2, 2, 3, 5)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(51)
    for index, (batch, cin, cout, height, width, k) in enumerate(CASES):
        case = f"case{index}"
        bound = (cin * k * k) ** -0.5  # PyTorch's default init scale, so outputs are O(1)
        x = (torch.rand(batch, cin, height, width, generator=generator) * 2 - 1).requires_grad_()
        weight = ((torch.rand(cout, cin, k, k, generator=generator) * 2 - 1) * bound).requires_grad_()
        bias = ((torch.rand(cout, generator=generator) * 2 - 1) * bound).requires_grad_()
        dy = torch.rand(batch, cout, height, width, generator=generator) * 2 - 1
        y = F.conv2d(x, weight, bias, padding=k // 2)
        y.backward(dy)
        tensors.update({f"{case}.x": x, f"{case}.weight": weight, f"{case}.bias": bias, f"{case}.dy": dy,
                        f"{case}.y": y, f"{case}.dx": x.grad, f"{case}.dweight": weight.grad, f"{case}.dbias": bias.grad})
        metadata[case] = f"B={batch} Cin={cin} Cout={cout} H={height} W={width} k={k}"
    save("conv2d", tensors, metadata)
