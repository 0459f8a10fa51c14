import GraphIR

/// libFuzzer entry: any bytes as a safetensors file must read or be refused.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  if let tensors = try? SafeTensors.readConstants(bytes) {
    // What reads writes and reads back to the same bytes (bit patterns: NaN payloads too).
    let written = SafeTensors.write(tensors)
    let again = try? SafeTensors.readConstants(written)
    precondition(again.map { SafeTensors.write($0) } == written, "write/read round trip differs")
  }
  return 0
}
