"""Write the benchmark's ONNX models: the paper's ResNet-18 and ResNet-50 (stride on the
bottleneck's first 1x1, "v1") and ResNet-50 v1.5 (stride on the 3x3, as torchvision), with
BatchNorm nodes as exporters leave them for inference, at batch 1 and 8. Weights are seeded:
He-uniform convolutions, BatchNorm statistics far from the identity.

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

    def conv(self, x, cin, cout, k, stride, pad):
        bound = np.sqrt(6.0 / (cin * k * k))
        w = self.const("w", self.rng.uniform(-bound, bound, (cout, cin, k, k)))
        y = self.name("conv")
        self.nodes.append(helper.make_node("Conv", [x, w], [y], kernel_shape=[k, k], strides=[stride, stride],
                                           pads=[pad] * 4))
        return self.bn(y, cout)

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


def resnet(depth, v15, batch, seed=0):
    layers = {18: [2, 2, 2, 2], 50: [3, 4, 6, 3]}[depth]
    b = Builder(seed)
    x = b.op("Relu", [b.conv("input", 3, 64, 7, 2, 3)])
    x = b.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for stage, blocks in enumerate(layers):
        width = 64 << stage
        for i in range(blocks):
            stride = 2 if stage > 0 and i == 0 else 1
            if depth == 18:
                y = b.op("Relu", [b.conv(x, cin, width, 3, stride, 1)])
                y = b.conv(y, width, width, 3, 1, 1)
                cout = width
            else:
                s1, s3 = (1, stride) if v15 else (stride, 1)
                y = b.op("Relu", [b.conv(x, cin, width, 1, s1, 0)])
                y = b.op("Relu", [b.conv(y, width, width, 3, s3, 1)])
                y = b.conv(y, width, 4 * width, 1, 1, 0)
                cout = 4 * width
            shortcut = b.conv(x, cin, cout, 1, stride, 0) if stride != 1 or cin != cout else x
            x = b.op("Relu", [b.op("Add", [y, shortcut])])
            cin = cout
    x = b.op("Flatten", [b.op("GlobalAveragePool", [x])], axis=1)
    bound = 1 / np.sqrt(cin)
    w = b.const("fc_w", b.rng.uniform(-bound, bound, (1000, cin)))
    bias = b.const("fc_b", b.rng.uniform(-bound, bound, 1000))
    b.nodes.append(helper.make_node("Gemm", [x, w, bias], ["logits"], transB=1))
    b.nodes[0].input[0] = "input"
    graph = helper.make_graph(
        b.nodes, f"resnet{depth}", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, 224, 224])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 1000])], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="resnetc-bench")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for depth, v15, tag in [(18, False, "resnet18"), (50, False, "resnet50"), (50, True, "resnet50-v1.5")]:
        for batch in (1, 8):
            path = os.path.join(out, f"{tag}-b{batch}.onnx")
            if not os.path.exists(path):
                onnx.save_model(resnet(depth, v15, batch), path)
                print("wrote", path, flush=True)
