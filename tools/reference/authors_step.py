#!/usr/bin/python3
"""One ReCLIP++ training step written the way the authors' code computes it (spec §2.2, §4–§7, §9), in float32 on
the CPU, for the side-by-side benchmark (bench/peer_torch.py, case train_step_voc336). Not a parity reference: the
weights are random (timing does not depend on their values) and the trainable layers keep PyTorch's default init.

What makes it the authors' formulation rather than ours:
- the image encoder runs under torch.no_grad (MaskCLIP value path of the last block, clip_ref.dense_image);
- the Reference prompt sends all C full 77-token sequences through the text transformer with autograd
  (prompt_token requires grad), no shared prefix;
- R is divided by its Frobenius norm inside the graph; pe_proj is a 1×1 nn.Conv2d; the decoder is torch.cat +
  nn.Conv2d 5×5 + nn.BatchNorm2d in train mode; the mask is F.gumbel_softmax(100·O, tau=1, hard=True);
- the loss is masked average pooling over all patches + cross-entropy on exp(logit_scale)·p·Tᵀ, then loss.backward() and
  torch.optim.SGD(momentum 0.9, weight decay 5e-4).step().
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_ref  # noqa: E402

GUMBEL_SCALE = 100.0
MOMENTUM, WEIGHT_DECAY = 0.9, 5e-4


class ReClipHead(torch.nn.Module):
    """The trainable part of the authors' model on a frozen CLIP given as a dict of OpenAI-named tensors."""

    def __init__(self, w, query, slots):
        super().__init__()
        self.w, self.slots = w, slots
        self.register_buffer("query", query)                                      # T [C, E], unit rows
        width, contexts = w["token_embedding.weight"].shape[1], w["positional_embedding"].shape[0] - 4
        # Spec §2.2: the token-embedding row of id 0 copied M times, shared by all classes.
        self.prompt_token = torch.nn.Parameter(w["token_embedding.weight"][0].expand(1, contexts, width).clone())
        vision_width, embed, classes = w["visual.proj"].shape[0], w["visual.proj"].shape[1], query.shape[0]
        self.pe_proj = torch.nn.Conv2d(vision_width, embed, 1)
        self.decoder_conv2 = torch.nn.Conv2d(embed + classes, classes, 5, padding=2)
        self.decoder_norm2 = torch.nn.BatchNorm2d(classes)

    def forward(self, image, hypotheses):
        b = image.shape[0]
        with torch.no_grad():
            feats, grid = clip_ref.dense_image(self.w, image)                    # [B, N, E], [N, Dv]
            rows = cols = int(round(grid.shape[0] ** 0.5))
            feats = feats.transpose(1, 2).reshape(b, -1, rows, cols)            # F [B, E, h, w]
        q = F.conv2d(feats, self.query[:, :, None, None])                       # [B, C, h, w], §4.5
        prompt = clip_ref.encode_prompt(self.w, self.prompt_token[0], self.slots)  # [C, E], every class's 77 tokens
        prompt = prompt / prompt.norm()                                          # Frobenius, §2.2
        pe = self.pe_proj(grid.t().reshape(1, -1, rows, cols))                   # [1, E, h, w], §5
        bias = pe.flatten(2).transpose(1, 2) @ prompt.t()                         # [1, N, C]
        rect = q - bias.transpose(1, 2).reshape(1, -1, rows, cols)               # §6.1
        o = self.decoder_norm2(self.decoder_conv2(torch.cat([feats, rect], 1)))  # [B, C, h, w], §6.2–4
        mask = F.gumbel_softmax(GUMBEL_SCALE * o.permute(0, 2, 3, 1), tau=1, hard=True, dim=-1)  # [B, h, w, C]
        total = 0
        for j, s in enumerate(hypotheses):                                      # §7
            pooled = torch.stack([(mask[j, :, :, i][None] * feats[j]).mean((1, 2)) for i in s])
            total = total + F.cross_entropy(self.w["logit_scale"].exp() * pooled @ self.query.t(), torch.tensor(s))
        return total / b


def training_step(w, size, classes, hypothesis):
    """A closure running one step (forward, backward, SGD) on a fixed random crop [1, 3, size, size]."""
    generator = torch.Generator().manual_seed(1)
    image = torch.rand(1, 3, size, size, generator=generator) * 2 - 1
    query = torch.randn(classes, w["visual.proj"].shape[1], generator=generator)
    query = query / query.norm(dim=-1, keepdim=True)
    eot = w["token_embedding.weight"].shape[0] - 1
    slots = torch.tensor([[2000 + c, eot, 0] for c in range(classes)])         # 20 one-token names
    head = ReClipHead(w, query, slots).train()
    optimizer = torch.optim.SGD(head.parameters(), lr=0.01, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    hypotheses = [list(hypothesis)]

    def run():
        with torch.enable_grad():
            loss = head(image, hypotheses)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss

    return run
