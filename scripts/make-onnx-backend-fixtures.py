"""Copy the ONNX project's own backend test models (shipped in the `onnx` wheel under
onnx/backend/test/data: pytorch-converted, pytorch-operator, simple, light) that take and
give float tensors into Tests/DiffTestTests/Backend, each as

    NAME/model.onnx  NAME/input_K.npy ...  NAME/output_K.npy ...

The stored outputs come with the wheel, except for the `light` models (real networks with
generated weights, stored without an input): the two whose ops resnetc has (ResNet-50 and
VGG-19) get a seeded input and ONNX Runtime's outputs, the others only their model (a test
that imports them must find them refused). To keep the repository small, a model whose
files pass 300 KB is left out (three: test_operator_conv, test_MaxPool1d_stride_padding_dilation
and test_MaxPool2d_stride_padding_dilation, each of large inputs, with ops the small ones
have). Writes index.tsv: name, source, opset, ops.

Needs: pip install onnx onnxruntime numpy (CI does not: the files are committed).
Usage: python3 scripts/make-onnx-backend-fixtures.py Tests/DiffTestTests/Backend
"""
import glob
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import numpy_helper

out = sys.argv[1]
root = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
limit = 300_000
light_with_data = {"light_resnet50", "light_vgg19"}
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
rows = []


def is_float(value_infos, inits):
    return all(v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT for v in value_infos if v.name not in inits)


def opset(model):
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


for source in ["pytorch-converted", "pytorch-operator", "simple"]:
    for folder in sorted(glob.glob(os.path.join(root, source, "test_*"))):
        path = os.path.join(folder, "model.onnx")
        data = os.path.join(folder, "test_data_set_0")
        if not os.path.exists(path) or not os.path.isdir(data) or os.path.getsize(path) > limit:
            continue
        model = onnx.load(path)
        inits = {t.name for t in model.graph.initializer}
        if not is_float(model.graph.input, inits) or not is_float(model.graph.output, set()):
            continue
        inputs = sorted(glob.glob(os.path.join(data, "input_*.pb")))
        outputs = sorted(glob.glob(os.path.join(data, "output_*.pb")))
        arrays = []
        for f in inputs + outputs:
            t = onnx.TensorProto()
            with open(f, "rb") as handle:
                t.ParseFromString(handle.read())
            arrays.append(numpy_helper.to_array(t))
        if any(a.dtype != np.float32 for a in arrays):
            continue
        if os.path.getsize(path) + sum(a.nbytes for a in arrays) > limit:
            print(f"left out for size: {os.path.basename(folder)}")
            continue
        name = os.path.basename(folder)
        target = os.path.join(out, name)
        os.makedirs(target)
        shutil.copy(path, os.path.join(target, "model.onnx"))
        for k, a in enumerate(arrays[: len(inputs)]):
            np.save(os.path.join(target, f"input_{k}.npy"), a)
        for k, a in enumerate(arrays[len(inputs):]):
            np.save(os.path.join(target, f"output_{k}.npy"), a)
        rows.append((name, source, opset(model), sorted({n.op_type for n in model.graph.node})))

import onnxruntime as ort  # noqa: E402  (only the light models need it)

rng = np.random.default_rng(2024)
for path in sorted(glob.glob(os.path.join(root, "light", "light_*.onnx"))):
    model = onnx.load(path)
    inits = {t.name for t in model.graph.initializer}
    name = os.path.splitext(os.path.basename(path))[0]
    target = os.path.join(out, name)
    os.makedirs(target)
    shutil.copy(path, os.path.join(target, "model.onnx"))
    rows.append((name, "light", opset(model), sorted({n.op_type for n in model.graph.node})))
    if name not in light_with_data:
        continue
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {}
    for v in model.graph.input:
        if v.name in inits:
            continue
        shape = [d.dim_value for d in v.type.tensor_type.shape.dim]
        feeds[v.name] = rng.standard_normal(shape).astype(np.float32)
    results = session.run(None, feeds)
    for k, a in enumerate(feeds.values()):
        np.save(os.path.join(target, f"input_{k}.npy"), a)
    for k, a in enumerate(results):
        np.save(os.path.join(target, f"output_{k}.npy"), a.astype(np.float32))

with open(os.path.join(out, "index.tsv"), "w") as f:
    f.write("name\tsource\topset\tops\n")
    for name, source, version, ops in rows:
        f.write(f"{name}\t{source}\t{version}\t{','.join(ops)}\n")
print(f"{len(rows)} float models written to {out}")
