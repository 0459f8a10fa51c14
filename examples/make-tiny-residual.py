"""Write tiny-residual.safetensors (seeded weights for tiny-residual.gir), an input, and the
output NumPy computes for it with its own straightforward implementation of each op: an
oracle independent of resnetc's interpreter.

Usage: python3 examples/make-tiny-residual.py  (needs numpy)
"""
import json
import os
import struct

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20)
f32 = np.float32

weights = {
    "stem.weight": rng.normal(0, 0.4, (4, 3, 3, 3)),
    "stem.bias": rng.normal(0, 0.1, 4),
    "block.conv1.weight": rng.normal(0, 0.3, (4, 4, 3, 3)),
    "block.bn1.weight": rng.uniform(0.5, 1.5, 4),
    "block.bn1.bias": rng.uniform(-0.2, 0.2, 4),
    "block.bn1.running_mean": rng.uniform(-0.2, 0.2, 4),
    "block.bn1.running_var": rng.uniform(0.5, 1.5, 4),
    "block.conv2.weight": rng.normal(0, 0.3, (4, 4, 3, 3)),
    "block.bn2.weight": rng.uniform(0.5, 1.5, 4),
    "block.bn2.bias": rng.uniform(-0.2, 0.2, 4),
    "block.bn2.running_mean": rng.uniform(-0.2, 0.2, 4),
    "block.bn2.running_var": rng.uniform(0.5, 1.5, 4),
    "fc.weight": rng.normal(0, 0.5, (3, 4)),
    "fc.bias": rng.normal(0, 0.1, 3),
}
weights = {k: v.astype(f32) for k, v in weights.items()}
image = rng.normal(0, 1, (1, 3, 8, 8)).astype(f32)


def conv(x, w, b=None, pad=1):
    x = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = x.shape
    k, _, r, s = w.shape
    out = np.zeros((n, k, h - r + 1, wd - s + 1))
    for i in range(r):
        for j in range(s):
            out += np.einsum("nchw,kc->nkhw", x[:, :, i:i + out.shape[2], j:j + out.shape[3]], w[:, :, i, j])
    return out + (0 if b is None else b[None, :, None, None])


def bn(x, p):
    g, b, m, v = (weights[p + s].astype(np.float64)[None, :, None, None]
                  for s in (".weight", ".bias", ".running_mean", ".running_var"))
    return (x - m) / np.sqrt(v + 1e-5) * g + b


def maxpool_3x3_s2_p1_ceil(x):
    n, c, h, w = x.shape
    out_h = -(-(h + 2 - 3) // 2) + 1
    if (out_h - 1) * 2 >= h + 1:
        out_h -= 1
    out = np.full((n, c, out_h, out_h), -np.inf)
    for i in range(out_h):
        for j in range(out_h):
            rows = range(max(i * 2 - 1, 0), min(i * 2 + 2, h))
            cols = range(max(j * 2 - 1, 0), min(j * 2 + 2, w))
            out[:, :, i, j] = x[:, :, rows.start:rows.stop, cols.start:cols.stop].max(axis=(2, 3))
    return out


stem = np.maximum(conv(image, weights["stem.weight"], weights["stem.bias"]), 0)
y = np.maximum(bn(conv(stem, weights["block.conv1.weight"]), "block.bn1"), 0)
y = np.maximum(bn(conv(y, weights["block.conv2.weight"]), "block.bn2") + stem, 0)
y = maxpool_3x3_s2_p1_ceil(y).mean(axis=(2, 3))
logits = y @ weights["fc.weight"].T.astype(np.float64) + weights["fc.bias"]
prob = np.exp(logits - logits.max(axis=1, keepdims=True))
prob /= prob.sum(axis=1, keepdims=True)

header, data, offset = {}, b"", 0
for name, value in weights.items():
    raw = value.astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(raw)]}
    data += raw
    offset += len(raw)
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (-(8 + len(text)) % 8)
with open(os.path.join(here, "tiny-residual.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
np.save(os.path.join(here, "tiny-residual.input.npy"), image)
np.save(os.path.join(here, "tiny-residual.expected.npy"), prob.astype(f32))
print(prob)
