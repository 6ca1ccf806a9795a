"""LayerNorm over the last dimension, forward and backward (input, weight and bias gradients)."""
import torch

CASES = [(1, 1, 1e-5), (7, 33, 1e-5), (13, 768, 1e-6)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(11)
    for index, (rows, width, eps) in enumerate(CASES):
        case = f"case{index}"
        x = (torch.rand(rows, width, generator=generator) * 4 - 2).requires_grad_()
        gamma = (torch.rand(width, generator=generator) + 0.5).requires_grad_()
        beta = (torch.rand(width, generator=generator) * 2 - 1).requires_grad_()
        dy = torch.rand(rows, width, generator=generator) * 2 - 1
        y = torch.nn.functional.layer_norm(x, (width,), gamma, beta, eps)
        y.backward(dy)
        tensors.update({f"{case}.x": x, f"{case}.gamma": gamma, f"{case}.beta": beta, f"{case}.dy": dy,
                        f"{case}.y": y, f"{case}.dx": x.grad, f"{case}.dgamma": gamma.grad, f"{case}.dbeta": beta.grad})
        metadata[case] = f"{rows}x{width} eps={eps}"
    save("layernorm", tensors, metadata)
