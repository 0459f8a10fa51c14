import GraphIR

/// libFuzzer entry: any text as textual IR must parse to a verified graph or an error.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIR(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  if let graph = try? IRParser.parse(
    text,
    constantData: { _, type in
      guard type.elementCount <= 1 << 16 else { throw GraphError.noInputs }
      return Array(repeating: 0.5, count: type.elementCount)
    })
  {
    // What parses prints and parses back to the same graph.
    let again = try? IRParser.parse(IRPrinter.print(graph)) { name, _ in graph.constants[name]!.data }
    precondition(again == graph, "print/parse round trip differs")
  }
  return 0
}
