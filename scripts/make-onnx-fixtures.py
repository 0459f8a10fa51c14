"""Write the ONNX fixtures that Tests/ONNXTests read: one small model per op and attribute
variant (built with onnx.helper), and small ResNets exported by PyTorch, each with a seeded
input and ONNX Runtime's output:

    NAME.onnx  NAME.input.npy  NAME.ort.npy

Needs: pip install torch onnx onnxruntime onnxscript numpy (CI does not: the files are
committed). Usage: python3 scripts/make-onnx-fixtures.py Tests/ONNXTests/Fixtures
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1234)


def const(name, array, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(array, dtype=dtype), name)


def rand(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def save(name, model, x, directory=out, **save_args):
    # Outputs are declared without a shape; ONNX's own shape inference fills it in.
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model)
    path = os.path.join(directory, name + ".onnx")
    onnx.save_model(model, path, **save_args)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.save(os.path.join(directory, name + ".input.npy"), x)
    np.save(os.path.join(directory, name + ".ort.npy"), y.astype(np.float32))
    print(f"{name}: {x.shape} -> {y.shape}")


def model(name, nodes, x_shape, y_shape, initializers=(), opset=13, x_name="x", y_name="y"):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(x_name, TensorProto.FLOAT, x_shape)],
        [helper.make_value_info(y_name, helper.make_tensor_type_proto(TensorProto.FLOAT, y_shape))],
        initializer=list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="make-onnx-fixtures")
    m.ir_version = 7 if opset < 15 else 8
    return m


def single(name, op, x_shape, y_shape, initializers=(), inputs=None, opset=13, **attrs):
    inputs = inputs or ["x"] + [t.name for t in initializers]
    node = helper.make_node(op, inputs, ["y"], name=name + "_node", **attrs)
    save(name, model(name, [node], x_shape, y_shape, initializers, opset), rand(*x_shape))


# Conv: bias, strides, asymmetric pads, groups, dilations, auto_pad, depthwise.
single("conv_bias", "Conv", [1, 3, 7, 7], None, [const("w", rand(4, 3, 3, 3, scale=0.3)), const("b", rand(4))],
       pads=[1, 1, 1, 1])
single("conv_stride_asym_pads", "Conv", [2, 3, 8, 9], None, [const("w", rand(5, 3, 3, 2, scale=0.3))],
       strides=[2, 3], pads=[0, 1, 2, 1], kernel_shape=[3, 2])
single("conv_groups_dilation", "Conv", [1, 4, 9, 9], None, [const("w", rand(6, 2, 3, 3, scale=0.3)), const("b", rand(6))],
       group=2, dilations=[2, 2], pads=[2, 2, 2, 2])
single("conv_depthwise", "Conv", [1, 6, 6, 6], None, [const("w", rand(6, 1, 3, 3, scale=0.3))], group=6, pads=[1, 1, 1, 1],
       opset=11)
for pad in ["SAME_UPPER", "SAME_LOWER", "VALID"]:
    single("conv_auto_pad_" + pad.lower(), "Conv", [1, 2, 8, 8], None, [const("w", rand(3, 2, 4, 4, scale=0.3))],
           strides=[2, 2], auto_pad=pad)

# BatchNormalization at opset 9 and 15.
bn = lambda c: [const("s", rng.uniform(0.5, 1.5, c)), const("b", rand(c)), const("m", rand(c, scale=0.2)),
                const("v", rng.uniform(0.5, 1.5, c))]
single("batchnorm_opset9", "BatchNormalization", [2, 3, 4, 4], None, bn(3), opset=9, epsilon=1e-3)
single("batchnorm_opset15", "BatchNormalization", [1, 5, 3, 3], None, bn(5), opset=15, epsilon=1e-5, momentum=0.9)

# Relu, Add (same shape and a broadcast constant), Sum.
save("relu_add", model("relu_add", [
    helper.make_node("Relu", ["x"], ["r"]),
    helper.make_node("Add", ["r", "x"], ["y"])], [1, 2, 3, 3], None), rand(1, 2, 3, 3))
save("add_broadcast_constant", model("add_broadcast_constant", [
    helper.make_node("Add", ["x", "c"], ["y"])], [1, 3, 2, 2], None, [const("c", rand(3, 1, 1))]), rand(1, 3, 2, 2))
save("sum3", model("sum3", [
    helper.make_node("Relu", ["x"], ["r"]),
    helper.make_node("Sum", ["x", "r", "x"], ["y"])], [1, 2, 2, 3], None, opset=9), rand(1, 2, 2, 3))

# MaxPool and AveragePool.
single("maxpool_ceil", "MaxPool", [1, 2, 9, 9], None, kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
single("maxpool_dilation", "MaxPool", [1, 2, 8, 8], None, kernel_shape=[2, 2], dilations=[2, 2], opset=12)
single("maxpool_same_upper", "MaxPool", [1, 1, 7, 7], None, kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER",
       opset=10)
single("avgpool_include_pad", "AveragePool", [1, 2, 5, 5], None, kernel_shape=[3, 3], pads=[1, 1, 1, 1],
       count_include_pad=1)
single("avgpool_exclude_pad_ceil", "AveragePool", [1, 2, 6, 6], None, kernel_shape=[3, 3], strides=[2, 2],
       pads=[1, 1, 1, 1], ceil_mode=1, count_include_pad=0)
single("avgpool_resnet_d", "AveragePool", [1, 3, 7, 7], None, kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1,
       count_include_pad=0, opset=17)

# The classifier head in its exported forms.
save("gap_flatten_gemm", model("gap_flatten_gemm", [
    helper.make_node("GlobalAveragePool", ["x"], ["g"]),
    helper.make_node("Flatten", ["g"], ["f"], axis=1),
    helper.make_node("Gemm", ["f", "w", "b"], ["y"], transB=1)], [2, 4, 3, 3], None,
    [const("w", rand(5, 4)), const("b", rand(5))]), rand(2, 4, 3, 3))
save("gemm_alpha_beta", model("gemm_alpha_beta", [
    helper.make_node("Gemm", ["x", "w", "c"], ["y"], alpha=0.5, beta=2.0)], [2, 3], None,
    [const("w", rand(3, 4)), const("c", rand(1, 4))], opset=11), rand(2, 3))
save("gemm_row_bias", model("gemm_row_bias", [
    helper.make_node("Gemm", ["x", "w", "c"], ["y"], transB=1)], [2, 3], None,
    [const("w", rand(4, 3)), const("c", rand(2, 4))]), rand(2, 3))
save("matmul_add", model("matmul_add", [
    helper.make_node("Flatten", ["x"], ["f"], axis=1),
    helper.make_node("MatMul", ["f", "w"], ["m"]),
    helper.make_node("Add", ["m", "b"], ["y"])], [1, 2, 2, 2], None,
    [const("w", rand(8, 3)), const("b", rand(3))]), rand(1, 2, 2, 2))

# Shapes: Flatten at other axes, Reshape with 0 and -1 (initializer and Constant node).
single("flatten_axis2", "Flatten", [2, 3, 4, 5], None, axis=2)
single("flatten_axis_negative", "Flatten", [2, 3, 4, 5], None, axis=-1)
single("reshape_zero_minus_one", "Reshape", [2, 3, 4, 4], None, [const("shape", [0, -1], np.int64)])
save("reshape_constant_node", model("reshape_constant_node", [
    helper.make_node("Constant", [], ["shape"], value=const("s", [2, 3, 16], np.int64)),
    helper.make_node("Reshape", ["x", "shape"], ["y"])], [2, 3, 4, 4], None, opset=14), rand(2, 3, 4, 4))

# Constant, Identity, Dropout at inference.
save("constant_identity_dropout", model("constant_identity_dropout", [
    helper.make_node("Constant", [], ["k"], value=const("k", rand(1, 2, 1, 1))),
    helper.make_node("Identity", ["x"], ["i"]),
    helper.make_node("Dropout", ["i", "ratio"], ["d"]),
    helper.make_node("Add", ["d", "k"], ["y"])], [1, 2, 3, 3], None, [const("ratio", 0.5)], opset=12),
    rand(1, 2, 3, 3))

# Pad: attribute form (opset 9), input form with a constant value, and zero channels.
single("pad_opset9", "Pad", [1, 2, 3, 3], None, opset=9, pads=[0, 0, 1, 2, 0, 0, 2, 1], value=0.5)
single("pad_opset13_value", "Pad", [1, 2, 3, 3], None, [const("pads", [0, 0, 1, 0, 0, 0, 0, 1], np.int64),
       const("value", -1.5)], opset=13)
single("pad_channels", "Pad", [1, 2, 2, 2], None, [const("pads", [0, 1, 0, 0, 0, 3, 0, 0], np.int64)], opset=11)

# Softmax before and after opset 13.
single("softmax_opset11", "Softmax", [2, 5], None, opset=11, axis=1)
single("softmax_opset13", "Softmax", [3, 4], None, opset=13, axis=-1)

# Weights in a side file, as large exports store them.
ext_dir = os.path.join(out, "external")
os.makedirs(ext_dir, exist_ok=True)
m = model("external_conv", [helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])], [1, 3, 5, 5], None,
          [const("w", rand(8, 3, 3, 3)), const("b", rand(8))])
save("external_conv", m, rand(1, 3, 5, 5), directory=ext_dir, save_as_external_data=True,
     all_tensors_to_one_file=True, location="external_conv.weights", size_threshold=0)


# Small ResNets exported by PyTorch.
import torch
from torch import nn

torch.manual_seed(0)


class Basic(nn.Module):
    def __init__(self, cin, cout, stride, groups=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False, groups=groups)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class Bottleneck(nn.Module):
    """ResNeXt / wide / ResNet-D bottleneck: grouped 3x3, average-pool shortcut."""

    def __init__(self, cin, width, cout, stride, groups):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, groups=groups, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            pool = [nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False)] if stride != 1 else []
            self.down = nn.Sequential(*pool, nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class TinyResNet(nn.Module):
    """torchvision's layout (7x7 stem, max pool, 4 stages, fc) at 1/8 of the width."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layers = nn.Sequential(Basic(8, 8, 1), Basic(8, 16, 2), Basic(16, 32, 2), Basic(32, 64, 2))
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layers(x)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class TinyResNeXtD(nn.Module):
    """A ResNet-D stem (three 3x3 convs), ResNeXt bottlenecks (32 groups... here 4) with
    wide widths, average-pool shortcuts."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.Conv2d(8, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(3, 2, 1))
        self.layers = nn.Sequential(Bottleneck(16, 16, 32, 1, 4), Bottleneck(32, 32, 64, 2, 4),
                                    Bottleneck(64, 32, 64, 1, 4), Bottleneck(64, 64, 128, 2, 8))
        self.fc = nn.Linear(128, 7)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def randomized(net):
    g = torch.Generator().manual_seed(42)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
    return net.eval()


def export(name, net, shape, opset, dynamo=False, dynamic_batch=False):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(7))
    path = os.path.join(out, name + ".onnx")
    args = dict(input_names=["input"], output_names=["logits"], opset_version=opset, dynamo=dynamo)
    if dynamic_batch:
        args["dynamic_axes"] = {"input": {0: "batch"}, "logits": {0: "batch"}}
    torch.onnx.export(net, (x,), path, **args)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = session.run(None, {"input": x.numpy()})[0]
    np.save(os.path.join(out, name + ".input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(out, name + ".ort.npy"), y.astype(np.float32))
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"{name}: opset {opset}, {os.path.getsize(path)} bytes, ops {ops}")


export("torch_tiny_resnet_opset13", randomized(TinyResNet()), (1, 3, 64, 64), 13)
export("torch_tiny_resnet_dynamic_batch", randomized(TinyResNet()), (2, 3, 32, 32), 17, dynamic_batch=True)
export("torch_tiny_resnext_d_opset17", randomized(TinyResNeXtD()), (1, 3, 48, 48), 17)
export("torch_tiny_resnet_dynamo_opset18", randomized(TinyResNet()), (1, 3, 32, 32), 18, dynamo=True)
