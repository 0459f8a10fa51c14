/// An attribute value as the textual IR writes it.
public enum AttributeValue: Hashable, Sendable, CustomStringConvertible {
  /// `3`
  case int(Int)
  /// `[1,1]`
  case ints([Int])
  /// `1e-05`
  case float(Float)
  /// `true`
  case bool(Bool)
  /// A bare word, such as an epilogue: `add_relu`.
  case word(String)

  /// The textual spelling.
  public var description: String {
    switch self {
    case .int(let v): "\(v)"
    case .ints(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
    case .float(let v): "\(v)"
    case .bool(let v): v ? "true" : "false"
    case .word(let v): v
    }
  }

  /// What kind of value this is, for error messages.
  var kind: String {
    switch self {
    case .int: "an integer"
    case .ints: "a list of integers"
    case .float: "a number"
    case .bool: "true or false"
    case .word: "a word"
    }
  }
}

extension Op {
  /// Every op name the textual IR knows.
  public static let names = [
    "conv2d", "batch_norm", "scale_shift", "relu", "add", "max_pool2d", "avg_pool2d", "global_avg_pool",
    "flatten", "dense", "softmax", "subsample2d", "pad_channels", "pad2d", "reshape",
    "mul", "clip", "transpose", "quantize", "dequantize", "qconv2d", "qdense",
  ]

  /// The op's attributes in canonical order, every one spelled out, as the printer writes them.
  public var attributes: [(name: String, value: AttributeValue)] {
    switch self {
    case .conv2d(let a), .qconv2d(let a):
      [
        ("stride", .ints(a.stride.elements)), ("pad", .ints(a.padding.elements)),
        ("dilation", .ints(a.dilation.elements)), ("groups", .int(a.groups)),
        ("epilogue", .word(a.epilogue.rawValue)),
      ]
    case .batchNorm(let epsilon): [("epsilon", .float(epsilon))]
    case .scaleShift, .relu, .add, .mul, .globalAvgPool, .dense, .qdense: []
    case .quantize(let axis), .dequantize(let axis): [("axis", .int(axis))]
    case .clip(let min, let max): [("min", .float(min)), ("max", .float(max))]
    case .maxPool2d(let a): Op.poolAttributes(a)
    case .avgPool2d(let a, let countIncludePad):
      Op.poolAttributes(a) + [("count_include_pad", .bool(countIncludePad))]
    case .flatten(let axis): [("axis", .int(axis))]
    case .softmax(let axis): [("axis", .int(axis))]
    case .subsample2d(let stride): [("stride", .ints(stride.elements))]
    case .padChannels(let before, let after): [("before", .int(before)), ("after", .int(after))]
    case .pad2d(let padding, let value): [("pad", .ints(padding.elements)), ("value", .float(value))]
    case .reshape(let shape): [("shape", .ints(shape))]
    case .transpose(let perm): [("perm", .ints(perm))]
    }
  }

  private static func poolAttributes(_ a: Pool2dAttributes) -> [(name: String, value: AttributeValue)] {
    [
      ("kernel", .ints(a.kernel.elements)), ("stride", .ints(a.stride.elements)),
      ("pad", .ints(a.padding.elements)), ("dilation", .ints(a.dilation.elements)),
      ("ceil_mode", .bool(a.ceilMode)),
    ]
  }

  /// Builds the op called `name` from `attributes`; absent attributes take their defaults,
  /// and an unknown, repeated or ill-typed one is an error. Nil when `name` is no op.
  static func make(name: String, attributes r: AttributeReader) throws(AttributeError) -> Op? {
    let op: Op
    switch name {
    case "conv2d": op = .conv2d(try conv(r))
    case "qconv2d": op = .qconv2d(try conv(r))
    case "qdense": op = .qdense
    case "quantize": op = .quantize(axis: try r.int("axis", default: 1))
    case "dequantize": op = .dequantize(axis: try r.int("axis", default: 1))
    case "batch_norm": op = .batchNorm(epsilon: try r.float("epsilon", default: 1e-5))
    case "scale_shift": op = .scaleShift
    case "relu": op = .relu
    case "add": op = .add
    case "mul": op = .mul
    case "clip":
      op = .clip(
        min: try r.float("min", default: -.greatestFiniteMagnitude),
        max: try r.float("max", default: .greatestFiniteMagnitude))
    case "max_pool2d": op = .maxPool2d(try pool(r))
    case "avg_pool2d":
      op = .avgPool2d(try pool(r), countIncludePad: try r.bool("count_include_pad", default: false))
    case "global_avg_pool": op = .globalAvgPool
    case "flatten": op = .flatten(axis: try r.int("axis", default: 1))
    case "dense": op = .dense
    case "softmax": op = .softmax(axis: try r.int("axis", default: 1))
    case "subsample2d": op = .subsample2d(stride: try r.size("stride", default: nil))
    case "pad_channels":
      op = .padChannels(before: try r.int("before", default: 0), after: try r.int("after", default: 0))
    case "pad2d": op = .pad2d(try r.padding("pad"), value: try r.float("value", default: 0))
    case "reshape":
      guard let shape = try r.ints("shape") else { throw .missing(name: "shape") }
      op = .reshape(shape: shape)
    case "transpose":
      guard let perm = try r.ints("perm") else { throw .missing(name: "perm") }
      op = .transpose(perm: perm)
    default: return nil
    }
    try r.finish()
    return op
  }

