import GraphIR

/// Shape arithmetic and constant subgraphs, folded at import: every shape is static, so
/// `Shape` of a value is known, and the `Gather`, `Unsqueeze`, `Concat`, `Cast`, `Slice` ...
/// that older exporters build a flatten's shape from (and `ConstantOfShape`, Caffe2's way of
/// filling weights) compute known tensors. On computed values, `Unsqueeze`, `Squeeze` and
/// `Reshape` are reshapes, `Transpose` a transpose, `Cast` to float nothing.

/// Axis `axis` of a rank-`rank` tensor, negative counting from the end.
func normalizedAxis(_ axis: Int, rank: Int, _ n: OnnxNodeView) throws(ONNXError) -> Int {
  let a = axis < 0 ? axis + rank : axis
  guard (0..<max(rank, 1)).contains(a) else { throw n.fail("axis \(axis) is out of range for rank \(rank)") }
  return a
}

/// The node's axes: the `axes` attribute before `opset`, its second input from it on.
func axesOperand(_ n: OnnxNodeView, _ c: inout ImportContext, _ a: NodeAttributes, inputFrom opset: Int64)
  throws(ONNXError) -> [Int]?
{
  if c.opset < opset { return try a.ints("axes") }
  guard let name = n.input(1) else { return nil }
  return try c.integerInput(name, node: n.label, op: n.op).map { Int($0) }
}

/// `Shape(X)` (with `start`/`end` from opset 15): the static shape, as int64.
func convertShape(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(c.opset < 15 ? [] : ["start", "end"])
  try n.expectInputs(1...1)
  let shape = try c.shape(of: try n.requiredInput(0), node: n.label)
  let rank = shape.count
  func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
  let start = clamp(try a.int("start", default: 0)), end = clamp(try a.int("end", default: rank))
  let dims = start < end ? Array(shape[start..<end]) : []
  try c.defineKnown(n.output, KnownTensor(shape: [dims.count], values: dims.map(Double.init), isInteger: true))
}

/// `ConstantOfShape(shape)`: a tensor of that shape filled with `value` (float 0 by default).
func convertConstantOfShape(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["value"])
  try n.expectInputs(1...1)
  let dims = try c.integerInput(try n.requiredInput(0), node: n.label, op: n.op)
  var shape: [Int] = []
  for d in dims {
    guard d >= 0, let v = Int(exactly: d), v <= maxElementCount else { throw n.fail("shape \(dims) is invalid") }
    shape.append(v)
  }
  guard let count = try? checkedShapeProduct(shape.map { max($0, 1) }, context: "ConstantOfShape") else {
    throw n.fail("shape \(dims) has more than \(maxElementCount) elements")
  }
  try KnownTensor.checkSize(count, n)
  var fill = 0.0, integer = false
  if let value = try a.tensor("value") {
    if value.dataType == OnnxDataType.float {
      let data = try c.decoder.floats(value).data
      guard data.count == 1 else { throw a.fail("value", "must hold one element") }
      fill = Double(data[0])
    } else {
      let data = try c.decoder.integers(value).data
      guard data.count == 1 else { throw a.fail("value", "must hold one element") }
      (fill, integer) = (Double(data[0]), true)
    }
  }
  let total = KnownTensor.count(shape)
  try c.defineKnown(
    n.output, KnownTensor(shape: shape, values: Array(repeating: fill, count: total), isInteger: integer))
}

