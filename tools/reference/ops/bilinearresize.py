"""F.interpolate(mode="bilinear", align_corners=False) of [C,h,w] maps (spec §10 step 4), run as [1,C,h,w]."""
import torch
import torch.nn.functional as F

# (channels, h, w, H, W): up by an integer factor (as grid → image), by an odd ratio, down, mixed,
# identity, a 1×1 source and a 1×1 target.
CASES = [(3, 7, 9, 112, 144), (4, 5, 6, 13, 11), (2, 12, 10, 5, 7), (3, 6, 10, 9, 4), (2, 6, 8, 6, 8),
         (2, 1, 1, 3, 2), (2, 5, 4, 1, 1)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(41)
    for index, (channels, h, w, out_h, out_w) in enumerate(CASES):
        case = f"case{index}"
        x = torch.rand(channels, h, w, generator=generator) * 2 - 1
        y = F.interpolate(x[None], size=(out_h, out_w), mode="bilinear", align_corners=False)[0]
        tensors.update({f"{case}.x": x, f"{case}.y": y})
        metadata[case] = f"{channels}x{h}x{w} -> {out_h}x{out_w}"
    save("bilinearresize", tensors, metadata)