  private static func conv(_ r: AttributeReader) throws(AttributeError) -> Conv2dAttributes {
    let epilogueWord = try r.word("epilogue", default: Epilogue.none.rawValue)
    guard let epilogue = Epilogue(rawValue: epilogueWord) else {
      throw .badValue(
        name: "epilogue", expected: Epilogue.allCases.map(\.rawValue).joined(separator: ", "),
        found: epilogueWord)
    }
    return Conv2dAttributes(
      stride: try r.size("stride", default: .square(1)), padding: try r.padding("pad"),
      dilation: try r.size("dilation", default: .square(1)), groups: try r.int("groups", default: 1),
      epilogue: epilogue)
  }

  private static func pool(_ r: AttributeReader) throws(AttributeError) -> Pool2dAttributes {
    Pool2dAttributes(
      kernel: try r.size("kernel", default: nil), stride: try r.size("stride", default: .square(1)),
      padding: try r.padding("pad"), dilation: try r.size("dilation", default: .square(1)),
      ceilMode: try r.bool("ceil_mode", default: false))
  }
}

/// Why an op's attributes could not be read.
enum AttributeError: Error, Equatable {
  case unknown(name: String)
  case missing(name: String)
  case badValue(name: String, expected: String, found: String)
}

/// Reads an op's attributes by name, remembering which were used so that leftovers are
/// reported as unknown.
final class AttributeReader {
  private var values: [(name: String, value: AttributeValue)]
  private var used = Set<String>()

  init(_ values: [(name: String, value: AttributeValue)]) {
    self.values = values
  }

  private func take(_ name: String) -> AttributeValue? {
    used.insert(name)
    return values.first { $0.name == name }?.value
  }

  func int(_ name: String, default value: Int) throws(AttributeError) -> Int {
    guard let v = take(name) else { return value }
    guard case .int(let i) = v else { throw .badValue(name: name, expected: "an integer", found: v.kind) }
    return i
  }

  func float(_ name: String, default value: Float) throws(AttributeError) -> Float {
    guard let v = take(name) else { return value }
    switch v {
    case .float(let f): return f
    case .int(let i): return Float(i)
    default: throw .badValue(name: name, expected: "a number", found: v.kind)
    }
  }

  func bool(_ name: String, default value: Bool) throws(AttributeError) -> Bool {
    guard let v = take(name) else { return value }
    guard case .bool(let b) = v else { throw .badValue(name: name, expected: "true or false", found: v.kind) }
    return b
  }

  func word(_ name: String, default value: String) throws(AttributeError) -> String {
    guard let v = take(name) else { return value }
    guard case .word(let w) = v else { throw .badValue(name: name, expected: "a word", found: v.kind) }
    return w
  }

  /// A list of any length, or nil when absent.
  func ints(_ name: String) throws(AttributeError) -> [Int]? {
    guard let v = take(name) else { return nil }
    guard case .ints(let list) = v else { throw .badValue(name: name, expected: "a list of integers", found: v.kind) }
    return list
  }

  func ints(_ name: String, count: Int) throws(AttributeError) -> [Int]? {
    guard let v = take(name) else { return nil }
    guard case .ints(let list) = v, list.count == count else {
      throw .badValue(name: name, expected: "a list of \(count) integers", found: v.description)
    }
    return list
  }

  /// A `[h,w]` pair; `default: nil` makes the attribute required.
  func size(_ name: String, default value: Size2d?) throws(AttributeError) -> Size2d {
    guard let list = try ints(name, count: 2) else {
      guard let value else { throw .missing(name: name) }
      return value
    }
    return Size2d(list[0], list[1])
  }

  /// A `[top,left,bottom,right]` padding, zero when absent.
  func padding(_ name: String) throws(AttributeError) -> Padding2d {
    guard let p = try ints(name, count: 4) else { return .zero }
    return Padding2d(top: p[0], left: p[1], bottom: p[2], right: p[3])
  }

  /// Throws for the first attribute no reader asked for.
  func finish() throws(AttributeError) {
    if let unknown = values.first(where: { !used.contains($0.name) }) { throw .unknown(name: unknown.name) }
  }
}
