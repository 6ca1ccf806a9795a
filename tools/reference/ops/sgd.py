"""torch.optim.SGD with momentum 0.9, dampening 0, no Nesterov, weight decay 5e-4 (spec §9): three steps
with different gradients and learning rates; parameter and momentum buffer after each step."""
import torch

LRS = [0.01, 0.0075, 0.005]
CASES = [(1,), (37,), (13, 29), (4099,)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(51)
    for index, shape in enumerate(CASES):
        case = f"case{index}"
        parameter = torch.nn.Parameter(torch.rand(*shape, generator=generator) * 2 - 1)
        tensors[f"{case}.param0"] = parameter.detach().clone()
        optimizer = torch.optim.SGD([parameter], lr=LRS[0], momentum=0.9, dampening=0, nesterov=False, weight_decay=5e-4)
        for step, lr in enumerate(LRS, start=1):
            for group in optimizer.param_groups:
                group["lr"] = lr
            gradient = torch.rand(*shape, generator=generator) * 2 - 1
            parameter.grad = gradient.clone()
            optimizer.step()
            tensors[f"{case}.grad{step}"] = gradient
            tensors[f"{case}.param{step}"] = parameter.detach().clone()
            tensors[f"{case}.buf{step}"] = optimizer.state[parameter]["momentum_buffer"].clone()
        metadata[case] = "x".join(str(s) for s in shape) + " lrs=" + ",".join(str(lr) for lr in LRS) + " momentum=0.9 wd=0.0005"
    save("sgd", tensors, metadata)
