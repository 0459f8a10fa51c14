/// Float32 arrays as the little-endian bytes that `.safetensors`, `.npy` and ONNX files hold.
public enum LittleEndianFloats {
  /// `count` floats read from `bytes` starting at byte `offset`; the range must be in bounds.
  public static func read(_ bytes: [UInt8], offset: Int, count: Int) -> [Float] {
    precondition(offset >= 0 && count >= 0 && offset + 4 * count <= bytes.count, "float range out of bounds")
    let floats = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      bytes.withUnsafeBytes { raw in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(
          from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 4 * count]))
      }
      initialized = count
    }
    #if _endian(big)
      return floats.map { Float(bitPattern: $0.bitPattern.byteSwapped) }
    #else
      return floats
    #endif
  }

  /// Appends `floats` to `bytes`, four little-endian bytes each.
  public static func append(_ floats: [Float], to bytes: inout [UInt8]) {
    #if _endian(little)
      floats.withUnsafeBytes { bytes.append(contentsOf: $0) }
    #else
      for f in floats { withUnsafeBytes(of: f.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
    #endif
  }
}
