"""Confusion matrix counts[gt, pred] over pixels whose ground truth is not 255, via torch.bincount(gt * C + pred).

Maps are int32 [H, W]; counts are int64 [C, C]. About one pixel in ten is ignored.
"""
import torch

IGNORE = 255
# (h, w, classes): one pixel, odd sizes, a VOC-sized class count, and Pascal Context's 59 classes.
CASES = [(1, 1, 1), (5, 7, 3), (100, 150, 21), (30, 40, 59)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(71)
    for index, (h, w, classes) in enumerate(CASES):
        case = f"case{index}"
        prediction = torch.randint(0, classes, (h, w), generator=generator, dtype=torch.int32)
        truth = torch.randint(0, classes, (h, w), generator=generator, dtype=torch.int32)
        truth[torch.randint(0, 10, (h, w), generator=generator) == 0] = IGNORE
        counted = truth != IGNORE
        pairs = truth[counted].long() * classes + prediction[counted].long()
        counts = torch.bincount(pairs, minlength=classes * classes).reshape(classes, classes)
        tensors.update({f"{case}.prediction": prediction, f"{case}.truth": truth, f"{case}.counts": counts})
        metadata[case] = f"{h}x{w} classes={classes}"
    save("confusionmatrix", tensors, metadata)
