"""L2 normalisation along channels without epsilon, F = x / ||x|| (spec 4.4), forward and input gradient.

The model normalises [B, 512, h, w] along dim 1; ReCLIP# keeps features channels-last, so every tensor is
dumped as [h*w, C] rows (x, dy, y, dx) and [h*w] norms.
"""
import torch

# (channels, h, w): one element, odd sizes, and the 512 channels of F on a 4x5 patch grid.
CASES = [(1, 1, 1), (33, 7, 1), (512, 4, 5)]


def channels_last(t):
    return t.permute(0, 2, 3, 1).reshape(-1, t.shape[1])


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(51)
    inputs = [torch.rand(1, c, h, w, generator=generator) * 2 - 1 for c, h, w in CASES]
    # A zero feature vector: 0/0 = NaN in y and in its gradient, as the code has no epsilon.
    zero = torch.rand(1, 6, 1, 3, generator=generator) * 2 - 1
    zero[0, :, 0, 1] = 0
    inputs.append(zero)
    for index, x in enumerate(inputs):
        case = f"case{index}"
        x = x.clone().requires_grad_()
        dy = torch.rand(x.shape, generator=generator) * 2 - 1
        norm = x.norm(dim=1, keepdim=True)
        y = x / norm
        y.backward(dy)
        tensors.update({f"{case}.x": channels_last(x), f"{case}.dy": channels_last(dy), f"{case}.y": channels_last(y),
                        f"{case}.norm": norm.reshape(-1), f"{case}.dx": channels_last(x.grad)})
        metadata[case] = f"{x.shape[2] * x.shape[3]}x{x.shape[1]}"
    save("l2normalize", tensors, metadata)
