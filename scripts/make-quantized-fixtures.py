"""Write the quantized ONNX fixtures that Tests/ONNXTests read: small ResNet-18 and ResNet-50
(torchvision's BasicBlock and Bottleneck, stem and layer layout, widths 16-128, 64x64 inputs,
100 classes, seeded weights and BatchNorm statistics) exported by PyTorch and quantized by
ONNX Runtime's quantize_static (QDQ format, per-channel int8 weights, uint8 activations,
min-max calibration on 32 seeded inputs), with ONNX Runtime's int8 outputs for 200 seeded
inputs:

    NAME.qdq.onnx        the quantized model
    NAME.ort-int8.npy    [200, 100]: ONNX Runtime's outputs for inputs 0..199
    NAME.fp32.npy        [200, 100]: the float model's outputs, for comparison
    input0.npy           input 0, to check that the test makes the same inputs

For `resnetc quantize`, the same two layouts at widths 8-64 are kept in float, with ONNX
Runtime's quantize_static outputs of them (same calibration inputs) for comparison:

    NAME-w8.fp32.onnx     the float model
    NAME-w8.fp32.npy      [200, 100]: its outputs for inputs 0..199
    NAME-w8.ort-int8.npy  [200, 100]: the outputs of ONNX Runtime's QDQ model of it

and single-op models with a seeded input and ONNX Runtime's output (NAME.onnx, NAME.input.npy,
NAME.ort.npy): two QLinearConv (QuantizeLinear -> QLinearConv -> DequantizeLinear, per-channel
and grouped with stride 2), a QLinearMatMul with per-column scales, and a com.microsoft
QLinearAdd of two differently quantized tensors.

Input i is `resnetc run --input-seed (1000 + i)`'s input: SplitMix64 and Box-Muller, as
Formats/ResnetcSeededInput.swift computes it. Needs: pip install torch torchvision onnx
onnxruntime numpy (CI does not: the files are committed).
Usage: python3 scripts/make-quantized-fixtures.py Tests/ONNXTests/Quantized Tests/QuantizationTests/Fixtures
(the NAME-w8 files go to the second folder).
"""
import math
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
from torchvision.models.resnet import BasicBlock, Bottleneck, conv1x1

out = sys.argv[1]
out_float = sys.argv[2] if len(sys.argv) > 2 else out
os.makedirs(out, exist_ok=True)
os.makedirs(out_float, exist_ok=True)
SHAPE = (1, 3, 64, 64)
MASK = (1 << 64) - 1


def seeded_input(seed):
    """resnetc's seeded standard-normal floats (ResnetcSplitMix.fillNormal)."""
    state = seed
    count = int(np.prod(SHAPE))
    values = np.empty(count, dtype=np.float32)

    def next_bits():
        nonlocal state
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    i = 0
    while i < count:
        u1 = max((next_bits() >> 11) * 2.0**-53, 2.0**-53)
        u2 = (next_bits() >> 11) * 2.0**-53
        radius = math.sqrt(-2.0 * math.log(u1))
        values[i] = np.float32(radius * math.cos(2.0 * math.pi * u2))
        i += 1
        if i < count:
            values[i] = np.float32(radius * math.sin(2.0 * math.pi * u2))
            i += 1
    return values.reshape(SHAPE)


class SmallResNet(torch.nn.Module):
    """torchvision's ResNet layout with the widths divided by 4."""

    def __init__(self, block, layers, width=16, classes=100):
        super().__init__()
        self.inplanes = width
        self.conv1 = torch.nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(width)
        self.relu = torch.nn.ReLU(inplace=True)
        self.maxpool = torch.nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._layer(block, width, layers[0], 1)
        self.layer2 = self._layer(block, width * 2, layers[1], 2)
        self.layer3 = self._layer(block, width * 4, layers[2], 2)
        self.layer4 = self._layer(block, width * 8, layers[3], 2)
        self.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
        self.fc = torch.nn.Linear(width * 8 * block.expansion, classes)

    def _layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = torch.nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride), torch.nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return torch.nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
    return model.eval()


class Calibration(CalibrationDataReader):
    def __init__(self, name):
        self.inputs = iter([{name: seeded_input(5000 + j)} for j in range(32)])

    def get_next(self):
        return next(self.inputs, None)


def outputs(path, inputs):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x})[0] for x in inputs]).astype(np.float32)


conv_rng = np.random.default_rng(1818)


def qlinear_conv(name, x_shape, k, groups, stride, pads, per_channel):
    c = x_shape[1]
    w = conv_rng.integers(-128, 128, size=(k, c // groups, 3, 3)).astype(np.int8)
    ws = (conv_rng.random(k) * 0.01 + 0.002).astype(np.float32) if per_channel else np.float32(0.006)
    inits = [
        numpy_helper.from_array(np.float32(0.05), "xs"), numpy_helper.from_array(np.uint8(120), "xz"),
        numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.asarray(ws, np.float32), "ws"),
        numpy_helper.from_array(np.zeros(k, np.int8) if per_channel else np.int8(0), "wz"),
        numpy_helper.from_array(np.float32(0.07), "ys"), numpy_helper.from_array(np.uint8(100), "yz"),
        numpy_helper.from_array(conv_rng.integers(-3000, 3000, size=k).astype(np.int32), "b"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["yq"],
                         strides=[stride, stride], pads=pads, group=groups),
        helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"]),
    ]
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="make-quantized-fixtures")
    m.ir_version = 7
    m = onnx.shape_inference.infer_shapes(m)
    onnx.checker.check_model(m)
    path = os.path.join(out, name + ".onnx")
    onnx.save_model(m, path)
    x = (conv_rng.standard_normal(x_shape) * 3).astype(np.float32)
    y = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.save(os.path.join(out, name + ".input.npy"), x)
    np.save(os.path.join(out, name + ".ort.npy"), y.astype(np.float32))
    print(name, y.shape)

