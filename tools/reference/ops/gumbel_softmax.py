"""Hard Gumbel-softmax with straight-through gradient, F.gumbel_softmax(scale·O, tau, hard=True) (spec §6 step 5).

PyTorch draws the noise from its own generator, which the C# side cannot reproduce; so the noise is
captured by replaying the generator (same seed, same draw as gumbel_softmax's first line) and dumped,
and the C# op is run with that noise given explicitly.
"""
import torch
import torch.nn.functional as F

# (rows, C, scale, tau, logit std). The last is a VOC step (B·N = 441, C = 20) with BN-scaled logits
# at the model's scale 100: almost every soft row is saturated. The middle ones keep the soft part live.
CASES = [(1, 1, 100.0, 1.0, 1.0), (7, 5, 1.0, 0.5, 1.0), (13, 21, 100.0, 1.0, 0.02), (441, 20, 100.0, 1.0, 1.0)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(31)
    for index, (rows, classes, scale, tau, std) in enumerate(CASES):
        case = f"case{index}"
        logits = (torch.randn(rows, classes, generator=generator) * std).requires_grad_()
        d_mask = torch.rand(rows, classes, generator=generator) * 2 - 1
        scaled = scale * logits
        torch.manual_seed(1000 + index)
        mask = F.gumbel_softmax(scaled, tau=tau, hard=True, dim=-1)
        torch.manual_seed(1000 + index)
        noise = -torch.empty_like(scaled).exponential_().log()
        y_soft = ((scaled.detach() + noise) / tau).softmax(-1)
        # The replayed noise is the one gumbel_softmax drew: its hard mask is the one-hot of y_soft's argmax.
        assert torch.equal(mask.detach().argmax(-1), y_soft.argmax(-1))
        mask.backward(d_mask)
        tensors.update({f"{case}.logits": logits, f"{case}.noise": noise, f"{case}.mask": mask, f"{case}.ysoft": y_soft,
                        f"{case}.dmask": d_mask, f"{case}.dlogits": logits.grad})
        metadata[case] = f"{rows}x{classes} scale={scale} tau={tau}"
    save("gumbel_softmax", tensors, metadata)
