import Foundation
import Testing

@testable import ONNX

/// Inputs the fuzzer (fuzz/run.sh) found crashing, kept so they stay errors.
@Suite struct FuzzRegressionTests {
  @Test func reshapeWhoseShapeProductOverflows() throws {
    let path = try fixturesDirectory() + "/regressions/fuzz-reshape-overflow.onnx"
    #expect(throws: ONNXError.self) { try ONNXImporter.load(path: path) }
    #expect(throws: ONNXError.self) {
      try ONNXImporter.load(path: path, inputShapes: [InputShape(input: nil, shape: [1, 3, 8, 8])])
    }
  }
}
