"""The tiny CLIP as torch modules whose state_dict carries OpenAI's CLIP names (visual.conv1.weight,
visual.transformer.resblocks.N.attn.in_proj_weight, token_embedding.weight, text_projection, logit_scale, ...),
so the exported file loads wherever OpenAI's ViT weights do. Pre-norm blocks, QuickGELU, heads of width 64,
class-token pooling on the image side and the EOT (largest id) position on the causal text side.
"""
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

HEAD_WIDTH = 64


@dataclass(frozen=True)
class Config:
    image: int = 128
    patch: int = 16
    vision_width: int = 128
    vision_layers: int = 4
    text_width: int = 128
    text_layers: int = 3
    context: int = 48
    vocabulary: int = 49408
    embed: int = 128


class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, mask=None):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, width // HEAD_WIDTH, batch_first=True)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential()
        self.mlp.add_module("c_fc", nn.Linear(width, 4 * width))
        self.mlp.add_module("gelu", QuickGELU())
        self.mlp.add_module("c_proj", nn.Linear(4 * width, width))
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=self.mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, mask=None):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, mask) for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        grid = c.image // c.patch
        scale = c.vision_width ** -0.5
        self.conv1 = nn.Conv2d(3, c.vision_width, c.patch, c.patch, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(c.vision_width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, c.vision_width))
        self.ln_pre = nn.LayerNorm(c.vision_width)
        self.transformer = Transformer(c.vision_width, c.vision_layers)
        self.ln_post = nn.LayerNorm(c.vision_width)
        self.proj = nn.Parameter(scale * torch.randn(c.vision_width, c.embed))

    def forward(self, image, dense=False):
        """The class-token embedding [B, E]; with dense=True also the patch embeddings of the MaskCLIP value path
        (spec §4.3: the last block with each token attending only to itself) [B, N, E], from one pass through the
        earlier blocks."""
        x = self.conv1(image).flatten(2).transpose(1, 2)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], 1) + self.positional_embedding
        x = self.transformer.resblocks[:-1](self.ln_pre(x))
        last = self.transformer.resblocks[-1]
        pooled = self.ln_post(last(x)[:, 0]) @ self.proj
        if not dense:
            return pooled
        d = x.shape[-1]
        v = F.linear(last.ln_1(x[:, 1:]), last.attn.in_proj_weight[2 * d :], last.attn.in_proj_bias[2 * d :])
        v = x[:, 1:] + last.attn.out_proj(v)
        v = v + last.mlp(last.ln_2(v))
        return pooled, self.ln_post(v) @ self.proj


class TinyClip(nn.Module):
    def __init__(self, c: Config):
        super().__init__()
        self.config = c
        self.visual = VisionTransformer(c)
        causal = torch.full((c.context, c.context), float("-inf")).triu(1)
        self.transformer = Transformer(c.text_width, c.text_layers, causal)
        self.token_embedding = nn.Embedding(c.vocabulary, c.text_width)
        self.positional_embedding = nn.Parameter(torch.empty(c.context, c.text_width))
        self.ln_final = nn.LayerNorm(c.text_width)
        self.text_projection = nn.Parameter(torch.empty(c.text_width, c.embed))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self._initialise()

    def _initialise(self):
        """OpenAI's initialisation scales: embeddings N(0, 0.02) / 0.01, attention and MLP by width and depth."""
        c = self.config
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        for tower, width, layers in ((self.transformer, c.text_width, c.text_layers),
                                     (self.visual.transformer, c.vision_width, c.vision_layers)):
            projection = width ** -0.5 * (2 * layers) ** -0.5
            for block in tower.resblocks:
                nn.init.normal_(block.attn.in_proj_weight, std=width ** -0.5)
                nn.init.normal_(block.attn.out_proj.weight, std=projection)
                nn.init.normal_(block.mlp.c_fc.weight, std=(2 * width) ** -0.5)
                nn.init.normal_(block.mlp.c_proj.weight, std=projection)
        nn.init.normal_(self.text_projection, std=c.text_width ** -0.5)

    def encode_image(self, image, dense=False):
        return self.visual(image, dense)

    def encode_text(self, ids):
        x = self.token_embedding(ids) + self.positional_embedding
        x = self.ln_final(self.transformer(x))
        return x[torch.arange(ids.shape[0]), ids.argmax(-1)] @ self.text_projection
