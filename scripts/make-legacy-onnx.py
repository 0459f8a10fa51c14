"""Write the ONNX files of Tests/DiffTestTests/Legacy: ResNets and layers as files from outside
PyTorch's current exporter write them, each with a seeded input and its reference output:

    NAME.onnx  NAME.input0.npy  NAME.ref0.npy

- resnet_opset7_ir3, resnet_opset8_ir3: a torchvision-style ResNet (basic blocks, four
  stages, projection shortcuts) at opsets 7 and 8, IR version 3, every initializer also
  listed as a graph input, as the ONNX Model Zoo's ResNets are; the opset-8 one flattens
  with older PyTorch's shape arithmetic (Shape, Gather, Unsqueeze, Concat, Reshape), adds
  with Sum and has an inference Dropout. Reference: ONNX Runtime.
- normalized_nhwc: a TensorFlow-style file (tf2onnx): an NHWC input made NCHW by Transpose,
  normalization baked in (Mul by 1/255, Sub mean, Div std per channel), an explicit Pad
  before an unpadded Conv, BatchNorm written as Mul + Add, Clip as ReLU6. Reference: ONNX
  Runtime.
- conv1d_signal: Conv, BatchNormalization, MaxPool, AveragePool and GlobalAveragePool on
  (N,C,L) signals. Reference: ONNX Runtime.
- legacy_opset6, legacy_opset1: the forms ONNX Runtime no longer runs (it starts at
  opset 7): BatchNormalization with is_test/spatial (and consumed_inputs at opset 1), Add and
  Mul with broadcast/axis, Gemm with broadcast, Clip and Dropout with attributes, Reshape
  with a shape attribute, Pad with paddings. Reference: NumPy, written out below.

Needs: pip install onnx onnxruntime numpy (CI does not: the files are committed).
Usage: python3 scripts/make-legacy-onnx.py Tests/DiffTestTests/Legacy
       python3 scripts/make-legacy-onnx.py --full DIR   (full-size ResNet-18 at 224x224, opsets 7
                                                       and 8, 45 MB each: for checks, not committed)
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

full = sys.argv[1] == "--full"
out = sys.argv[-1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(77)


class Builder:
    """Nodes and initializers of one graph, with made-up unique names."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array, dtype=np.float32):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=dtype), n))
        return n

    def op(self, op, inputs, **attrs):
        y = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [y], name=y + "_node", **attrs))
        return y

    def conv(self, x, cin, cout, k, stride=1, pad=0, bias=False, **attrs):
        w = self.const("w", rng.standard_normal((cout, cin, k, k)) * np.sqrt(2 / (cin * k * k)))
        inputs = [x, w] + ([self.const("b", rng.standard_normal(cout) * 0.1)] if bias else [])
        return self.op("Conv", inputs, kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4, **attrs)

    def bn(self, x, c, **attrs):
        params = [rng.uniform(0.5, 1.5, c), rng.standard_normal(c) * 0.2, rng.standard_normal(c) * 0.2,
                  rng.uniform(0.5, 1.5, c)]
        return self.op("BatchNormalization", [x] + [self.const(p, v) for p, v in zip("stmv", params)],
                       epsilon=1e-5, **attrs)


def save(name, b, x_name, x, y, opset, ir_version, inits_as_inputs=False, reference=None):
    inputs = [helper.make_tensor_value_info(x_name, TensorProto.FLOAT, list(x.shape))]
    if inits_as_inputs:
        inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in b.inits]
    graph = helper.make_graph(b.nodes, name, inputs,
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, None)], initializer=b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make-legacy-onnx")
    model.ir_version = ir_version
    path = os.path.join(out, name + ".onnx")
    onnx.save(model, path)
    if reference is None:
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        reference = session.run(None, {x_name: x})[0]
    np.save(os.path.join(out, name + ".input0.npy"), x)
    np.save(os.path.join(out, name + ".ref0.npy"), reference.astype(np.float32))
    print(f"{name}: opset {opset}, IR {ir_version}, {x.shape} -> {reference.shape}")


