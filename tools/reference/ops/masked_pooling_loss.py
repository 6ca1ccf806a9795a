"""ReCLIP++ loss (spec §7): per image, masked global average pooling of the patch features for each
hypothesis class, 100·⟨p_i, T⟩ logits over all classes, cross-entropy mean over the hypothesis; the batch
loss sums the images and divides by B (an image with an empty hypothesis adds 0 but counts in B).
Gradient with respect to the mask only (features and text are constant).
"""
import torch
import torch.nn.functional as F

LOGIT_SCALE = 100.0

# (N, C, E, hypothesis per image). The third is a VOC image (N = 441, C = 20, spec §13) with E cut from
# 512 to 32 to keep the file small and a one-hot mask as the Gumbel step gives; the last is a batch of
# two whose second image has an empty hypothesis.
CASES = [(1, 1, 1, [[0]]), (9, 5, 7, [[3, 0, 2]]), (441, 20, 32, [[8, 11, 14]]), (6, 4, 5, [[1, 3], []])]


def unit_rows(x):
    return x / x.norm(dim=-1, keepdim=True)


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(41)
    for index, (patches, classes, width, hypotheses) in enumerate(CASES):
        case = f"case{index}"
        batch = len(hypotheses)
        features = unit_rows(torch.randn(batch, patches, width, generator=generator))
        text = unit_rows(torch.randn(classes, width, generator=generator))
        if index == 2:
            labels = torch.randint(0, classes, (batch, patches), generator=generator)
            mask = F.one_hot(labels, classes).float()
        else:
            mask = torch.rand(batch, patches, classes, generator=generator)
        mask.requires_grad_()
        total = torch.zeros(())
        for j, hypothesis in enumerate(hypotheses):
            if not hypothesis:
                continue
            pooled = torch.stack([(mask[j, :, i:i + 1] * features[j]).mean(0) for i in hypothesis])
            logits = LOGIT_SCALE * pooled @ text.t()
            total = total + F.cross_entropy(logits, torch.tensor(hypothesis))
        loss = total / batch
        loss.backward()
        tensors.update({f"{case}.features": features, f"{case}.text": text, f"{case}.mask": mask,
                        f"{case}.loss": loss.reshape(1), f"{case}.dmask": mask.grad})
        lists = ";".join(",".join(str(i) for i in h) for h in hypotheses)
        metadata[case] = f"{batch}x{patches}x{classes}x{width} classes={lists} scale={LOGIT_SCALE}"
    save("masked_pooling_loss", tensors, metadata)
