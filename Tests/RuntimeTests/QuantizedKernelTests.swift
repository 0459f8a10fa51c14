import GraphIR
import Testing

@testable import Runtime

/// The quantized ops' reference semantics: ONNX's rounding (half to even) and saturation.
@Suite struct QuantizedKernelTests {
  static func quantize(_ x: [Float], scale: Float, zero: Int32, dtype: DType) throws -> [Int32] {
    var constants = ConstantTable()
    constants.set("s", Tensor(type: TensorType([]), data: [scale]))
    constants.set("z", Tensor(type: TensorType([], dtype: dtype), integers: [zero]))
    let graph = Graph(
      name: "q", inputs: [GraphInput(name: "x", type: TensorType([x.count]))], constants: constants,
      nodes: [
        Node(
          name: "y", op: .quantize(axis: 0), operands: [.value("x"), .constant("s"), .constant("z")],
          type: TensorType([x.count], dtype: dtype))
      ], outputs: ["y"])
    return try Interpreter(graph: graph).run([Tensor(type: TensorType([x.count]), data: x)])[0].integers
  }

  @Test func roundsHalvesToEvenAndSaturates() throws {
    #expect(
      try Self.quantize([0.5, 1.5, 2.5, -0.5, -1.5, 1000, -1000, .nan], scale: 1, zero: 0, dtype: .i8)
        == [0, 2, 2, 0, -2, 127, -128, 0])
    #expect(try Self.quantize([-1, 0.25, 0.75, 100], scale: 0.5, zero: 128, dtype: .u8) == [126, 128, 130, 255])
  }

  @Test func dequantizesPerChannel() throws {
    var constants = ConstantTable()
    constants.set("x", Tensor(type: TensorType([2, 2], dtype: .i8), integers: [-128, 127, 3, 0]))
    constants.set("s", Tensor(type: TensorType([2]), data: [0.5, 2]))
    constants.set("z", Tensor(type: TensorType([2], dtype: .i8), integers: [0, 1]))
    let node = Node(
      name: "y", op: .dequantize(axis: 0), operands: [.constant("x"), .constant("s"), .constant("z")],
      type: TensorType([2, 2]))
    let y = Interpreter.evaluate(node.op, ["x", "s", "z"].map { constants[$0]! }, type: node.type)
    #expect(y.data == [-64, 63.5, 4, -2])
  }

  @Test func refusesAnIntegerOperandWhereFloatsAreExpected() throws {
    let types = [TensorType([2], dtype: .u8)]
    #expect(throws: GraphError.self) { try inferType(of: .relu, operands: types, node: "r") }
  }
}