def resnet(opset, legacy_flatten):
    stem, widths, classes, size = (64, [64, 128, 256, 512], 1000, 224) if full else (8, [8, 16, 24, 32], 10, 64)
    b = Builder()
    x = "data"
    y = b.op("Relu", [b.bn(b.conv(x, 3, stem, 7, stride=2, pad=3), stem)])
    y = b.op("MaxPool", [y], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
             **({"storage_order": 0} if opset >= 8 else {}))
    channels = stem
    for stage, width in enumerate(widths):
        for block in range(2):
            stride = 2 if stage > 0 and block == 0 else 1
            h = b.op("Relu", [b.bn(b.conv(y, channels, width, 3, stride=stride, pad=1), width)])
            h = b.bn(b.conv(h, width, width, 3, pad=1), width)
            shortcut = y if stride == 1 and channels == width else b.bn(b.conv(y, channels, width, 1, stride=stride), width)
            y = b.op("Relu", [b.op("Sum" if legacy_flatten else "Add", [h, shortcut])])
            channels = width
    y = b.op("GlobalAveragePool", [y])
    if legacy_flatten:
        shape = b.op("Shape", [y])
        batch = b.op("Gather", [shape, b.const("zero", np.array(0), np.int64)], axis=0)
        batch = b.op("Unsqueeze", [batch], axes=[0])
        target = b.op("Concat", [batch, b.const("minus_one", [-1], np.int64)], axis=0)
        y = b.op("Reshape", [y, target])
        y = b.op("Dropout", [y], ratio=0.5)
    else:
        y = b.op("Flatten", [y], axis=1)
    fc = b.const("fc_w", rng.standard_normal((classes, channels)) * 0.1)
    y = b.op("Gemm", [y, fc, b.const("fc_b", rng.standard_normal(classes) * 0.1)], transB=1)
    x_value = rng.standard_normal((1, 3, size, size)).astype(np.float32)
    save(f"resnet_opset{opset}_ir3", b, x, x_value, y, opset, 3, inits_as_inputs=True)


