"""Writes the PyTorch checkpoint fixtures that tests/Runtime/TorchCheckpoint*Tests.cs read.

Run from anywhere, with Debian's PyTorch 1.13 (apt-get install python3-torch):

    /usr/bin/python3 tools/reference/make_checkpoints.py [--prove-payloads]

It writes into tests/fixtures/torch/ (about 95 KB in all; the largest are the TorchScript archive,
mostly its code/ records, and expected.json):

  state_dict_f32.pt       torch.save(model.state_dict()) in float32, plus extra tensors: bfloat16,
                          float64, int64, bool, uint8, a 0-d scalar, an empty tensor, and views that
                          share one storage (a transpose, a row slice at an offset, a column slice)
  state_dict_f16.pt       the same model in float16, plus a transposed float16 view
  open_clip_wrapped.pt    open_clip's form: {"epoch", "name", "state_dict": {"module.<name>": ...},
                          "optimizer": AdamW state}; only the state dict's tensors, without "module."
  bare_parameter.pt       torch.save of one nn.Parameter [1, 1, 8] alone, the form of ReCLIP++'s
                          utils/cls_token.pt: no name in the file, listed as "tensor"
  torchscript_clip.pt     torch.jit.trace + torch.jit.save of a tiny CLIP shaped like OpenAI's
                          ViT-B-16.pt: visual.conv1, visual.transformer.resblocks.0.attn (MultiheadAttention),
                          LayerNorms, Linears, positional_embedding; fp16 where OpenAI's convert_weights
                          puts fp16, int64 buffers for input_resolution, context_length, vocab_size, and
                          a text attn_mask that tracing turns into a constant (not a state-dict entry)
  scripted_attributes.pt  torch.jit.script + torch.jit.save of a module with a Conv2d (whose stride and padding
                          TorchScript pickles as typed lists) and List[int] / List[float] / List[bool] /
                          List[str] / Dict[str, int] attributes: the pickle calls torch.jit._pickle's list
                          builders and restore_type_tag
  unloadable_dtypes.pt    a float32 tensor beside int8, int16 and complex64 ones and a torch.Size: the file
                          opens, the float tensor loads, the others are left out (listed: only the float one)
  int64_out_of_range.pt   an int64 tensor with a value outside int32 (loading it must fail)
  malicious_*.pt          zip checkpoints whose data.pkl, after a valid tensor, reaches a forbidden
                          global through REDUCE: os.system, posix.system, builtins.eval (and
                          __builtin__.eval, the name pickle protocol 2 really writes), subprocess.Popen,
                          builtins.getattr; each would run `touch <marker>`
  expected.json           per checkpoint, every tensor's name, our dtype, shape and values (raw bits
                          for floating types, so the C# tests compare exactly); per malicious file
                          the global it names and its marker path

The bytes are the same on every run of an unchanged script (fixed seeds, fixed zip timestamps);
the TorchScript archive's debug records hold this script's path and line numbers and torch's install path.

--prove-payloads loads each malicious file with torch.load (which runs the payload) and checks that
its marker appears, proving the fixtures are real attacks; it deletes the markers afterwards.
"""

import argparse
import builtins
import collections
import io
import json
import os
import pathlib
import pickletools
import subprocess
import time
import typing
import zipfile

import torch
from torch import nn

OUT = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "torch"
MARKER_PREFIX = "/tmp/reclip-pickle-marker-"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

# Our dtype names (DTypeInfo.Name) for each torch dtype, and the torch dtype whose bits we store.
LOADED_AS = {
    torch.float32: ("f32", torch.float32),
    torch.float64: ("f32", torch.float32),
    torch.float16: ("f16", torch.float16),
    torch.bfloat16: ("bf16", torch.bfloat16),
    torch.int64: ("i32", None),
    torch.int32: ("i32", None),
    torch.uint8: ("u8", None),
    torch.bool: ("u8", None),
}


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(5, 4)
        self.fc = nn.Linear(4, 3)
        self.norm = nn.LayerNorm(3)
        self.conv = nn.Conv2d(2, 2, kernel_size=2, bias=False)


# ---- a tiny CLIP with OpenAI's module layout (clip/model.py) ----

