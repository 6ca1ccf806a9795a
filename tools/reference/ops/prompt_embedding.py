"""Reference-prompt input (spec §2.2, model/model.py:223-260): per class SOT | M shared context vectors |
S slot-id embeddings, + positional embedding; gradient to the context only."""
import torch

# (C, M, S, W, V). The last has ViT-B/16's M = 73, S = 3 (L = 77) and VOC's C = 20 with W cut to 16.
CASES = [(1, 1, 1, 1, 5), (5, 7, 3, 9, 40), (20, 73, 3, 16, 60)]


def dump(save):
    tensors, metadata = {}, {}
    generator = torch.Generator().manual_seed(61)
    for index, (classes, context_count, slots, width, vocabulary) in enumerate(CASES):
        case = f"case{index}"
        length = 1 + context_count + slots
        start_token = vocabulary - 2  # CLIP: SOT 49406 = V − 2
        embedding = torch.randn(vocabulary, width, generator=generator)
        positional = torch.randn(length, width, generator=generator) * 0.1
        context = torch.randn(context_count, width, generator=generator).requires_grad_()
        slot_ids = torch.randint(0, vocabulary, (classes, slots), generator=generator)
        prefix = embedding[torch.full((classes, 1), start_token)]
        suffix = embedding[slot_ids]
        x = torch.cat([prefix, context.unsqueeze(0).expand(classes, -1, -1), suffix], dim=1) + positional
        dx = torch.rand(classes, length, width, generator=generator) * 2 - 1
        x.backward(dx)
        tensors.update({f"{case}.embedding": embedding, f"{case}.context": context, f"{case}.slots": slot_ids.to(torch.int32),
                        f"{case}.positional": positional, f"{case}.x": x, f"{case}.dx": dx, f"{case}.dcontext": context.grad})
        metadata[case] = f"{classes}x{context_count}x{slots}x{width} vocabulary={vocabulary} sot={start_token}"
    save("prompt_embedding", tensors, metadata)
