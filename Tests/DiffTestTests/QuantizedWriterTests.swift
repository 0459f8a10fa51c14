import DiffTest
import GraphIR
import ONNX
import Runtime
import Testing

/// A quantized graph written as ONNX by `ONNXWriter` and imported back computes the same
/// integers: QuantizeLinear, QLinearConv (a ReLU epilogue as DequantizeLinear, Relu,
/// QuantizeLinear) and DequantizeLinear.
@Suite struct QuantizedWriterTests {
  static func graph(epilogue: Epilogue) -> Graph {
    var constants = ConstantTable()
    constants.set("xs", Tensor(type: TensorType([]), data: [0.05]))
    constants.set("xz", Tensor(type: TensorType([], dtype: .u8), integers: [128]))
    constants.set(
      "w", Tensor(type: TensorType([6, 4, 3, 3], dtype: .i8), integers: (0..<216).map { Int32($0 * 37 % 255 - 127) }))
    constants.set("ws", Tensor(type: TensorType([6]), data: [0.002, 0.003, 0.004, 0.005, 0.006, 0.007]))
    constants.set("wz", Tensor(type: TensorType([6], dtype: .i8), integers: [0, 0, 0, 0, 0, 0]))
    constants.set("ys", Tensor(type: TensorType([]), data: [0.04]))
    constants.set("yz", Tensor(type: TensorType([], dtype: .u8), integers: [90]))
    constants.set("b", Tensor(type: TensorType([6], dtype: .i32), integers: [-900, -300, 0, 300, 900, 1500]))
    let attributes = Conv2dAttributes(padding: Padding2d(top: 1, left: 1, bottom: 1, right: 1), epilogue: epilogue)
    return Graph(
      name: "q", inputs: [GraphInput(name: "x", type: TensorType([1, 4, 5, 5]))], constants: constants,
      nodes: [
        Node(
          name: "xq", op: .quantize(axis: 1), operands: [.value("x"), .constant("xs"), .constant("xz")],
          type: TensorType([1, 4, 5, 5], dtype: .u8)),
        Node(
          name: "yq", op: .qconv2d(attributes),
          operands: [.value("xq")] + ["xs", "xz", "w", "ws", "wz", "ys", "yz", "b"].map { .constant($0) },
          type: TensorType([1, 6, 5, 5], dtype: .u8)),
        Node(
          name: "y", op: .dequantize(axis: 1), operands: [.value("yq"), .constant("ys"), .constant("yz")],
          type: TensorType([1, 6, 5, 5])),
      ], outputs: ["y"])
  }

  @Test(arguments: [Epilogue.none, .relu])
  func roundTripsThroughONNX(epilogue: Epilogue) throws {
    let graph = Self.graph(epilogue: epilogue)
    let imported = try ONNXImporter.importModel(ONNXWriter.model(graph), name: "q", directory: nil)
    let x = Tensor(type: TensorType([1, 4, 5, 5]), data: (0..<100).map { Float($0 % 17) * 0.4 - 3 })
    let expected = try Interpreter(graph: graph).run([x])[0]
    #expect(try Interpreter(graph: imported).run([x])[0] == expected)
    // The ReLU clips: some outputs sit at the zero point only with it.
    let zeros = expected.data.filter { $0 == 0 }.count
    #expect(epilogue == .relu ? zeros > 0 : expected.data.contains { $0 < 0 })
  }
}