class QuickGELU(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width, heads, attn_mask=None):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(collections.OrderedDict([
            ("c_fc", nn.Linear(width, width * 4)),
            ("gelu", QuickGELU()),
            ("c_proj", nn.Linear(width * 4, width)),
        ]))
        self.ln_2 = nn.LayerNorm(width)
        self.attn_mask = attn_mask

    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=self.attn_mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, heads, layers, attn_mask=None):
        super().__init__()
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads, attn_mask) for _ in range(layers)])

    def forward(self, x):
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, resolution, patch, width, heads, layers, output_dim):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.randn(width))
        self.positional_embedding = nn.Parameter(torch.randn((resolution // patch) ** 2 + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, heads, layers)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(torch.randn(width, output_dim))

    def forward(self, x):
        x = self.conv1(x).flatten(2).permute(0, 2, 1)
        x = torch.cat([self.class_embedding.expand(x.shape[0], 1, -1), x], dim=1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x).permute(1, 0, 2)).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj


class TinyClip(nn.Module):
    def __init__(self, resolution=8, patch=4, width=8, heads=2, context=4, vocab=10, embed=4):
        super().__init__()
        self.visual = VisionTransformer(resolution, patch, width, heads, 1, embed)
        mask = torch.full((context, context), float("-inf")).triu_(1)
        self.transformer = Transformer(width, heads, 1, attn_mask=mask)
        self.token_embedding = nn.Embedding(vocab, width)
        self.positional_embedding = nn.Parameter(torch.randn(context, width))
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(torch.randn(width, embed))
        self.logit_scale = nn.Parameter(torch.tensor(4.6052))
        self.register_buffer("input_resolution", torch.tensor(resolution))
        self.register_buffer("context_length", torch.tensor(context))
        self.register_buffer("vocab_size", torch.tensor(vocab))

    def forward(self, image, text):
        image_features = self.visual(image)
        x = self.token_embedding(text) + self.positional_embedding
        x = self.ln_final(self.transformer(x.permute(1, 0, 2)).permute(1, 0, 2))
        text_features = x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection
        return self.logit_scale.exp() * image_features @ text_features.t()


def openai_fp16_names(model):
    """The parameters clip/model.py's convert_weights turns to fp16: conv, linear and attention weights, and the projections."""
    names = set()
    for module_name, module in model.named_modules():
        prefix = module_name + "." if module_name else ""
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            names.update(prefix + n for n, _ in module.named_parameters(recurse=False))
        if isinstance(module, nn.MultiheadAttention):
            names.update(prefix + n for n in ("in_proj_weight", "in_proj_bias"))
        for attribute in ("text_projection", "proj"):
            if hasattr(module, attribute) and isinstance(getattr(module, attribute), nn.Parameter):
                names.add(prefix + attribute)
    return names


# ---- malicious payloads: each __reduce__ makes unpickling call a forbidden function ----

class SystemPayload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)  # pickled as the global 'posix system'


class EvalPayload(SystemPayload):
    def __reduce__(self):
        return builtins.eval, (f"__import__('os').system('touch {self.marker}')",)


class PopenPayload(SystemPayload):
    def __reduce__(self):
        return subprocess.Popen, (["touch", self.marker],)


class ImportOs:
    def __reduce__(self):
        return builtins.__import__, ("os",)


class GetattrOsSystem:
    def __call__(self, *args):
        raise AssertionError("only ever unpickled")

    def __reduce__(self):
        return builtins.getattr, (ImportOs(), "system")


class GetattrPayload(SystemPayload):
    def __reduce__(self):
        return GetattrOsSystem(), (f"touch {self.marker}",)


def tensor_record(name, tensor):
    dtype_name, bits_dtype = LOADED_AS[tensor.dtype]
    dense = tensor.detach().contiguous()
    record = {"name": name, "dtype": dtype_name, "shape": list(dense.shape)}
    if bits_dtype is None:
        record["values"] = [int(v) for v in dense.flatten().tolist()]
    else:
        narrowed = dense.to(bits_dtype)
        width = {torch.float32: torch.int32, torch.float16: torch.int16, torch.bfloat16: torch.int16}[bits_dtype]
        mask = 0xFFFFFFFF if width == torch.int32 else 0xFFFF
        record["bits"] = [v & mask for v in narrowed.view(width).flatten().tolist()]
    return record


def state_dict_f32():
    torch.manual_seed(1)
    state = TinyNet().state_dict()
    base = torch.randn(4, 5)
    state["extra.base"] = base
    state["extra.transposed"] = base.t()
    state["extra.row_slice"] = base[1:3]
    state["extra.column_slice"] = base[:, 1:4]
    state["extra.bf16"] = torch.randn(2, 3).bfloat16()
    state["extra.float64"] = torch.randn(3, dtype=torch.float64)
    state["extra.int64"] = torch.tensor([[-2147483648, -1, 0], [1, 123456789, 2147483647]])
    state["extra.bool"] = torch.tensor([True, False, True])
    state["extra.uint8"] = torch.tensor([0, 7, 255], dtype=torch.uint8)
    state["extra.scalar"] = torch.tensor(3.5)
    state["extra.empty"] = torch.zeros(0, 3)
    return state


def state_dict_f16():
    torch.manual_seed(2)
    state = TinyNet().half().state_dict()
    state["extra.transposed"] = torch.randn(3, 2).half().t()
    return state


def open_clip_wrapped():
    torch.manual_seed(3)
    model = TinyNet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, betas=(0.9, 0.98))
    model.fc(model.embed(torch.tensor([1, 2]))).sum().backward()
    optimizer.step()
    state = {"module." + name: value for name, value in model.state_dict().items()}
    checkpoint = {"epoch": 7, "name": "tiny", "state_dict": state, "optimizer": optimizer.state_dict()}
    return checkpoint, model.state_dict()


