"""CLIP's patch embedding (spec §4.1): zero-pad [B,3,H,W] at the bottom/right to a multiple of the
patch P, conv (kernel = stride = P, no bias), flatten the [B,D,h,w] grid row-major to tokens [B,h·w,D]."""
import torch
import torch.nn.functional as F

# (batch, height, width, dim, patch): padding in one or both directions, an exact multiple, P = 16 as in CLIP.
CASES = [(2, 35, 20, 8, 16), (1, 9, 13, 5, 4), (1, 32, 48, 12, 16)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(21)
    for index, (batch, height, width, dim, patch) in enumerate(CASES):
        case = f"case{index}"
        image = torch.rand(batch, 3, height, width, generator=generator) * 4 - 2
        weight = (torch.rand(dim, 3, patch, patch, generator=generator) * 2 - 1) / patch
        rows, cols = -(-height // patch), -(-width // patch)
        padded = F.pad(image, (0, cols * patch - width, 0, rows * patch - height))
        grid = F.conv2d(padded, weight, stride=patch)
        tokens = grid.flatten(2).transpose(1, 2)
        tensors.update({f"{case}.image": image, f"{case}.weight": weight, f"{case}.tokens": tokens})
        metadata[case] = f"B={batch} H={height} W={width} D={dim} P={patch}"
    save("patchembedding", tensors, metadata)
