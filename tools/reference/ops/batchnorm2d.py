"""BatchNorm2d (spec §6 step 4): training-mode forward with the running-stat update (momentum 0.1,
unbiased running variance), its backward (input, γ, β gradients), and eval mode on the updated stats."""
import torch
import torch.nn.functional as F

# (batch, channels, H, W): odd sizes, n = B·H·W = 3, and the VOC decoder's [1,20,21,21].
CASES = [(2, 3, 5, 7), (3, 7, 1, 1), (1, 20, 21, 21)]
MOMENTUM, EPS = 0.1, 1e-5


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(61)
    for index, (batch, channels, height, width) in enumerate(CASES):
        case = f"case{index}"
        x = (torch.rand(batch, channels, height, width, generator=generator) * 4 - 1).requires_grad_()
        gamma = (torch.rand(channels, generator=generator) + 0.5).requires_grad_()
        beta = (torch.rand(channels, generator=generator) * 2 - 1).requires_grad_()
        running_mean = torch.rand(channels, generator=generator) * 2 - 1
        running_var = torch.rand(channels, generator=generator) + 0.5
        dy = torch.rand(batch, channels, height, width, generator=generator) * 2 - 1
        tensors.update({f"{case}.x": x, f"{case}.gamma": gamma, f"{case}.beta": beta,
                        f"{case}.running_mean": running_mean.clone(), f"{case}.running_var": running_var.clone(),
                        f"{case}.dy": dy})
        y = F.batch_norm(x, running_mean, running_var, gamma, beta, training=True, momentum=MOMENTUM, eps=EPS)
        y.backward(dy)
        with torch.no_grad():
            y_eval = F.batch_norm(x, running_mean, running_var, gamma, beta, training=False, eps=EPS)
        tensors.update({f"{case}.y": y, f"{case}.new_running_mean": running_mean, f"{case}.new_running_var": running_var,
                        f"{case}.y_eval": y_eval, f"{case}.dx": x.grad, f"{case}.dgamma": gamma.grad,
                        f"{case}.dbeta": beta.grad})
        metadata[case] = f"B={batch} C={channels} H={height} W={width} momentum={MOMENTUM} eps={EPS}"
    save("batchnorm2d", tensors, metadata)