def bare_parameter():
    torch.manual_seed(6)
    return nn.Parameter(torch.randn(1, 1, 8))


class ScriptedAttributes(nn.Module):
    """What torch.jit.script pickles with typed containers: a Conv2d's int lists and attributes of each list type."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.weight = nn.Parameter(torch.randn(2, 3))
        self.sizes: typing.List[int] = [1, 2, 3]
        self.scales: typing.List[float] = [0.5, 1.5]
        self.flags: typing.List[bool] = [True, False]
        self.names: typing.List[str] = ["a", "b"]
        self.table: typing.Dict[str, int] = {"x": 1}

    def forward(self, x):
        return self.conv(x) * self.weight.sum()


def scripted_attributes(path):
    torch.manual_seed(7)
    torch.jit.save(torch.jit.script(ScriptedAttributes()), str(path))
    return torch.jit.load(str(path)).state_dict()


def unloadable_dtypes():
    torch.manual_seed(8)
    loadable = {"kept": torch.randn(3)}
    state = dict(loadable)
    state["int8"] = torch.tensor([1, -2], dtype=torch.int8)
    state["int16"] = torch.tensor([300, -400], dtype=torch.int16)
    state["complex64"] = torch.zeros(2, dtype=torch.complex64)
    state["shape"] = torch.Size([2, 3])
    return state, loadable


def torchscript_clip(path):
    torch.manual_seed(4)
    model = TinyClip().eval()
    image, text = torch.randn(2, 3, 8, 8), torch.tensor([[1, 5, 9, 0], [2, 9, 0, 0]])
    with torch.no_grad():
        traced = torch.jit.trace(model, (image, text))
    fp16 = openai_fp16_names(model)
    for name, parameter in traced.named_parameters():
        if name in fp16:
            parameter.data = parameter.data.half()
    torch.jit.save(traced, str(path))
    return torch.jit.load(str(path)).state_dict()


def write_stored_zip(path, records):
    """A zip of stored entries with fixed timestamps, laid out like torch.save's (archive/data.pkl, archive/data/N)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, content in records:
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_EPOCH), content)


def write_malicious(path, payload, rename=None):
    """torch.save of {"weight": tensor, "evil": payload}, re-zipped; rename patches the GLOBAL's module name."""
    buffer = io.BytesIO()
    torch.manual_seed(5)
    torch.save({"weight": torch.randn(2, 2), "evil": payload}, buffer)
    with zipfile.ZipFile(buffer) as saved:
        records = [(info.filename, saved.read(info.filename)) for info in saved.infolist()]
    if rename:
        old, new = rename
        if not any(old in content for name, content in records if name.endswith("data.pkl")):
            raise SystemExit(f"{path}: data.pkl has no {old!r} to rename")
        records = [(name, content.replace(old, new) if name.endswith("data.pkl") else content) for name, content in records]
    write_stored_zip(path, records)


