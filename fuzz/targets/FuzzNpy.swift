import Runtime

/// libFuzzer entry: any bytes as a .npy file must read or be refused.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNpy(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  if let tensor = try? Npy.read(bytes) {
    // Bit patterns, not float equality: NaN payloads must survive too.
    let again = try? Npy.read(Npy.write(tensor))
    precondition(again.map(Npy.write) == Npy.write(tensor), "write/read round trip differs")
  }
  return 0
}