/// `Gather(data, indices)` along `axis`, on known tensors.
func convertGather(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["axis"])
  try n.expectInputs(2...2)
  guard let data = try c.knownTensor(try n.requiredInput(0), node: n.label),
    let indices = try c.knownTensor(try n.requiredInput(1), node: n.label), indices.isInteger
  else { throw n.fail("gathers from a computed tensor; resnetc folds Gather of constants only") }
  guard !data.shape.isEmpty else { throw n.fail("gathers from a scalar") }
  let axis = try normalizedAxis(try a.int("axis", default: 0), rank: data.shape.count, n)
  let outer = data.shape[..<axis].reduce(1, *), inner = data.shape[(axis + 1)...].reduce(1, *)
  let extent = data.shape[axis]
  let (total, overflow) = (outer * inner).multipliedReportingOverflow(by: indices.values.count)
  guard !overflow else { throw n.fail("gathers too many elements") }
  try KnownTensor.checkSize(total, n)
  var values: [Double] = []
  for o in 0..<outer {
    for index in indices.integers {
      let i = Int(index < 0 ? index + Int64(extent) : index)
      guard (0..<extent).contains(i) else { throw n.fail("index \(index) is out of range for extent \(extent)") }
      values += data.values[((o * extent + i) * inner)..<((o * extent + i + 1) * inner)]
    }
  }
  let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
  try c.defineKnown(n.output, KnownTensor(shape: shape, values: values, isInteger: data.isInteger))
}

/// `Unsqueeze(X, axes)` (axes an attribute before opset 13): 1s inserted at `axes` of the
/// result.
func convertUnsqueeze(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(c.opset < 13 ? ["axes"] : [])
  try n.expectInputs(c.opset < 13 ? 1...1 : 2...2)
  guard let axes = try axesOperand(n, &c, a, inputFrom: 13) else { throw n.fail("has no axes") }
  let input = try n.requiredInput(0)
  let shape = try c.shape(of: input, node: n.label)
  let rank = shape.count + axes.count
  var positions = Set<Int>()
  for axis in axes {
    guard positions.insert(try normalizedAxis(axis, rank: rank, n)).inserted else {
      throw n.fail("axes \(axes) repeat an axis")
    }
  }
  var rest = shape.makeIterator()
  let result = (0..<rank).map { positions.contains($0) ? 1 : rest.next()! }
  try reshape(n, &c, input, to: result)
}

/// `Squeeze(X[, axes])` (axes an attribute before opset 13): the 1s at `axes`, or every 1,
/// removed.
func convertSqueeze(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(c.opset < 13 ? ["axes"] : [])
  try n.expectInputs(c.opset < 13 ? 1...1 : 1...2)
  let input = try n.requiredInput(0)
  let shape = try c.shape(of: input, node: n.label)
  let axes = try axesOperand(n, &c, a, inputFrom: 13)
  var drop = Set<Int>()
  for axis in axes ?? shape.indices.filter({ shape[$0] == 1 }) {
    let i = try normalizedAxis(axis, rank: shape.count, n)
    guard shape[i] == 1 else { throw n.fail("squeezes axis \(axis) of extent \(shape[i])") }
    drop.insert(i)
  }
  try reshape(n, &c, input, to: shape.indices.filter { !drop.contains($0) }.map { shape[$0] })
}

/// Makes `n`'s output `input` under `shape` (of the same size): a known tensor reshaped, or
/// a `reshape` node (none when the shape does not change).
func reshape(_ n: OnnxNodeView, _ c: inout ImportContext, _ input: String, to shape: [Int]) throws(ONNXError) {
  if let tensor = try c.knownTensor(input, node: n.label) {
    return try c.defineKnown(n.output, tensor.reshaped(shape))
  }
  let x = try c.operand(input, node: n.label)
  guard !shape.isEmpty else { throw n.fail("makes a computed tensor a scalar, which resnetc does not compute") }
  if shape == c.type(of: x).shape { return try c.alias(n.output, to: x) }
  try c.define(n.output, .reshape(shape: shape), [x])
}

