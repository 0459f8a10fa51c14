/// Element types a tensor can hold: 32-bit floats, and the integers of quantized models
/// (8-bit values, 32-bit biases and accumulators).
public enum DType: String, Hashable, Sendable, CaseIterable {
  /// IEEE 754 single precision, little-endian in every file resnetc reads or writes.
  case f32
  /// Signed 8-bit integers, -128...127.
  case i8
  /// Unsigned 8-bit integers, 0...255.
  case u8
  /// Signed 32-bit integers.
  case i32

  /// Size of one element in bytes.
  public var byteSize: Int {
    switch self {
    case .f32, .i32: 4
    case .i8, .u8: 1
    }
  }

  /// Whether elements are integers (held in `Tensor.integers`).
  public var isInteger: Bool { self != .f32 }

  /// The values an element can take, for the integer types.
  public var integerRange: ClosedRange<Int32>? {
    switch self {
    case .f32: nil
    case .i8: -128...127
    case .u8: 0...255
    case .i32: Int32.min...Int32.max
    }
  }
}

/// The static type of a tensor value: element type and shape (NCHW for images).
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
  /// Element type.
  public var dtype: DType
  /// Dimensions, outermost first. Every dimension is positive in a verified graph.
  public var shape: [Int]

  /// Makes a type; `dtype` defaults to f32.
  public init(_ shape: [Int], dtype: DType = .f32) {
    self.dtype = dtype
    self.shape = shape
  }

  /// Number of dimensions.
  public var rank: Int { shape.count }

  /// `f32[1,3,224,224]`, the spelling the textual IR uses.
  public var description: String {
    "\(dtype.rawValue)[\(shape.map(String.init).joined(separator: ","))]"
  }
}

/// The largest number of elements resnetc accepts in one tensor (2^40, about 4 TB of f32):
/// any larger shape is a malformed file, not a model.
public let maxElementCount = 1 << 40

/// The largest rank resnetc accepts.
public let maxRank = 8

extension TensorType {
  /// The number of elements, or an error when a dimension is not positive, the rank is too
  /// large, or the product passes `maxElementCount`. `context` names what the shape belongs to.
  public func checkedElementCount(context: String) throws(GraphError) -> Int {
    try checkedShapeProduct(shape, context: context)
  }

  /// The number of elements of a type already known to be valid.
  public var elementCount: Int { shape.reduce(1, *) }
}

/// Product of `shape` after checking rank, positive dimensions and overflow.
public func checkedShapeProduct(_ shape: [Int], context: String) throws(GraphError) -> Int {
  guard shape.count <= maxRank else {
    throw .rankTooLarge(context: context, rank: shape.count, limit: maxRank)
  }
  var product = 1
  for dim in shape {
    guard dim > 0 else { throw .nonPositiveDimension(context: context, shape: shape) }
    let (next, overflow) = product.multipliedReportingOverflow(by: dim)
    guard !overflow, next <= maxElementCount else {
      throw .shapeTooLarge(context: context, shape: shape, limit: maxElementCount)
    }
    product = next
  }
  return product
}
