#!/usr/bin/python3
"""Exports CLIP's MaskCLIP dense image path (spec §4) as ONNX models, for the ONNX Runtime comparison of
bench/OnnxBenchmarks.cs.

Run:  LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3 tools/reference/export_onnx.py \
          --weights WEIGHTS.safetensors --out-dir DIR --sizes 224 336 448

WEIGHTS holds the image tower under OpenAI's names in float32 (the bench writes its random ViT-B/16 weights there,
so both runtimes compute with the same values). For each size S it writes DIR/maskclip-dense-S.onnx when missing:
input "image" [B, 3, S, S] (batch dynamic), output "features" [B, (S/16)², E], the L2-normalised patch embeddings
that VisionTransformer.EncodeDense returns (blocks 0..L-2, the last block's value path, ln_post, proj). ONNX needs
the token count fixed, so the positional grid is resized bicubically to S/16 (spec §4.1 step 4) before tracing and
each size gets its own model. Opset 14; no `onnx` Python package is needed.
"""
import argparse
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_ref  # noqa: E402
import safetensors_io  # noqa: E402


class DenseImage(torch.nn.Module):
    """clip_ref.dense_image on a weight dict whose positional embedding already has the input's grid."""

    def __init__(self, weights, size):
        super().__init__()
        patch = int(weights["visual.conv1.weight"].shape[-1])
        grid = -(-size // patch)
        sized = dict(weights)
        sized["visual.positional_embedding"] = torch.cat(
            [weights["visual.positional_embedding"][:1], clip_ref.positional_grid(weights, grid, grid)], 0)
        self.weights = sized

    def forward(self, image):
        features, _ = clip_ref.dense_image(self.weights, image)
        return features


def export(weights, size, path):
    # The trace reads sizes of constant weights as Python numbers; the warnings about it say nothing here.
    warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
    warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
    model = DenseImage(weights, size).eval()
    example = torch.zeros(1, 3, size, size)
    partial = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(model, (example,), partial, input_names=["image"], output_names=["features"],
                          dynamic_axes={"image": {0: "batch"}, "features": {0: "batch"}}, opset_version=14,
                          do_constant_folding=True)
    os.replace(partial, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", required=True, help="safetensors file with CLIP's image tower (OpenAI names, f32)")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[224, 336, 448])
    args = parser.parse_args()
    missing = [s for s in args.sizes if not os.path.exists(os.path.join(args.out_dir, f"maskclip-dense-{s}.onnx"))]
    if not missing:
        return
    weights = {k: v.float() for k, v in safetensors_io.load(args.weights).items() if k.startswith("visual.")}
    os.makedirs(args.out_dir, exist_ok=True)
    for size in missing:
        path = os.path.join(args.out_dir, f"maskclip-dense-{size}.onnx")
        export(weights, size, path)
        print(f"export_onnx: wrote {path} ({os.path.getsize(path) / 2**20:.0f} MiB)", flush=True)


if __name__ == "__main__":
    main()