/// `Concat(inputs...)` along `axis`, of known tensors.
func convertConcat(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["axis"])
  guard !n.node.inputs.isEmpty else { throw n.fail("has no inputs") }
  var parts: [KnownTensor] = []
  for i in n.node.inputs.indices {
    guard let part = try c.knownTensor(try n.requiredInput(i), node: n.label) else {
      throw n.fail("concatenates a computed tensor; resnetc folds Concat of constants only")
    }
    parts.append(part)
  }
  let rank = parts[0].shape.count
  guard rank > 0 else { throw n.fail("concatenates scalars") }
  let axis = try normalizedAxis(try a.int("axis", default: 1), rank: rank, n)
  for part in parts
  where part.shape.count != rank
    || part.shape.indices.contains(where: { $0 != axis && part.shape[$0] != parts[0].shape[$0] })
  {
    throw n.fail("inputs of shapes \(parts.map(\.shape)) do not concatenate along axis \(axis)")
  }
  let outer = parts[0].shape[..<axis].reduce(1, *)
  var values: [Double] = []
  for o in 0..<outer {
    for part in parts {
      let chunk = part.shape[axis...].reduce(1, *)
      values += part.values[(o * chunk)..<((o + 1) * chunk)]
    }
  }
  var shape = parts[0].shape
  shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
  try c.defineKnown(
    n.output, KnownTensor(shape: shape, values: values, isInteger: parts.allSatisfy(\.isInteger)))
}

/// `Cast(X)` (`to` a type name before opset 6, a `DataType` number from it on): integers
/// and floats of known tensors; a computed float cast to float is the value itself.
func convertCast(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(c.opset < 6 ? ["to"] : ["to", "saturate", "round_mode"])
  try n.expectInputs(1...1)
  let to: Int64
  if c.opset < 6 {
    let names = ["FLOAT": OnnxDataType.float, "INT32": OnnxDataType.int32, "INT64": OnnxDataType.int64]
    let text = try a.string("to", default: "")
    guard let type = names[text.uppercased()] else {
      throw a.fail("to", "is '\(text)'; resnetc casts to FLOAT, INT32, INT64")
    }
    to = type
  } else {
    to = Int64(try a.int("to", default: 0))
  }
  let integer: Bool
  switch to {
  case OnnxDataType.float, OnnxDataType.double: integer = false
  case OnnxDataType.int64, OnnxDataType.int32, OnnxDataType.int8, OnnxDataType.uint8, OnnxDataType.bool: integer = true
  default: throw a.fail("to", "is \(OnnxDataType.name(to)); resnetc casts between floats and integers")
  }
  let input = try n.requiredInput(0)
  if var tensor = try c.knownTensor(input, node: n.label) {
    if integer {
      tensor.values = tensor.values.map { to == OnnxDataType.bool ? ($0 != 0 ? 1 : 0) : $0.rounded(.towardZero) }
    }
    tensor.isInteger = integer
    return try c.defineKnown(n.output, tensor)
  }
  guard !integer else { throw n.fail("casts a computed tensor to \(OnnxDataType.name(to)); resnetc computes floats") }
  try c.alias(n.output, to: try c.operand(input, node: n.label))
}

