"""F.interpolate(mode="bicubic", align_corners=False) of [C,h,w] grids (spec §4.1 step 4), run as [1,C,h,w]."""
import torch
import torch.nn.functional as F

# (channels, h, w, H, W): the 14×14 PE grid to 21×21 and 28×21 (few channels), up, down, mixed,
# identity, a 1×1 source and a 1×1 target.
CASES = [(16, 14, 14, 21, 21), (4, 14, 14, 28, 21), (5, 4, 6, 7, 9), (3, 9, 8, 4, 5), (3, 6, 10, 9, 4),
         (3, 5, 5, 5, 5), (2, 1, 1, 3, 2), (2, 5, 4, 1, 1)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(31)
    for index, (channels, h, w, out_h, out_w) in enumerate(CASES):
        case = f"case{index}"
        x = torch.rand(channels, h, w, generator=generator) * 2 - 1
        y = F.interpolate(x[None], size=(out_h, out_w), mode="bicubic", align_corners=False)[0]
        tensors.update({f"{case}.x": x, f"{case}.y": y})
        metadata[case] = f"{channels}x{h}x{w} -> {out_h}x{out_w}"
    save("bicubicresize", tensors, metadata)
