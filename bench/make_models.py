"""Write the benchmark's ONNX models: the paper's ResNet-18 and ResNet-50 (stride on the
bottleneck's first 1x1, "v1") and ResNet-50 v1.5 (stride on the 3x3, as torchvision), with
BatchNorm nodes as exporters leave them for inference, at batch 1 and 8; and at batch 1 the
rest of the family as torchvision and timm define it: ResNet-101 (v1.5), Wide ResNet-50-2
(bottlenecks twice as wide), ResNeXt-50 32x4d (grouped 3x3 convolutions), ResNet-26-D (deep
stem of three 3x3 convolutions, average-pool shortcuts) and ResNet-50 v2 (pre-activation:
BatchNorm and ReLU before each convolution); and ResNet-50 at 160x160 and at batch 4. Weights are seeded: He-uniform convolutions,
BatchNorm statistics far from the identity. For int8, ResNet-18 and ResNet-50 v1.5 at batch
1 quantized by ONNX Runtime's quantize_static (QDQ: per-channel int8 weights, uint8
activations, min-max ranges from 16 seeded normal inputs, after its pre-processing), as people quantize for ONNX
Runtime and OpenVINO; and the same with weights within ±64 (reduce_range, "int8r"), as ONNX Runtime
advises for CPUs without VNNI, whose pairs of byte products vpmaddubsw sums in int16 without saturating.

Usage: python make_models.py OUTDIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.nodes, self.inits, self.count = [], [], 0

    def name(self, base):
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base, array):
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=np.float32), n))
        return n

    def conv(self, x, cin, cout, k, stride, pad, groups=1, bn=True):
        bound = np.sqrt(6.0 / (cin // groups * k * k))
        w = self.const("w", self.rng.uniform(-bound, bound, (cout, cin // groups, k, k)))
        y = self.name("conv")
        self.nodes.append(helper.make_node("Conv", [x, w], [y], kernel_shape=[k, k], strides=[stride, stride],
                                           pads=[pad] * 4, group=groups))
        return self.bn(y, cout) if bn else y

    def bn(self, x, c, scale=1.0):
        r = self.rng
        args = [self.const("s", r.uniform(0.5, 1.5, c) * scale), self.const("b", r.uniform(-0.2, 0.2, c)),
                self.const("m", r.uniform(-0.2, 0.2, c)), self.const("v", r.uniform(0.5, 1.5, c))]
        y = self.name("bn")
        self.nodes.append(helper.make_node("BatchNormalization", [x] + args, [y], epsilon=1e-5))
        return y

    def op(self, kind, inputs, **attrs):
        y = self.name(kind.lower())
        self.nodes.append(helper.make_node(kind, inputs, [y], **attrs))
        return y


def resnet(depth, v15, batch, seed=0, width_factor=1, groups=1, group_width=None, deep=False, v2=False, size=224):
    """The ResNet of `depth` (18, 26, 50, 101): v15 puts the stride on the 3x3; width_factor
    widens the bottleneck (Wide ResNet); groups and group_width make its 3x3 grouped
    (ResNeXt: 32 groups of 4 channels at the first stage); deep gives ResNet-D's stem and
    average-pool shortcuts; v2 the pre-activation blocks."""
    layers = {18: [2, 2, 2, 2], 26: [2, 2, 2, 2], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3]}[depth]
    b = Builder(seed)
    if deep:
        x = b.op("Relu", [b.conv("input", 3, 32, 3, 2, 1)])
        x = b.op("Relu", [b.conv(x, 32, 32, 3, 1, 1)])
        x = b.op("Relu", [b.conv(x, 32, 64, 3, 1, 1)])
    elif v2:
        x = b.conv("input", 3, 64, 7, 2, 3, bn=False)
    else:
        x = b.op("Relu", [b.conv("input", 3, 64, 7, 2, 3)])
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, blocks in enumerate(layers):
        planes = 64 << stage
        width = group_width * groups << stage if group_width else planes * width_factor
        for i in range(blocks):
            stride = 2 if stage > 0 and i == 0 else 1
            if depth == 18:
                y = b.op("Relu", [b.conv(x, cin, planes, 3, stride, 1)])
                y = b.conv(y, planes, planes, 3, 1, 1)
                cout = planes
            elif v2:
                cout = 4 * planes
                pre = b.op("Relu", [b.bn(x, cin)])
                y = b.op("Relu", [b.bn(b.conv(pre, cin, width, 1, 1, 0, bn=False), width)])
                y = b.op("Relu", [b.bn(b.conv(y, width, width, 3, stride, 1, bn=False), width)])
                y = b.conv(y, width, cout, 1, 1, 0, bn=False)
                shortcut = b.conv(pre, cin, cout, 1, stride, 0, bn=False) if stride != 1 or cin != cout else x
                x = b.op("Add", [y, shortcut])
                cin = cout
                continue
            else:
                s1, s3 = (1, stride) if v15 else (stride, 1)
                cout = 4 * planes
                y = b.op("Relu", [b.conv(x, cin, width, 1, s1, 0)])
                y = b.op("Relu", [b.conv(y, width, width, 3, s3, 1, groups=groups)])
                y = b.conv(y, width, cout, 1, 1, 0)
            if stride != 1 or cin != cout:
                if deep and stride != 1:
                    pooled = b.op("AveragePool", [x], kernel_shape=[2, 2], strides=[2, 2])
                    shortcut = b.conv(pooled, cin, cout, 1, 1, 0)
                else:
                    shortcut = b.conv(x, cin, cout, 1, stride, 0)
            else:
                shortcut = x
            x = b.op("Relu", [b.op("Add", [y, shortcut])])
            cin = cout
    if v2:
        x = b.op("Relu", [b.bn(x, cin)])
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    bound = 1 / np.sqrt(cin)
    w = b.const("fc_w", b.rng.uniform(-bound, bound, (1000, cin)))
    bias = b.const("fc_b", b.rng.uniform(-bound, bound, 1000))
    b.nodes.append(helper.make_node("Gemm", [x, w, bias], ["logits"], transB=1))
    b.nodes[0].input[0] = "input"
    graph = helper.make_graph(
        b.nodes, f"resnet{depth}", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 1000])], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="resnetc-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def quantize(fp32, qdq, reduce_range=False):
    """`fp32` quantized by ONNX Runtime's quantize_static into the QDQ model `qdq` (with
    weights within ±64 where `reduce_range`)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Calibration(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(1)
            self.inputs = iter([{"input": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}
                                for _ in range(16)])

        def get_next(self):
            return next(self.inputs, None)

    # ONNX Runtime's recommended pre-processing first (shape inference, BatchNorm folded into
    # the convolutions), so that the quantizer sees Conv, Relu and Add as exporters leave them.
    prepared = qdq + ".prepared.onnx"
    quant_pre_process(fp32, prepared, skip_symbolic_shape=True)
    quantize_static(prepared, qdq, Calibration(), quant_format=QuantFormat.QDQ, per_channel=True,
                    reduce_range=reduce_range, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    os.remove(prepared)


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for depth, v15, tag in [(18, False, "resnet18"), (50, False, "resnet50"), (50, True, "resnet50-v1.5")]:
        for batch in (1, 8):
            path = os.path.join(out, f"{tag}-b{batch}.onnx")
            if not os.path.exists(path):
                onnx.save_model(resnet(depth, v15, batch), path)
                print("wrote", path, flush=True)
    family = [
        ("resnet101-b1", dict(depth=101, v15=True)),
        ("wide-resnet50-2-b1", dict(depth=50, v15=True, width_factor=2)),
        ("resnext50-32x4d-b1", dict(depth=50, v15=True, groups=32, group_width=4)),
        ("resnet26d-b1", dict(depth=26, v15=True, deep=True)),
        ("resnet50-v2-b1", dict(depth=50, v15=True, v2=True)),
        ("resnet50-160px-b1", dict(depth=50, v15=False, size=160)),
    ]
    for tag, spec in family:
        path = os.path.join(out, tag + ".onnx")
        if not os.path.exists(path):
            onnx.save_model(resnet(batch=1, **spec), path)
            print("wrote", path, flush=True)
    path = os.path.join(out, "resnet50-b4.onnx")
    if not os.path.exists(path):
        onnx.save_model(resnet(50, False, 4), path)
        print("wrote", path, flush=True)
    for fp32, tag in [("resnet18-b1", "resnet18"), ("resnet50-v1.5-b1", "resnet50-v1.5")]:
        for suffix, reduce_range in [("int8", False), ("int8r", True)]:
            path = os.path.join(out, f"{tag}-{suffix}-b1.onnx")
            if not os.path.exists(path):
                quantize(os.path.join(out, fp32 + ".onnx"), path, reduce_range)
                print("wrote", path, flush=True)
