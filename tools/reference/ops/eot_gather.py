"""EOT gather (spec §2.2, model/model.py:259): y[c] = x[c, M + 1 + argmax(slot ids of c)], backward scatters."""
import torch

EOT = 49407

# (C, M, W, slot ids [C, 3]): one-token names [t, EOT, 0], two-token [t1, t2, EOT], three-token names
# (argmax on a content token: ADE's "chest of drawers", "skyscraper", "conveyer belt") and a tie (first wins).
# The last has ViT-B/16's M = 73 (L = 77) and C = 20 with W cut to 16.
CASES = [
    (1, 1, 1, [[320, EOT, 0]]),
    (6, 7, 9, [[320, EOT, 0], [1000, 2000, EOT], [10563, 539, 38975], [3075, 11187, 1284], [18421, 2371, 7373], [5, 5, 5]]),
    (20, 73, 16, None),
]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(71)
    for index, (classes, context_count, width, slots) in enumerate(CASES):
        case = f"case{index}"
        length = context_count + 4
        if slots is None:
            ids = torch.randint(1, 49000, (classes, 2), generator=generator)
            slots = [[int(a), EOT, 0] if c % 2 == 0 else [int(a), int(b), EOT] for c, (a, b) in enumerate(ids)]
        slot_ids = torch.tensor(slots, dtype=torch.int64)
        positions = context_count + 1 + slot_ids.argmax(dim=-1)
        x = torch.randn(classes, length, width, generator=generator).requires_grad_()
        y = x[torch.arange(classes), positions]
        dy = torch.rand(classes, width, generator=generator) * 2 - 1
        y.backward(dy)
        tensors.update({f"{case}.x": x, f"{case}.slots": slot_ids.to(torch.int32), f"{case}.indices": positions.to(torch.int32),
                        f"{case}.y": y, f"{case}.dy": dy, f"{case}.dx": x.grad})
        metadata[case] = f"{classes}x{length}x{width} context={context_count}"
    save("eot_gather", tensors, metadata)
