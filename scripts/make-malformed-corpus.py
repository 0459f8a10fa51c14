"""Write Tests/DriverTests/Malformed: one small broken file per way a user's input can be
wrong (ONNX, textual IR with safetensors, .npy). DriverTests/MalformedCorpusTests names the
error each must give. Usage: python3 scripts/make-malformed-corpus.py  (needs onnx, numpy)
"""
import json
import os
import struct

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = os.path.join(os.path.dirname(__file__), "..", "Tests", "DriverTests", "Malformed")
os.makedirs(out, exist_ok=True)


def path(name):
    return os.path.join(out, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data)


def model(nodes, inputs, outputs, inits=(), opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m.SerializeToString()


def vi(name, shape, t=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, t, shape)


x = vi("x", [1, 2, 4, 4])
y = vi("y", None)
w = numpy_helper.from_array(np.ones((2, 2, 3, 3), np.float32), "w")
good = model([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], [x], [y], [w])

# ONNX
write("truncated.onnx", good[: len(good) // 2])
write("empty.onnx", b"")
write("random-bytes.onnx", bytes(np.random.default_rng(1).integers(0, 256, 300, dtype=np.uint8)))
write("wrong-wire-type.onnx", bytes([0x38, 0x05]))  # field 7 (graph) as a varint
write("length-past-end.onnx", bytes([0x3A, 0xE8, 0x07, 1, 2, 3]))  # graph of 1000 bytes, 3 present
nested = b""
for _ in range(200):
    nested = bytes([0xFA, 0x06]) + bytes([len(nested)]) + nested if len(nested) < 128 else nested
write("nesting-in-unknown-fields.onnx", b"\x08\x08" + nested)
big = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 40, 1 << 40])
write("huge-dims.onnx", model([helper.make_node("Conv", ["x", "w"], ["y"])], [x], [y], [big]))
write("zero-dim-input.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1, 0, 4])], [y]))
write("negative-dim-input.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1, -3, 4])], [y]))
write("shape-overflow-input.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", [1 << 31, 1 << 31, 4])], [y]))
short = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 2, 3, 3], raw_data=b"\0" * 16)
write("short-initializer.onnx", model([helper.make_node("Conv", ["x", "w"], ["y"])], [x], [y], [short]))
ints = numpy_helper.from_array(np.ones((2, 2, 3, 3), np.int64), "w")
write("int64-weights.onnx", model([helper.make_node("Conv", ["x", "w"], ["y"])], [x], [y], [ints]))
write("undefined-value.onnx", model([helper.make_node("Relu", ["nowhere"], ["y"], name="r")], [x], [y]))
write("cycle.onnx", model([helper.make_node("Add", ["x", "b"], ["a"], name="A"), helper.make_node("Relu", ["a"], ["b"], name="B")], [x], [vi("b", None)]))
write("duplicate-names.onnx", model([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["x"], ["y"])], [x], [y]))
write("missing-output.onnx", model([helper.make_node("Relu", ["x"], ["r"])], [x], [vi("z", None)]))
write("unsupported-op.onnx", model([helper.make_node("LRN", ["x"], ["y"], name="norm", size=3)], [x], [y]))
write("unknown-attribute.onnx", model([helper.make_node("Relu", ["x"], ["y"], name="act", alpha=0.1)], [x], [y]))
w7 = numpy_helper.from_array(np.ones((2, 2, 7, 7), np.float32), "w")
write("kernel-larger-than-input.onnx", model([helper.make_node("Conv", ["x", "w"], ["y"], name="big")], [x], [y], [w7]))
write("zero-stride.onnx", model([helper.make_node("Conv", ["x", "w"], ["y"], name="c", strides=[0, 1])], [x], [y], [w]))
write("symbolic-dim.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [vi("x", ["batch", 2, 4, 4])], [y]))
write("opset-too-new.onnx", model([helper.make_node("Relu", ["x"], ["y"])], [x], [y], opset=30))


def external(name, location, offset=0):
    t = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2, 2, 3, 3])
    t.data_location = onnx.TensorProto.EXTERNAL
    for k, v in [("location", location), ("offset", str(offset))]:
        e = t.external_data.add()
        e.key, e.value = k, v
    write(name, model([helper.make_node("Conv", ["x", "w"], ["y"])], [x], [y], [t]))


external("external-dotdot.onnx", "../outside.weights")
external("external-absolute.onnx", "/etc/hostname")
external("external-symlink.onnx", "escape.link")
if not os.path.islink(path("escape.link")):
    os.symlink("/etc/hostname", path("escape.link"))
write("small.weights", b"\0" * 64)
external("external-past-end.onnx", "small.weights", offset=32)

