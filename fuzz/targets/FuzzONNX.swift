import ONNX

/// libFuzzer entry: any bytes as an ONNX model must give a graph or an error, never a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  _ = try? ONNXImporter.importModel(
    bytes, name: "fuzz", directory: nil, inputShapes: [InputShape(input: nil, shape: [1, 3, 8, 8])])
  _ = try? ONNXImporter.importModel(bytes, name: "fuzz", directory: nil)
  return 0
}