def single_op(name, nodes, inputs, inits, opsets):
    """A model of `nodes` from float input x to float output y, saved with a seeded input and
    ONNX Runtime's output."""
    g = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, inputs)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
    m = helper.make_model(g, opset_imports=opsets, producer_name="make-quantized-fixtures")
    m.ir_version = 7
    path = os.path.join(out, name + ".onnx")
    onnx.save_model(m, path)
    x = (conv_rng.standard_normal(inputs) * 3).astype(np.float32)
    y = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.save(os.path.join(out, name + ".input.npy"), x)
    np.save(os.path.join(out, name + ".ort.npy"), y.astype(np.float32))
    print(name, y.shape)


def qlinear_matmul():
    """QuantizeLinear -> QLinearMatMul (B [24,10] int8, scales per column) -> DequantizeLinear."""
    b = conv_rng.integers(-128, 128, size=(24, 10)).astype(np.int8)
    inits = [
        numpy_helper.from_array(np.float32(0.05), "xs"), numpy_helper.from_array(np.uint8(130), "xz"),
        numpy_helper.from_array(b, "b"),
        numpy_helper.from_array((conv_rng.random(10) * 0.01 + 0.002).astype(np.float32), "bs"),
        numpy_helper.from_array(np.zeros(10, np.int8), "bz"),
        numpy_helper.from_array(np.float32(0.04), "ys"), numpy_helper.from_array(np.uint8(110), "yz"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("QLinearMatMul", ["xq", "xs", "xz", "b", "bs", "bz", "ys", "yz"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"]),
    ]
    single_op("qlinearmatmul_per_column", nodes, [5, 24], inits, [helper.make_opsetid("", 13)])


def qlinear_add():
    """QuantizeLinear twice (two scales) -> com.microsoft QLinearAdd -> DequantizeLinear."""
    inits = [
        numpy_helper.from_array(np.float32(0.05), "as"), numpy_helper.from_array(np.uint8(128), "az"),
        numpy_helper.from_array(np.float32(0.03), "bs"), numpy_helper.from_array(np.uint8(100), "bz"),
        numpy_helper.from_array(np.float32(0.06), "cs"), numpy_helper.from_array(np.uint8(120), "cz"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "as", "az"], ["aq"]),
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("QuantizeLinear", ["r", "bs", "bz"], ["rq"]),
        helper.make_node("QLinearAdd", ["aq", "as", "az", "rq", "bs", "bz", "cs", "cz"], ["cq"], domain="com.microsoft"),
        helper.make_node("DequantizeLinear", ["cq", "cs", "cz"], ["y"]),
    ]
    single_op("qlinearadd", nodes, [2, 4, 6, 6], inits,
              [helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)])


def quantized_pair(name, model, inputs, folder, keep):
    """Export `model`, quantize it with quantize_static and save both models' outputs on
    `inputs`; keep the file `keep` ("qdq" or "fp32") and remove the other."""
    fp32 = os.path.join(folder, name + ".fp32.onnx")
    torch.onnx.export(
        model, torch.from_numpy(inputs[0]), fp32, opset_version=13, input_names=["input"], output_names=["logits"],
        dynamo=False)
    qdq = os.path.join(folder, name + ".qdq.onnx")
    quantize_static(
        fp32, qdq, Calibration("input"), quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    np.save(os.path.join(folder, name + ".fp32.npy"), outputs(fp32, inputs))
    np.save(os.path.join(folder, name + ".ort-int8.npy"), outputs(qdq, inputs))
    kept, removed = (qdq, fp32) if keep == "qdq" else (fp32, qdq)
    os.remove(removed)
    a = np.load(os.path.join(folder, name + ".fp32.npy")).argmax(1)
    b = np.load(os.path.join(folder, name + ".ort-int8.npy")).argmax(1)
    print(f"{name}: {os.path.getsize(kept)} bytes; ORT int8 top-1 equals fp32 on {(a == b).sum()}/200")


def main():
    inputs = [seeded_input(1000 + i) for i in range(200)]
    np.save(os.path.join(out, "input0.npy"), inputs[0])
    layouts = [(BasicBlock, [2, 2, 2, 2]), (Bottleneck, [3, 4, 6, 3])]
    for index, (name, (block, layers)) in enumerate(zip(["resnet18", "resnet50"], layouts)):
        torch.manual_seed(7100 + index)
        quantized_pair(name, randomize(SmallResNet(block, layers), 8100 + index), inputs, out, "qdq")
    for index, (name, (block, layers)) in enumerate(zip(["resnet18-w8", "resnet50-w8"], layouts)):
        torch.manual_seed(7200 + index)
        model = randomize(SmallResNet(block, layers, width=8), 8200 + index)
        quantized_pair(name, model, inputs, out_float, "fp32")
    qlinear_conv("qlinearconv_per_channel", [1, 8, 9, 9], 16, 1, 1, [1, 1, 1, 1], True)
    qlinear_conv("qlinearconv_grouped_stride2", [2, 8, 10, 10], 8, 2, 2, [1, 0, 1, 0], False)
    qlinear_matmul()
    qlinear_add()


main()
