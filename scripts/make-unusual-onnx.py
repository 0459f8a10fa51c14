"""Write valid but unusual ONNX graphs with ONNX Runtime's outputs, for the tests that run
every path of resnetc (interpreter -O0 and -O1, compiled C on each target, Swift) against
ONNX Runtime (Tests/DiffTestTests/UnusualONNXTests.swift):

    NAME.onnx  NAME.input<i>.npy (one per graph input)  NAME.ort<j>.npy (one per output)

Each graph passes onnx.checker and runs in ONNX Runtime. They hold what the built-in and
exported ResNets do not: a BatchNorm whose result feeds another BatchNorm and a ReLU, names
that spell the lowering's old buffer markers (x@blocked, b@x), graph outputs also read
inside the graph, weights shared by two convolutions with their own BatchNorms, chains of
fusable ops, channel counts and maps of odd sizes, hostile names.

Needs: pip install onnx onnxruntime numpy (CI does not: the files are committed).
Usage: python3 scripts/make-unusual-onnx.py Tests/DiffTestTests/Unusual
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(20261125)


def rand(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def weight(k, c, r, s):
    return rand(k, c, r, s, scale=(1.0 / (c * r * s)) ** 0.5)


class G:
    """A graph under construction: nodes, initializers, inputs, outputs."""

    def __init__(self):
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []

    def input(self, name, shape):
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
        return name

    def const(self, name, array):
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op, inputs, output, **attributes):
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def conv(self, x, w_name, k, c, r, s, out, bias=None, group=1, **attributes):
        inputs = [x, w_name if w_name in [i.name for i in self.inits] else self.const(w_name, weight(k, c // group, r, s))]
        if bias:
            inputs.append(self.const(bias, rand(k, scale=0.1)))
        pads = attributes.pop("pads", [r // 2, s // 2, r // 2, s // 2])
        return self.node("Conv", inputs, out, kernel_shape=[r, s], pads=pads, group=group, **attributes)

    def bn(self, x, c, out, prefix=None, epsilon=1e-5):
        p = prefix or out
        names = [
            self.const(p + ".scale", rng.uniform(0.5, 1.5, c).astype(np.float32)),
            self.const(p + ".bias", rand(c, scale=0.3)),
            self.const(p + ".mean", rand(c, scale=0.3)),
            self.const(p + ".var", rng.uniform(0.5, 1.5, c).astype(np.float32)),
        ]
        return self.node("BatchNormalization", [x] + names, out, epsilon=epsilon)

    def save(self, name, feeds, opset=17):
        def model(shapes):
            outputs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, shape) for o, shape in zip(self.outputs, shapes)]
            graph = helper.make_graph(self.nodes, name, self.inputs, outputs, initializer=self.inits)
            m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
            m.ir_version = 8
            return m

        def run(m):
            session = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
            return session.run(None, dict(zip([i.name for i in self.inputs], feeds)))

        # Output shapes as ONNX Runtime computes them, then the checked model.
        first = run(model([[]] * len(self.outputs)))
        final = model([list(r.shape) for r in first])
        onnx.checker.check_model(final, full_check=True)
        results = run(final)
        path = os.path.join(out, name)
        onnx.save(final, path + ".onnx")
        for i, feed in enumerate(feeds):
            np.save(path + f".input{i}.npy", feed)
        for j, result in enumerate(results):
            np.save(path + f".ort{j}.npy", result.astype(np.float32))
        print(name, [r.shape for r in results])


# 1. conv -> BatchNorm n1 -> {BatchNorm n2, Relu}, Add(n2, relu): n1 folds into the conv, n2
# must not fold into it too.
g = G()
x = g.input("x", [1, 8, 6, 6])
c = g.conv(x, "conv.w", 8, 8, 3, 3, "conv", bias="conv.b")
n1 = g.bn(c, 8, "n1")
n2 = g.bn(n1, 8, "n2")
r = g.node("Relu", [n1], "relu")
g.outputs.append(g.node("Add", [n2, r], "y"))
g.save("bn_fan_out", [rand(1, 8, 6, 6)])

# 2. Value names that spell the lowering's old markers.
g = G()
x = g.input("x", [1, 16, 6, 6])
xb = g.conv(x, "w@packed8", 16, 16, 3, 3, "x@blocked")
a = g.conv(x, "w", 16, 16, 3, 3, "a")
ab = g.conv(xb, "w@packed16", 16, 16, 3, 3, "a@blocked")
s = g.node("Add", [a, ab], "b@x")
g.outputs += [s, g.node("Relu", [xb], "x@blocked@blocked")]
g.save("at_names", [rand(1, 16, 6, 6)])

# 3. Outputs also read inside the graph; several outputs; Identity and Dropout.
g = G()
x = g.input("input", [2, 8, 5, 7])
c1 = g.node("Relu", [g.conv(x, "w1", 16, 8, 3, 3, "c1")], "r1")
c2 = g.bn(g.conv(c1, "w2", 16, 16, 1, 1, "c2", pads=[0, 0, 0, 0]), 16, "bn2")
s = g.node("Add", [c2, c1], "sum")
g.outputs += [c1, g.node("Identity", [s], "sum_out"), g.node("Relu", [g.node("Dropout", [s], "drop")], "final")]
g.save("outputs_read_inside", [rand(2, 8, 5, 7)])

# 4. One weight under two convolutions, each with its own BatchNorm; a BatchNorm's
# parameters shared by two BatchNorms.
g = G()
x0 = g.input("x0", [1, 16, 6, 6])
x1 = g.input("x1", [1, 16, 6, 6])
g.const("shared.w", weight(16, 16, 3, 3))
a = g.bn(g.conv(x0, "shared.w", 16, 16, 3, 3, "ca"), 16, "bna")
b = g.bn(g.conv(x1, "shared.w", 16, 16, 3, 3, "cb"), 16, "bnb")
d = g.node("BatchNormalization", [b, "bna.scale", "bna.bias", "bna.mean", "bna.var"], "bnb2", epsilon=1e-5)
g.outputs.append(g.node("Relu", [g.node("Add", [a, d], "s")], "y"))
g.save("shared_weights", [rand(1, 16, 6, 6), rand(1, 16, 6, 6)])

# 5. Chains of fusable ops: bn -> bn, relu -> relu, a Sum of four, a BatchNorm after a pool.
g = G()
x = g.input("x", [1, 24, 9, 9])
c = g.conv(x, "w", 24, 24, 3, 3, "c")
b1 = g.bn(g.bn(c, 24, "b1"), 24, "b2")
r = g.node("Relu", [g.node("Relu", [b1], "r1")], "r2")
p = g.bn(g.node("MaxPool", [r], "p", kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]), 24, "bp")
s = g.node("Sum", [p, r, c, b1], "sum4")
g.outputs.append(g.node("Add", [g.node("Add", [s, p], "a1"), c], "a2"))
g.save("fusable_chains", [rand(1, 24, 9, 9)])

# 6. Odd channel counts and maps, batch 3, depthwise and dilated convolutions, asymmetric
# padding, strides 2x1.
g = G()
x = g.input("x", [3, 3, 7, 3])
c1 = g.node("Relu", [g.bn(g.conv(x, "w1", 5, 3, 3, 3, "c1", pads=[0, 1, 2, 1]), 5, "bn1")], "r1")
c2 = g.conv(c1, "w2", 13, 5, 1, 1, "c2", pads=[0, 0, 0, 0])
c3 = g.conv(c2, "w3", 13, 13, 3, 3, "c3", group=13, dilations=[2, 1], pads=[2, 1, 2, 1])
c4 = g.conv(c3, "w4", 17, 13, 2, 3, "c4", bias="b4", strides=[2, 1], pads=[1, 0, 0, 2])
g.outputs += [g.node("Relu", [c4], "y"), c3]
g.save("odd_shapes", [rand(3, 3, 7, 3)])

# 7. Maps down to 1x1, then a head.
g = G()
x = g.input("x", [2, 16, 1, 1])
c = g.node("Relu", [g.conv(x, "w", 16, 16, 3, 3, "c", bias="b")], "r")
gap = g.node("GlobalAveragePool", [c], "gap")
f = g.node("Flatten", [gap], "flat", axis=1)
fc = g.node("Gemm", [f, g.const("fc.w", rand(10, 16, scale=0.25)), g.const("fc.b", rand(10))], "fc", transB=1)
g.outputs.append(g.node("Softmax", [fc], "prob", axis=1))
g.save("one_by_one", [rand(2, 16, 1, 1)])

# 8. Hostile names: quotes, backslashes, newlines, spaces, non-ASCII, 1,200 characters,
# names equal once sanitized.
g = G()
long = "n" * 1200
x = g.input('in "put"\\\n', [1, 8, 4, 5])
a = g.conv(x, "w/0 */", 8, 8, 3, 3, "a.b")
b = g.conv(x, "w'1'", 8, 8, 3, 3, "a_b")
c = g.node("Add", [a, b], "a-b")
d = g.node("Relu", [c], "ünïcödé 日本 " + long)
g.outputs += [g.node("Relu", [g.bn(d, 8, "a b", prefix="#include <stdio.h>")], "*/ main(")]
g.save("hostile_names", [rand(1, 8, 4, 5)])

# 9. Pools: ceil mode, dilation, padding counted or not, non-square windows.
g = G()
x = g.input("x", [1, 8, 7, 10])
m = g.node("MaxPool", [x], "m", kernel_shape=[3, 2], strides=[2, 3], pads=[1, 0, 1, 1], ceil_mode=1)
md = g.node("MaxPool", [x], "md", kernel_shape=[2, 2], strides=[1, 2], dilations=[2, 2])
a0 = g.node("AveragePool", [x], "a0", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=0,
            ceil_mode=1)
a1 = g.node("AveragePool", [x], "a1", kernel_shape=[2, 3], strides=[3, 1], pads=[1, 2, 0, 1], count_include_pad=1)
g.outputs += [m, md, a0, a1]
g.save("pools", [rand(1, 8, 7, 10)])

# 10. 64 channels on 14x14 maps (Winograd where compiled) with a residual and BatchNorms.
g = G()
x = g.input("x", [1, 64, 14, 14])
c1 = g.node("Relu", [g.bn(g.conv(x, "w1", 64, 64, 3, 3, "c1"), 64, "bn1")], "r1")
c2 = g.bn(g.conv(c1, "w2", 64, 64, 3, 3, "c2"), 64, "bn2")
g.outputs.append(g.node("Relu", [g.node("Add", [c2, x], "s")], "y"))
g.save("wide_residual", [rand(1, 64, 14, 14)])

# 11. Padding channels and maps, a 1x1 strided pool as subsampling, Reshape and Flatten.
g = G()
x = g.input("x", [2, 4, 6, 5])
pc = g.node("Pad", [x, g.const("pads_c", np.array([0, 2, 0, 0, 0, 3, 0, 0], dtype=np.int64))], "padc")
pm = g.node("Pad", [pc, g.const("pads_m", np.array([0, 0, 1, 0, 0, 0, 2, 1], dtype=np.int64)),
                    g.const("value", np.array(0.5, dtype=np.float32))], "padm")
sub = g.node("MaxPool", [pm], "sub", kernel_shape=[1, 1], strides=[2, 2])
c = g.conv(sub, "w", 9, 9, 1, 1, "c", pads=[0, 0, 0, 0])
rs = g.node("Reshape", [c, g.const("shape", np.array([2, 9, 15, 1], dtype=np.int64))], "rs")
f = g.node("Flatten", [rs], "f", axis=2)
g.outputs += [g.node("MatMul", [f, g.const("mm", rand(15, 4, scale=0.3))], "mm_out"), rs]
g.save("pads_and_shapes", [rand(2, 4, 6, 5)])

# 12. A deeper residual net with blocks whose stride sits on the 3x3 and a projection with its
# own BatchNorm, two inputs added after their stems.
g = G()
x0 = g.input("x0", [2, 3, 10, 9])
x1 = g.input("x1", [2, 3, 10, 9])
s0 = g.node("Relu", [g.bn(g.conv(x0, "s0.w", 16, 3, 3, 3, "s0"), 16, "s0.bn")], "s0.r")
s1 = g.node("Relu", [g.bn(g.conv(x1, "s1.w", 16, 3, 3, 3, "s1"), 16, "s1.bn")], "s1.r")
h = g.node("Add", [s0, s1], "stem")
b1 = g.node("Relu", [g.bn(g.conv(h, "b1.w", 32, 16, 3, 3, "b1", strides=[2, 2]), 32, "b1.bn")], "b1.r")
b2 = g.bn(g.conv(b1, "b2.w", 32, 32, 3, 3, "b2"), 32, "b2.bn")
proj = g.bn(g.conv(h, "proj.w", 32, 16, 1, 1, "proj", strides=[2, 2], pads=[0, 0, 0, 0]), 32, "proj.bn")
y = g.node("Relu", [g.node("Add", [b2, proj], "add")], "block")
gap = g.node("ReduceMean", [y], "gap", axes=[2, 3], keepdims=0)
g.outputs.append(g.node("Gemm", [gap, g.const("fc.w", rand(7, 32, scale=0.2)), g.const("fc.b", rand(7))], "logits",
                        transB=1))
g.save("two_stem_resnet", [rand(2, 3, 10, 9), rand(2, 3, 10, 9)])

# 13. No node at all: the output is the input through Identity.
g = G()
x = g.input("x", [1, 3, 4, 4])
g.outputs.append(g.node("Identity", [x], "y"))
g.save("identity_only", [rand(1, 3, 4, 4)])

# 14. Outputs that are an initializer, the graph input itself, and one value listed twice;
# an Add of a value with itself; a Conv whose bias is named "" (absent).
g = G()
x = g.input("x", [1, 2, 3, 3])
r = g.node("Relu", [g.node("Add", [x, x], "twice")], "r")
c = g.node("Conv", [r, g.const("w", weight(2, 2, 1, 1)), ""], "c", kernel_shape=[1, 1])
g.outputs += [c, g.const("table", rand(2, 2)), x, c]
g.save("odd_outputs", [rand(1, 2, 3, 3)])
