"""Writes and reads tensors in the safetensors format (8-byte header length, JSON header, raw little-endian data).

Our own few lines, so the reference scripts need nothing beyond Debian's python3-torch. The C# side
reads these files with ReClip.Runtime.Weights.SafetensorsFile.
"""
import json
import struct

import torch

_DTYPES = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int32: "I32",
    torch.int64: "I64",
    torch.uint8: "U8",
}


def save(path, tensors, metadata=None):
    """tensors: dict name -> tensor (any device/layout; written contiguous, in insertion order)."""
    header = {}
    blobs = []
    offset = 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, tensor in tensors.items():
        tensor = tensor.detach().cpu().contiguous()
        if tensor.dtype not in _DTYPES:
            raise ValueError(f"{name}: dtype {tensor.dtype} has no safetensors name here")
        # bf16 has no numpy type: write its bits through an int16 view.
        raw = tensor.view(torch.int16) if tensor.dtype == torch.bfloat16 else tensor
        data = raw.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for data in blobs:
            f.write(data)


_TYPES = {name: dtype for dtype, name in _DTYPES.items()}


def load(path):
    """The tensors of a safetensors file as an ordered dict name -> tensor (metadata ignored)."""
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        dtype = _TYPES[entry["dtype"]]
        raw = torch.frombuffer(bytearray(data[start:end]), dtype=torch.int16 if dtype == torch.bfloat16 else dtype)
        tensor = raw.view(torch.bfloat16) if dtype == torch.bfloat16 else raw
        tensors[name] = tensor.reshape(entry["shape"]).clone()
    return tensors