/// `Slice` of a known tensor: `starts`, `ends`, `axes`, `steps` as attributes before opset 10,
/// inputs from it on.
func convertSlice(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(c.opset < 10 ? ["starts", "ends", "axes"] : [])
  guard let data = try c.knownTensor(try n.requiredInput(0), node: n.label) else {
    throw n.fail("slices a computed tensor; resnetc folds Slice of constants only")
  }
  var starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
  if c.opset < 10 {
    try n.expectInputs(1...1)
    guard let s = try a.ints("starts"), let e = try a.ints("ends") else { throw n.fail("needs starts and ends") }
    (starts, ends, axes, steps) = (s, e, try a.ints("axes"), nil)
  } else {
    try n.expectInputs(3...5)
    func list(_ i: Int) throws(ONNXError) -> [Int]? {
      guard let name = n.input(i) else { return nil }
      return try c.integerInput(name, node: n.label, op: n.op).map { Int(clamping: $0) }
    }
    (starts, ends, axes, steps) = (try list(1) ?? [], try list(2) ?? [], try list(3), try list(4))
  }
  let rank = data.shape.count
  let sliced = try (axes ?? Array(0..<starts.count)).map { axis throws(ONNXError) in
    try normalizedAxis(axis, rank: rank, n)
  }
  guard starts.count == sliced.count, ends.count == sliced.count, (steps?.count ?? sliced.count) == sliced.count else {
    throw n.fail("starts, ends, axes and steps differ in length")
  }
  // The kept indices along each axis, clamped as ONNX defines.
  var kept = data.shape.map { Array(0..<$0) }
  for (i, axis) in sliced.enumerated() {
    let extent = data.shape[axis], step = steps?[i] ?? 1
    guard step != 0 else { throw n.fail("has a step of 0") }
    func resolve(_ v: Int, _ low: Int, _ high: Int) -> Int { min(max(v < 0 ? v + extent : v, low), high) }
    var index = step > 0 ? resolve(starts[i], 0, extent) : resolve(starts[i], -1, extent - 1)
    let end = step > 0 ? resolve(ends[i], 0, extent) : resolve(ends[i], -1, extent - 1)
    var indices: [Int] = []
    while step > 0 ? index < end : index > end {
      indices.append(index)
      let (next, overflow) = index.addingReportingOverflow(step)
      if overflow { break }
      index = next
    }
    kept[axis] = indices
  }
  let shape = kept.map(\.count)
  var strides = Array(repeating: 1, count: rank)
  for axis in stride(from: rank - 2, through: 0, by: -1) { strides[axis] = strides[axis + 1] * data.shape[axis + 1] }
  var values: [Double] = []
  func collect(_ axis: Int, _ offset: Int) {
    guard axis < rank else { return values.append(data.values[offset]) }
    for i in kept[axis] { collect(axis + 1, offset + i * strides[axis]) }
  }
  if !shape.contains(0) { collect(0, 0) }
  try c.defineKnown(n.output, KnownTensor(shape: shape, values: values, isInteger: data.isInteger))
}

/// `Transpose(X)` (`perm` reversed by default): folded on a known tensor, a `transpose` node on
/// a computed one.
func convertTranspose(_ n: OnnxNodeView, _ c: inout ImportContext) throws(ONNXError) {
  let a = try n.attributes(["perm"])
  try n.expectInputs(1...1)
  let input = try n.requiredInput(0)
  let shape = try c.shape(of: input, node: n.label)
  let perm = try a.ints("perm") ?? Array((0..<shape.count).reversed())
  guard perm.sorted() == Array(0..<shape.count) else {
    throw a.fail("perm", "\(perm) is no order of \(shape.count) axes")
  }
  if let tensor = try c.knownTensor(input, node: n.label) {
    let moved = ReferenceTranspose.apply(tensor.values, shape: shape, perm: perm)
    return try c.defineKnown(
      n.output, KnownTensor(shape: perm.map { shape[$0] }, values: moved, isInteger: tensor.isInteger))
  }
  let x = try c.operand(input, node: n.label)
  if perm == Array(perm.indices) { return try c.alias(n.output, to: x) }
  try c.define(n.output, .transpose(perm: perm), [x])
}

/// Row-major transposition of known values.
enum ReferenceTranspose {
  static func apply(_ values: [Double], shape: [Int], perm: [Int]) -> [Double] {
    var strides = Array(repeating: 1, count: shape.count)
    for axis in stride(from: shape.count - 2, through: 0, by: -1) {
      strides[axis] = strides[axis + 1] * shape[axis + 1]
    }
    let outShape = perm.map { shape[$0] }
    var result: [Double] = []
    result.reserveCapacity(values.count)
    func walk(_ axis: Int, _ offset: Int) {
      guard axis < outShape.count else { return result.append(values[offset]) }
      for i in 0..<outShape[axis] { walk(axis + 1, offset + i * strides[perm[axis]]) }
    }
    if !values.isEmpty { walk(0, 0) }
    return result
  }
}
