"""Argmax over classes of a [1, C, H, W] score map (torch.argmax, CPU), dumped channels-last as [H*W, C] -> [H*W] int32.

torch.argmax on the CPU returns the first maximum on ties, and the first NaN if there is one; the edge case
pins both down, along with -0 == +0 and rows that are all equal or all -inf.
"""
import torch

# (classes, h, w): one element, odd sizes, a VOC-like 21-class map; scores quantised so that ties occur.
CASES = [(1, 1, 1), (33, 7, 1), (21, 40, 25)]
INF, NAN = float("inf"), float("nan")
EDGES = [
    [1.0, 3.0, 3.0, 2.0],         # tie: first maximum
    [-0.0, 0.0, -1.0, -1.0],      # -0 == +0: first
    [0.0, -0.0, -1.0, -1.0],
    [1.0, NAN, 2.0, NAN],         # NaN is the maximum: first NaN
    [-INF, -INF, -INF, -INF],     # all equal: class 0
    [-100.0, -100.0, -100.0, -100.0],  # every class removed by the prompt-denoising filter (spec 10.3)
    [-INF, -5.0, INF, INF],
]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(61)
    for index, (classes, h, w) in enumerate(CASES):
        case = f"case{index}"
        scores = torch.round((torch.rand(1, classes, h, w, generator=generator) * 4 - 2) * 4) / 4
        tensors.update({f"{case}.x": scores.permute(0, 2, 3, 1).reshape(-1, classes),
                        f"{case}.indices": scores.argmax(dim=1).reshape(-1).to(torch.int32)})
        metadata[case] = f"{h * w}x{classes}"
    edges = torch.tensor(EDGES)
    tensors.update({"edges.x": edges, "edges.indices": edges.argmax(dim=-1).to(torch.int32)})
    metadata["edges"] = f"{edges.shape[0]}x{edges.shape[1]}"
    save("argmax", tensors, metadata)
