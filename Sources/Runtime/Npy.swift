import Formats
import GraphIR

/// A `.npy` file resnetc cannot read: the errors of the shared format definition.
public typealias NpyError = ResnetcNpyError

/// NumPy's `.npy` format for f32 tensors, as `Tensor`s: the format itself is defined once, in
/// `ResnetcNpy` (Sources/Formats), which compiled Swift programs hold verbatim.
public enum Npy {
  static var magic: [UInt8] { ResnetcNpy.magic }
  /// The most bytes a `.npy` file holding `elements` floats can have.
  public static func byteLimit(elements: Int) -> Int { ResnetcNpy.byteLimit(elements: elements) }

  /// Reads a tensor from the bytes of a `.npy` file.
  public static func read(_ bytes: [UInt8]) throws(NpyError) -> Tensor {
    let layout = try ResnetcNpy.layout(bytes)
    let type = TensorType(layout.shape)
    return Tensor(type: type, data: LittleEndianFloats.read(bytes, offset: layout.dataStart, count: type.elementCount))
  }

  /// The bytes of a version 1.0 `.npy` file holding `tensor` as little-endian float32.
  public static func write(_ tensor: Tensor) -> [UInt8] {
    var bytes = ResnetcNpy.header(shape: tensor.type.shape)
    LittleEndianFloats.append(tensor.data, to: &bytes)
    return bytes
  }
}