def normalized_nhwc():
    b = Builder()
    x = "image"
    y = b.op("Transpose", [x], perm=[0, 3, 1, 2])
    y = b.op("Mul", [y, b.const("inv255", np.array(1 / 255))])
    y = b.op("Sub", [y, b.const("mean", np.array([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1))])
    y = b.op("Div", [y, b.const("std", np.array([0.229, 0.224, 0.225]).reshape(3, 1, 1))])
    y = b.op("Pad", [y, b.const("pads", [0, 0, 1, 1, 0, 0, 1, 1], np.int64)], mode="constant")
    y = b.conv(y, 3, 16, 3, bias=True)
    y = b.op("Mul", [y, b.const("bn_scale", rng.uniform(0.5, 1.5, (1, 16, 1, 1)))])
    y = b.op("Add", [y, b.const("bn_shift", rng.standard_normal((1, 16, 1, 1)) * 0.2)])
    y = b.op("Clip", [y, b.const("zero", np.array(0)), b.const("six", np.array(6))])
    h = b.op("Relu", [b.conv(y, 16, 16, 1, bias=True)])
    h = b.conv(h, 16, 16, 3, pad=1, bias=True)
    y = b.op("Relu", [b.op("Add", [h, y])])
    y = b.op("Flatten", [b.op("GlobalAveragePool", [y])])
    y = b.op("Gemm", [y, b.const("fc", rng.standard_normal((16, 5)) * 0.3)])
    x_value = rng.uniform(0, 255, (1, 40, 40, 3)).astype(np.float32)
    save("normalized_nhwc", b, x, x_value, y, 13, 7)


def conv1d():
    b = Builder()
    x = "signal"
    w = lambda cout, cin, k: b.const("w", rng.standard_normal((cout, cin, k)) * np.sqrt(2 / (cin * k)))
    y = b.op("Conv", [x, w(8, 4, 5), b.const("b", rng.standard_normal(8) * 0.1)], kernel_shape=[5], pads=[2, 2])
    y = b.op("Relu", [b.bn(y, 8)])
    y = b.op("MaxPool", [y], kernel_shape=[3], strides=[2], pads=[1, 0])
    y = b.op("Relu", [b.op("Conv", [y, w(16, 8, 3)], strides=[2], dilations=[2], pads=[1, 1])])
    y = b.op("AveragePool", [y], kernel_shape=[2], strides=[1], count_include_pad=0)
    y = b.op("Flatten", [b.op("GlobalAveragePool", [y])])
    y = b.op("Gemm", [y, b.const("fc", rng.standard_normal((3, 16)) * 0.3)], transB=1)
    x_value = rng.standard_normal((2, 4, 50)).astype(np.float32)
    save("conv1d_signal", b, x, x_value, y, 13, 7)


def np_conv(x, w, b=None, pad=0):
    n, c, h, wd = x.shape
    k, _, r, s = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    p, q = h + 2 * pad - r + 1, wd + 2 * pad - s + 1
    y = np.zeros((n, k, p, q))
    for i in range(r):
        for j in range(s):
            y += np.einsum("nchw,kc->nkhw", xp[:, :, i:i + p, j:j + q], w[:, :, i, j])
    return y + (0 if b is None else b.reshape(1, -1, 1, 1))


def np_bn(x, s, t, m, v):
    shape = (1, -1, 1, 1)
    return (x - m.reshape(shape)) / np.sqrt(v.reshape(shape) + 1e-5) * s.reshape(shape) + t.reshape(shape)


def arrays(b):
    return {t.name: numpy_helper.to_array(t).astype(np.float64) for t in b.inits}


def legacy_opset6():
    b = Builder()
    x = "x"
    c = b.conv(x, 3, 6, 3, pad=1)
    n = b.bn(c, 6, is_test=1, spatial=1)
    a = b.op("Add", [n, b.const("bias", rng.standard_normal(6) * 0.3)], broadcast=1, axis=1)
    r = b.op("Relu", [a])
    d = b.op("Dropout", [r], is_test=1, ratio=0.3)
    m = b.op("Mul", [d, b.const("half", [0.5])], broadcast=1)
    s = b.op("Sum", [m, r])
    k = b.op("Clip", [s], min=0.0, max=2.5)
    g = b.op("GlobalAveragePool", [k])
    f = b.op("Reshape", [g, b.const("shape", [2, 6], np.int64)])
    y = b.op("Gemm", [f, b.const("fc", rng.standard_normal((6, 4)) * 0.5), b.const("fc_b", rng.standard_normal(4))],
             broadcast=1)
    y = b.op("Softmax", [y], axis=1)
    xv = rng.standard_normal((2, 3, 7, 7)).astype(np.float32)
    v = arrays(b)
    names = [t.name for t in b.inits]
    w, s_, t_, m_, var, bias, half, _, fc, fcb = names
    h = np_bn(np_conv(xv.astype(np.float64), v[w], pad=1), v[s_], v[t_], v[m_], v[var])
    h = np.maximum(h + v[bias].reshape(1, -1, 1, 1), 0)
    h = np.clip(h * 0.5 + h, 0, 2.5).mean(axis=(2, 3))
    logits = h @ v[fc] + v[fcb]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    save("legacy_opset6", b, x, xv, y, 6, 3, reference=e / e.sum(axis=1, keepdims=True))


def legacy_opset1():
    b = Builder()
    x = "x"
    c = b.conv(x, 2, 4, 3, bias=True)
    n = b.bn(c, 4, is_test=1, consumed_inputs=[0, 0, 0, 1, 1])
    r = b.op("Relu", [n], consumed_inputs=[0])
    p = b.op("Pad", [r], paddings=[0, 0, 1, 2, 0, 0, 1, 0], mode="constant", value=0.0)
    m = b.op("MaxPool", [p], kernel_shape=[2, 2], strides=[2, 2])
    f = b.op("Reshape", [m], shape=[1, -1])
    y = b.op("Gemm", [f, b.const("fc", rng.standard_normal((80, 3)) * 0.3), b.const("fc_b", [0.5])], broadcast=1)
    xv = rng.standard_normal((1, 2, 10, 8)).astype(np.float32)
    v = arrays(b)
    w, bias, s_, t_, m_, var, fc, fcb = [t.name for t in b.inits]
    h = np.maximum(np_bn(np_conv(xv.astype(np.float64), v[w], v[bias]), v[s_], v[t_], v[m_], v[var]), 0)
    h = np.pad(h, ((0, 0), (0, 0), (1, 1), (2, 0)))
    n_, ch, hh, ww = h.shape
    h = h[:, :, : hh // 2 * 2, : ww // 2 * 2].reshape(n_, ch, hh // 2, 2, ww // 2, 2).max(axis=(3, 5))
    save("legacy_opset1", b, x, xv, y, 1, 3, reference=h.reshape(1, -1) @ v[fc] + v[fcb])


resnet(7, legacy_flatten=False)
resnet(8, legacy_flatten=True)
if full:
    sys.exit(0)
normalized_nhwc()
conv1d()
legacy_opset6()
legacy_opset1()