# Textual IR (each with an empty, valid .safetensors beside it, unless the case is the weights)
empty = b"{}      "
empty = struct.pack("<Q", len(empty)) + empty
irs = {
    "gir-syntax": "graph @g(%x: f32[1,4]) -> (f32[1,4]) {\n  %y = relu(%x) f32[1,4]\n  return %y\n}\n",
    "gir-unknown-op": "graph @g(%x: f32[1,4]) -> (f32[1,4]) {\n  %y = gelu(%x) : f32[1,4]\n  return %y\n}\n",
    "gir-undefined-value": "graph @g(%x: f32[1,4]) -> (f32[1,4]) {\n  %y = relu(%q) : f32[1,4]\n  return %y\n}\n",
    "gir-cycle": "graph @g(%x: f32[1,4]) -> (f32[1,4]) {\n  %a = add(%x, %b) : f32[1,4]\n  %b = relu(%a) : f32[1,4]\n  return %b\n}\n",
    "gir-duplicate-name": "graph @g(%x: f32[1,4]) -> (f32[1,4]) {\n  %y = relu(%x) : f32[1,4]\n  %y = relu(%x) : f32[1,4]\n  return %y\n}\n",
    "gir-zero-dim": "graph @g(%x: f32[1,0]) -> (f32[1,0]) {\n  %y = relu(%x) : f32[1,0]\n  return %y\n}\n",
    "gir-shape-overflow": "graph @g(%x: f32[4294967296,4294967296,4]) -> (f32[1]) {\n  %y = relu(%x) : f32[1]\n  return %y\n}\n",
    "gir-groups": "graph @g(%x: f32[1,4,4,4]) -> (f32[1,4,4,4]) {\n  %y = max_pool2d(%x) {kernel=[1,1]} : f32[1,4,4,4]\n  %z = conv2d(%y, %y) {groups=3} : f32[1,4,4,4]\n  return %z\n}\n",
    "gir-kernel-too-large": "graph @g(%x: f32[1,1,2,2]) -> (f32[1,1,1,1]) {\n  %y = max_pool2d(%x) {kernel=[3,3]} : f32[1,1,1,1]\n  return %y\n}\n",
    "gir-zero-stride": "graph @g(%x: f32[1,1,4,4]) -> (f32[1,1,4,4]) {\n  %y = max_pool2d(%x) {kernel=[1,1], stride=[0,1]} : f32[1,1,4,4]\n  return %y\n}\n",
    "gir-wrong-declared-type": "graph @g(%x: f32[1,4]) -> (f32[1,5]) {\n  %y = relu(%x) : f32[1,5]\n  return %y\n}\n",
    "gir-unknown-attribute": "graph @g(%x: f32[1,4]) -> (f32[1,4]) {\n  %y = relu(%x) {alpha=1} : f32[1,4]\n  return %y\n}\n",
    "gir-not-utf8": None,
}
for name, text in irs.items():
    write(name + ".gir", text.encode() if text else b"graph @g(\xff\xfe")
    write(name + ".safetensors", empty)
conv_ir = "graph @g(%x: f32[1,1,4,4]) -> (f32[1,1,4,4]) {\n  const @w: f32[1,1,1,1]\n  %y = conv2d(%x, @w) : f32[1,1,4,4]\n  return %y\n}\n"


def safetensors(header, data):
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


cases = {
    "st-missing": None,
    "st-truncated": safetensors({"w": {"dtype": "F32", "shape": [1, 1, 1, 1], "data_offsets": [0, 4]}}, b"\0\0"),
    "st-header-past-end": struct.pack("<Q", 1 << 20) + b"{}",
    "st-overlap": safetensors({"w": {"dtype": "F32", "shape": [1, 1, 1, 1], "data_offsets": [0, 4]},
                               "v": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 4),
    "st-f16": safetensors({"w": {"dtype": "F16", "shape": [1, 1, 1, 1], "data_offsets": [0, 2]}}, b"\0" * 2),
    "st-wrong-shape": safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8),
    "st-size-mismatch": safetensors({"w": {"dtype": "F32", "shape": [1, 1, 1, 1], "data_offsets": [0, 8]}}, b"\0" * 8),
    "st-not-json": struct.pack("<Q", 8) + b"{nope!!}",
}
for name, data in cases.items():
    write(name + ".gir", conv_ir.encode())
    if data is not None:
        write(name + ".safetensors", data)

# .npy inputs for resnet20 (f32[1,3,32,32])
a = np.zeros((1, 3, 32, 32), np.float32)
np.save(path("npy-wrong-shape.npy"), np.zeros((1, 3, 8, 8), np.float32))
np.save(path("npy-f64.npy"), a.astype(np.float64))
np.save(path("npy-big-endian.npy"), a.astype(">f4"))
np.save(path("npy-fortran.npy"), np.asfortranarray(np.zeros((3, 32), np.float32)))
np.save(path("npy-ok.npy"), a)
data = open(path("npy-ok.npy"), "rb").read()
os.remove(path("npy-ok.npy"))
write("npy-truncated.npy", data[:-10])
write("npy-trailing.npy", data + b"\0\0\0\0")
write("npy-bad-magic.npy", b"\x93NUMPX" + data[6:])
print(len(os.listdir(out)), "files")