def first_forbidden_global(path):
    """The first global in the file's data.pkl outside what torch.save needs for a tensor (protocol 2 writes Python 2 names, e.g. __builtin__)."""
    allowed = {"torch._utils _rebuild_tensor_v2", "torch FloatStorage", "collections OrderedDict"}
    with zipfile.ZipFile(path) as archive:
        pickle_bytes = archive.read("archive/data.pkl")
    for opcode, argument, _ in pickletools.genops(pickle_bytes):
        if opcode.name == "GLOBAL" and argument not in allowed:
            return argument.replace(" ", ".")
    raise SystemExit(f"{path}: no forbidden global")


def prove_payload(path, marker):
    if os.path.exists(marker):
        os.remove(marker)
    try:
        torch.load(path)
    except Exception:  # the payload already ran when unpickling fails afterwards
        pass
    for _ in range(50):
        if os.path.exists(marker):
            os.remove(marker)
            return
        time.sleep(0.05)
    raise SystemExit(f"{path}: the payload did not create {marker}")


def write_expected(path, content):
    """JSON with one line per tensor or malicious file: small, and a changed tensor shows as one changed line."""
    def compact(value):
        return json.dumps(value, separators=(",", ":"))

    lines = ["{", f' "torch": {compact(content["torch"])},', ' "checkpoints": [']
    for i, checkpoint in enumerate(content["checkpoints"]):
        lines.append(f'  {{"file": {compact(checkpoint["file"])}, "tensors": [')
        lines.append(",\n".join("   " + compact(t) for t in checkpoint["tensors"]))
        lines.append("  ]}" + ("," if i + 1 < len(content["checkpoints"]) else ""))
    lines.append(" ],")
    lines.append(' "malicious": [')
    lines.append(",\n".join("  " + compact(m) for m in content["malicious"]))
    lines.append(" ]")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")
    json.loads(path.read_text())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prove-payloads", action="store_true", help="run each malicious file through torch.load and check its marker appears")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    checkpoints = []

    def save_state(file_name, state, expected=None):
        torch.save(state, OUT / file_name)
        expected = state if expected is None else expected
        checkpoints.append({"file": file_name, "tensors": [tensor_record(n, t) for n, t in expected.items()]})

    save_state("state_dict_f32.pt", state_dict_f32())
    save_state("state_dict_f16.pt", state_dict_f16())
    wrapped, unwrapped = open_clip_wrapped()
    save_state("open_clip_wrapped.pt", wrapped, unwrapped)
    parameter = bare_parameter()
    save_state("bare_parameter.pt", parameter, {"tensor": parameter})
    script_state = torchscript_clip(OUT / "torchscript_clip.pt")
    checkpoints.append({"file": "torchscript_clip.pt", "tensors": [tensor_record(n, t) for n, t in script_state.items()]})

    scripted_state = scripted_attributes(OUT / "scripted_attributes.pt")
    checkpoints.append({"file": "scripted_attributes.pt", "tensors": [tensor_record(n, t) for n, t in scripted_state.items()]})
    mixed, loadable = unloadable_dtypes()
    save_state("unloadable_dtypes.pt", mixed, loadable)

    torch.save({"small": torch.tensor([1, 2]), "big": torch.tensor([1, 2 ** 40])}, OUT / "int64_out_of_range.pt")

    malicious = []
    py3_builtins = (b"c__builtin__\n", b"cbuiltins\n")
    attacks = [
        ("os_system", SystemPayload, (b"cposix\nsystem\n", b"cos\nsystem\n")),
        ("posix_system", SystemPayload, None),
        ("builtins_eval", EvalPayload, py3_builtins),
        ("builtin_eval_py2_name", EvalPayload, None),
        ("subprocess_popen", PopenPayload, (b"ccommands\nPopen\n", b"csubprocess\nPopen\n")),
        ("builtins_getattr", GetattrPayload, py3_builtins),
    ]
    for name, payload, rename in attacks:
        file_name, marker = f"malicious_{name}.pt", MARKER_PREFIX + name
        write_malicious(OUT / file_name, payload(marker), rename)
        malicious.append({"file": file_name, "global": first_forbidden_global(OUT / file_name), "marker": marker})
        if args.prove_payloads:
            prove_payload(OUT / file_name, marker)

    write_expected(OUT / "expected.json", {"torch": torch.__version__, "checkpoints": checkpoints, "malicious": malicious})


if __name__ == "__main__":
    main()
