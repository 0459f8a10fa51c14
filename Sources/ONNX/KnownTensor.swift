import GraphIR

/// A tensor whose values are known at import: shape arithmetic (`Shape`, `Gather`,
/// `Concat`, ...), integer initializers and Constant nodes, or a float constant on its way
/// to becoming a graph constant. Values are Doubles, exact for every int64 a shape holds and
/// for every float.
struct KnownTensor: Equatable {
  /// The dimensions; empty for a scalar.
  var shape: [Int]
  /// The elements in row-major order.
  var values: [Double]
  /// Whether the ONNX element type is an integer (int64, int32, bool), not a float.
  var isInteger: Bool

  /// The most elements a tensor computed at import may have (2 GiB as Doubles): a file can
  /// ask for any shape without holding its data, so what it asks is checked before anything
  /// is allocated.
  static let maxElements = 1 << 28

  /// Elements of `shape`.
  static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

  /// Throws unless a result of `count` elements may be computed at import.
  static func checkSize(_ count: Int, _ n: OnnxNodeView) throws(ONNXError) {
    guard count <= maxElements else {
      throw n.fail("computes a constant of \(count) elements at import; the limit is \(maxElements)")
    }
  }

  /// Integer elements, as Int64 (clamped to its range; a NaN is 0), so that no value in a
  /// file can trap the conversion.
  var integers: [Int64] {
    values.map { v in v.isNaN ? 0 : v >= 0x1p63 ? .max : v <= -0x1p63 ? .min : Int64(v) }
  }

  /// A float tensor of the graph's kind; a scalar becomes shape `[1]`.
  var tensor: Tensor {
    Tensor(type: TensorType(shape.isEmpty ? [1] : shape), data: values.map { Float($0) })
  }

  /// The tensor under another shape of the same size.
  func reshaped(_ newShape: [Int]) -> KnownTensor {
    KnownTensor(shape: newShape, values: values, isInteger: isInteger)
  }
}

/// The NumPy broadcast of shapes `a` and `b`, or nil when they do not broadcast.
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
  let rank = max(a.count, b.count)
  let pa = Array(repeating: 1, count: rank - a.count) + a
  let pb = Array(repeating: 1, count: rank - b.count) + b
  var shape: [Int] = []
  for (x, y) in zip(pa, pb) {
    guard x == y || x == 1 || y == 1 else { return nil }
    shape.append(x == 1 ? y : x)
  }
  return shape
}

/// The elements of a tensor of `shape` holding `values`, read out at every position of the
/// larger `target` it broadcasts to; nil when it does not broadcast.
func broadcastValues<T>(_ values: [T], shape: [Int], to target: [Int]) -> [T]? {
  guard shape.count <= target.count else { return nil }
  let padded = Array(repeating: 1, count: target.count - shape.count) + shape
  guard zip(padded, target).allSatisfy({ $0 == $1 || $0 == 1 }) else { return nil }
  if padded == target { return values }
  var strides = Array(repeating: 0, count: target.count)
  var stride = 1
  for axis in (0..<target.count).reversed() {
    strides[axis] = padded[axis] == 1 ? 0 : stride
    stride *= padded[axis]
  }
  let count = target.reduce(1, *)
  var result: [T] = []
  result.reserveCapacity(count)
  for index in 0..<count {
    var rest = index, source = 0
    for axis in (0..<target.count).reversed() {
      source += (rest % target[axis]) * strides[axis]
      rest /= target[axis]
    }
    result.append(values[source])
  }
  return result
}

/// The shape an operand of shape `b` has under ONNX's legacy broadcasting (opsets before 7,
/// `broadcast=1`): `b` matches a run of `a`'s dimensions starting at `axis` (by default the
/// trailing ones), so it is padded with 1s on both sides to `a`'s rank.
func legacyBroadcastShape(_ b: [Int], into a: [Int], axis: Int?) -> [Int]? {
  let start = axis.map { $0 < 0 ? $0 + a.count : $0 } ?? (a.count - b.count)
  guard start >= 0, start + b.count <= a.count else { return nil }
  let shape = Array(repeating: 1, count: start) + b + Array(repeating: 1, count: a.count - start - b.count)
  guard zip(shape, a).allSatisfy({ $0 == $1 || $0 == 1 }) else { return nil }
  return shape
}
