/// Why a kernel is refused.
enum KernelError: Error, Equatable, CustomStringConvertible {
  /// An expression whose parts have types that do not fit.
  case type(String)
  /// A name used before it is defined.
  case undefined(String)
  /// An access that may leave its buffer, with the index range the verifier found.
  case outOfBounds(buffer: String, lowest: Int, highest: Int, elements: Int)
  /// An index whose range the verifier cannot bound (it depends on a mutable variable).
  case unbounded(buffer: String)

  var description: String {
    switch self {
    case .type(let what): "type error: \(what)"
    case .undefined(let name): "'\(name)' is used before it is defined"
    case .outOfBounds(let buffer, let lowest, let highest, let elements):
      "\(buffer)[\(lowest)...\(highest)] may leave the buffer of \(elements) elements"
    case .unbounded(let buffer): "an index into \(buffer) has no bound the verifier can prove"
    }
  }
}

/// Checks a kernel: the types of every expression agree, and every load, store, copy and fill
/// stays inside its buffer for every iteration, by interval arithmetic over the loop bounds
/// (and over the conditions a `skip` has ruled out). Run on every kernel in debug builds and
/// in tests.
struct KernelVerifier {
  /// The values an index takes, inclusive; nil for an index that is not bounded.
  struct Range: Equatable {
    var lowest: Int
    var highest: Int
  }

  private var elements: [String: Int] = [:]
  private var kinds: [String: Element] = [:]
  private var writable: Set<String> = []
  private var vectorWidth = 0
  /// Types and index ranges of the variables in scope.
  private var scope: [String: (type: Scalar, range: Range?)] = [:]

  static func verify(_ kernel: Kernel) throws(KernelError) {
    var verifier = KernelVerifier()
    verifier.vectorWidth = kernel.vectorWidth
    for p in kernel.parameters + kernel.scratch {
      guard verifier.elements[p.name] == nil else { throw .type("two buffers named \(p.name)") }
      verifier.elements[p.name] = p.elements
      verifier.kinds[p.name] = p.element
      if p.writable { verifier.writable.insert(p.name) }
    }
    for p in kernel.scratch where !p.writable { throw .type("scratch buffer \(p.name) is not writable") }
    for statement in kernel.body {
      if case .parallel(let variable, let count, let body) = statement {
        guard count > 0 else { throw .type("a parallel loop over \(count) items") }
        let saved = verifier.scope
        verifier.scope[variable] = (.index, Range(lowest: 0, highest: count - 1))
        try verifier.check(body)
        verifier.scope = saved
      } else {
        try verifier.check(statement)
      }
    }
  }

  private mutating func check(_ body: [Stmt]) throws(KernelError) {
    let saved = scope
    defer { scope = saved }
    for statement in body { try check(statement) }
  }

  private mutating func check(_ statement: Stmt) throws(KernelError) {
    switch statement {
    case .define(let name, let value, let mutable):
      let type = try typeOf(value)
      scope[name] = (type, type == .index && !mutable ? try range(value) : nil)
    case .assign(let name, let value), .accumulate(let name, let value):
      guard let variable = scope[name] else { throw .undefined(name) }
      guard try typeOf(value) == variable.type, variable.range == nil || variable.type != .index else {
        throw .type("\(name) is assigned a \(try typeOf(value)) or is not mutable")
      }
    case .store(let buffer, let index, let value):
      guard writable.contains(buffer) else { throw .type("\(buffer) is not writable") }
      let element: Scalar
      switch kinds[buffer] {
      case .int16: element = .int16
      case .byte: element = .byte
      case .float, nil: element = .float
      case .int32: throw .type("a store into the int32 buffer \(buffer)")
      }
      guard try typeOf(value) == element else { throw .type("a store into \(buffer) of a \(try typeOf(value))") }
      try access(buffer, index, count: 1)
    case .storeAccumulate(let buffer, let index, let value):
      guard writable.contains(buffer) else { throw .type("\(buffer) is not writable") }
      guard try typeOf(value) == .float else { throw .type("a store into \(buffer) of a non-float") }
      try access(buffer, index, count: 1, of: .float)
    case .vectorStore(let buffer, let index, let value, _):
      guard writable.contains(buffer) else { throw .type("\(buffer) is not writable") }
      let type = try typeOf(value)
      guard type == .vector || type == .intVector else {
        throw .type("a vector store into \(buffer) of a non-vector")
      }
      try access(buffer, index, count: try width(), of: type == .vector ? .float : .int32)
    case .narrowingStore(let buffer, let index, let value, let element):
      guard writable.contains(buffer) else { throw .type("\(buffer) is not writable") }
      guard element == .int16 || element == .byte, try typeOf(value) == .vector else {
        throw .type("a narrowing store of a \(try typeOf(value)) into \(element) elements")
      }
      try access(buffer, index, count: try width(), of: element)
    case .saturatingByteStore(let buffer, let index, let value, let plus):
      guard writable.contains(buffer) else { throw .type("\(buffer) is not writable") }
      guard try typeOf(value) == .vector, try typeOf(plus) == .float else {
        throw .type("a saturating byte store of a \(try typeOf(value)) plus a \(try typeOf(plus))")
      }
      try access(buffer, index, count: try width(), of: .byte)
    case .pairMultiplyAdd(let name, let a, let b), .quadMultiplyAdd(let name, let a, let b):
      guard let variable = scope[name] else { throw .undefined(name) }
      let operands: Scalar = if case .pairMultiplyAdd = statement { .pairVector } else { .quadVector }
      guard variable.type == .intVector, try typeOf(a) == operands, try typeOf(b) == operands else {
        throw .type("\(name) += dot(\(try typeOf(a)), \(try typeOf(b))) on a \(variable.type)")
      }
    case .multiplyAdd(let name, let a, let b):
      guard let variable = scope[name] else { throw .undefined(name) }
      let (ta, tb) = (try typeOf(a), try typeOf(b))
      guard variable.type == .vector, ta == .float || ta == .vector, tb == .vector else {
        throw .type("\(name) += \(ta) * \(tb) on a \(variable.type)")
      }
    case .branch(let condition, let then, let otherwise):
      guard try typeOf(condition) == .bool else { throw .type("a branch on a non-condition") }
      // A side whose condition leaves a variable no value never runs.
      let saved = scope
      if refine(holds: condition) { try check(then) }
      scope = saved
      if refine(fails: condition) { try check(otherwise) }
      scope = saved
    case .parallel(let variable, _, _):
      throw .type("the parallel loop over \(variable) is not at the kernel's top level")
    case .loop(let variable, let lower, let upper, let body), .rolledLoop(let variable, let lower, let upper, let body):
      guard try typeOf(lower) == .index, try typeOf(upper) == .index else { throw .type("loop \(variable) bounds") }
      let (low, high) = (try range(lower), try range(upper))
      guard let low, let high else { throw .unbounded(buffer: "the bounds of loop \(variable)") }
      if high.highest - 1 < low.lowest { return }  // never runs
      let saved = scope
      scope[variable] = (.index, Range(lowest: low.lowest, highest: high.highest - 1))
      try check(body)
      scope = saved
    case .inside(let r, let body):
      guard try typeOf(r.offset) == .index, r.stride > 0, r.count > 0, r.limit > 0 else {
        throw .type("inside range of \(r.variable)")
      }
      let saved = scope
      scope[r.variable] = (.index, Range(lowest: 0, highest: r.count - 1))
      scope[r.position] = (.index, Range(lowest: 0, highest: r.limit - 1))
      try check(body)
      scope = saved
    case .skip(let condition):
      guard try typeOf(condition) == .bool else { throw .type("skip on a non-condition") }
      _ = refine(fails: condition)
    case .copy(let target, let at, let source, let from, let count):
      guard writable.contains(target) else { throw .type("\(target) is not writable") }
      // Floats, or bytes into bytes.
      let kind: Element = kinds[target] == .byte ? .byte : .float
      try access(target, at, count: count, of: kind)
      try access(source, from, count: count, of: kind)
    case .widenBytes(let target, let at, let source, let from, let count, let minus):
      guard writable.contains(target) else { throw .type("\(target) is not writable") }
      guard try typeOf(minus) == .float else { throw .type("bytes widened less a \(try typeOf(minus))") }
      try access(target, at, count: count, of: .int16)
      try access(source, from, count: count, of: .byte)
    case .fill(let target, let at, let value, let count):
      guard writable.contains(target) else { throw .type("\(target) is not writable") }
      guard try typeOf(value) == .float else { throw .type("a fill of \(target) with a non-float") }
      try access(target, at, count: count, of: .float)
    case .splitBytePairs(let buffer, let pixels, let blocks, let width, let counts, let entries, let bound):
      guard pixels > 0, blocks > 0, width > 0, width % 4 == 0, (255...510).contains(bound) else {
        throw .type("a split of \(blocks) blocks of \(pixels) pixels of \(width) bytes at \(bound)")
      }
      for name in [buffer, counts, entries] where !writable.contains(name) { throw .type("\(name) is not writable") }
      try access(buffer, .int(0), count: blocks * pixels * width, of: .byte)
      try access(counts, .int(0), count: pixels, of: .int32)
      try access(entries, .int(0), count: 2 * pixels * blocks * width / 4, of: .int32)
    case .addPairRests(
      let accumulators, let counts, let entries, let pixels, let quads, let pixel, let weights, let at, let quadStride,
      let accumulatorStride):
      for name in accumulators {
        guard let variable = scope[name] else { throw .undefined(name) }
        guard variable.type == .intVector else { throw .type("the rests of pairs added to a \(variable.type)") }
      }
      guard pixels > 0, quads > 0, quadStride >= 0, accumulatorStride >= 0, !accumulators.isEmpty else {
        throw .type("the rests of pairs of \(pixels) pixels of \(quads) quads")
      }
      guard try typeOf(pixel) == .index, let place = try range(pixel) else { throw .unbounded(buffer: counts) }
      guard place.lowest >= 0, place.highest < pixels else {
        throw .outOfBounds(buffer: counts, lowest: place.lowest, highest: place.highest, elements: pixels)
      }
      try access(counts, .int(0), count: pixels, of: .int32)
      try access(entries, .int(0), count: 2 * pixels * quads, of: .int32)
      let span = (quads - 1) * quadStride + (accumulators.count - 1) * accumulatorStride + 4 * (try width())
      try access(weights, at, count: span, of: .byte)
    }
  }

  /// The kernel's vector width, which a kernel using vectors must have.
  private func width() throws(KernelError) -> Int {
    guard vectorWidth > 0 else { throw .type("a vector in a kernel without a vector width") }
    return vectorWidth
  }

  /// Narrows the ranges of variables compared with literals where `condition` holds:
  /// `v >= 0 && v < n` (or one comparison) leaves `v` in `0..<n`.
  /// Returns false when a variable is left no value (the code it guards never runs).
  private mutating func refine(holds condition: Expr) -> Bool {
    let parts: [Expr] = if case .all(let list) = condition { list } else { [condition] }
    var possible = true
    for part in parts {
      if case .compare(let op, .variable(let name, .index), .int(let limit)) = part {
        possible = narrow(name, op, limit) && possible
      }
    }
    return possible
  }

  /// Narrows the ranges of variables compared with literals where `condition` fails (after a
  /// `skip`, or in a branch's `else`): `skip(v < 0 || v >= n)` leaves `v` in `0..<n`.
  private mutating func refine(fails condition: Expr) -> Bool {
    let parts: [Expr] = if case .any(let list) = condition { list } else { [condition] }
    var possible = true
    let opposite: [Comparison: Comparison] = [
      .less: .greaterOrEqual, .greaterOrEqual: .less, .lessOrEqual: .greater, .greater: .lessOrEqual,
    ]
    for part in parts {
      if case .compare(let op, .variable(let name, .index), .int(let limit)) = part, let op = opposite[op] {
        possible = narrow(name, op, limit) && possible
      }
    }
    return possible
  }

  /// Narrows `name`'s range to the values for which `name op limit` holds; false when none
  /// does.
  private mutating func narrow(_ name: String, _ op: Comparison, _ limit: Int) -> Bool {
    guard let variable = scope[name], var r = variable.range else { return true }
    switch op {
    case .less: r.highest = min(r.highest, limit - 1)
    case .lessOrEqual: r.highest = min(r.highest, limit)
    case .greater: r.lowest = max(r.lowest, limit + 1)
    case .greaterOrEqual: r.lowest = max(r.lowest, limit)
    case .equal, .notEqual: return true
    }
    scope[name] = (.index, r)
    return r.lowest <= r.highest
  }

  /// Checks that `count` elements from `index` lie inside `buffer`, and, where `kind` is
  /// given, that its elements are of that kind.
  private func access(_ buffer: String, _ index: Expr, count: Int, of kind: Element? = nil) throws(KernelError) {
    guard let size = elements[buffer] else { throw .undefined(buffer) }
    if let kind, kinds[buffer] != kind { throw .type("\(buffer) is not a buffer of \(kind) elements") }
    guard try typeOf(index) == .index else { throw .type("an index into \(buffer) that is not an index") }
    guard let r = try range(index) else { throw .unbounded(buffer: buffer) }
    guard r.lowest >= 0, r.highest + count <= size || r.highest < r.lowest else {
      throw .outOfBounds(buffer: buffer, lowest: r.lowest, highest: r.highest + count - 1, elements: size)
    }
  }

  private func typeOf(_ e: Expr) throws(KernelError) -> Scalar {
    switch e {
    case .int, .float, .double: break
    case .variable(let name, let type):
      guard let variable = scope[name] else { throw .undefined(name) }
      guard variable.type == type else { throw .type("\(name) is \(variable.type), used as \(type)") }
    case .load(let buffer, let index):
      try access(buffer, index, count: 1, of: .float)
    case .vectorLoad(let buffer, let index):
      try access(buffer, index, count: try width(), of: .float)
    case .pairSplat(let buffer, let index):
      _ = try width()
      try access(buffer, index, count: 2, of: .int16)
    case .pairVectorLoad(let buffer, let index):
      try access(buffer, index, count: 2 * (try width()), of: .int16)
    case .quadSplat(let buffer, let index):
      _ = try width()
      try access(buffer, index, count: 4, of: .byte)
    case .quadVectorLoad(let buffer, let index):
      try access(buffer, index, count: 4 * (try width()), of: .byte)
    case .intVectorLoad(let buffer, let index):
      try access(buffer, index, count: try width(), of: .int32)
    case .byteVectorLoad(let buffer, let index):
      try access(buffer, index, count: try width(), of: .byte)
    case .quadBits(let a):
      guard try typeOf(a) == .intVector else { throw .type("the bits of a \(try typeOf(a)) as quads") }
    case .splat(let a):
      _ = try width()
      guard try typeOf(a) == .float else { throw .type("a splat of a \(try typeOf(a))") }
    case .lane(let v, let i):
      guard try typeOf(v) == .vector, try typeOf(i) == .index, let r = try range(i), r.lowest >= 0,
        r.highest < (try width())
      else { throw .type("a lane of a non-vector, or one that may not exist") }
    case .vectorMax(let a, let b), .vectorMin(let a, let b):
      guard try typeOf(a) == .vector, try typeOf(b) == .vector else { throw .type("vectorMax of non-vectors") }
    case .arithmetic(let op, let a, let b):
      let (ta, tb) = (try typeOf(a), try typeOf(b))
      let mixed = op != .remainder && Set([ta, tb]) == [.vector, .float]
      let arithmetic: Set<Scalar> = [.index, .float, .double, .vector, .intVector]
      let integers = ta == .intVector && (op == .add || op == .subtract)
      guard ta == tb || mixed, arithmetic.contains(ta), arithmetic.contains(tb), op != .remainder || ta == .index,
        ta != .intVector || integers
      else {
        throw .type("\(ta) \(op.rawValue) \(tb)")
      }
    case .minimum(let a, let b), .maximum(let a, let b), .compare(_, let a, let b):
      let (ta, tb) = (try typeOf(a), try typeOf(b))
      guard ta == tb, [.index, .float, .double].contains(ta) else { throw .type("\(ta) and \(tb) in one operation") }
    case .any(let parts), .all(let parts):
      for part in parts where try typeOf(part) != .bool { throw .type("a condition of a non-condition") }
    case .select(let c, let a, let b):
      guard try typeOf(c) == .bool, try typeOf(a) == typeOf(b), [.index, .float, .double].contains(try typeOf(a)) else {
        throw .type("select of unlike values or of vectors")
      }
    case .squareRoot(let a), .exponential(let a):
      guard try typeOf(a) == .float else { throw .type("a float function of a \(try typeOf(a))") }
    case .roundEven(let a):
      let type = try typeOf(a)
      guard type == .float || type == .vector else { throw .type("a float function of a \(type)") }
      if type == .vector { _ = try width() }
    case .convert(let a, let type):
      let from = try typeOf(a)
      let scalars: Set<Scalar> = [.index, .float, .double]
      let vectors: Set<Scalar> = [.vector, .intVector]
      // Scalars among themselves, floats to int16 and bytes, and vectors of floats to and from
      // vectors of integers.
      guard
        (scalars.contains(from) && scalars.contains(type)) || (from == .float && (type == .int16 || type == .byte))
          || (vectors.contains(from) && vectors.contains(type) && from != type)
      else {
        throw .type("a conversion from \(from) to \(type)")
      }
    }
    return e.type
  }

  /// The values an index expression takes, or nil when it cannot be bounded.
  private func range(_ e: Expr) throws(KernelError) -> Range? {
    switch e {
    case .int(let v): return Range(lowest: v, highest: v)
    case .variable(let name, _):
      guard let variable = scope[name] else { throw .undefined(name) }
      return variable.range
    case .arithmetic(let op, let a, let b):
      guard let x = try range(a), let y = try range(b) else { return nil }
      switch op {
      case .add: return Range(lowest: x.lowest + y.lowest, highest: x.highest + y.highest)
      case .subtract: return Range(lowest: x.lowest - y.highest, highest: x.highest - y.lowest)
      case .multiply:
        let corners = [x.lowest * y.lowest, x.lowest * y.highest, x.highest * y.lowest, x.highest * y.highest]
        return Range(lowest: corners.min()!, highest: corners.max()!)
      case .divide:
        guard y.lowest > 0 else { return nil }
        let corners = [x.lowest / y.lowest, x.lowest / y.highest, x.highest / y.lowest, x.highest / y.highest]
        return Range(lowest: corners.min()!, highest: corners.max()!)
      case .remainder:
        guard x.lowest >= 0, y.lowest > 0 else { return nil }
        return x.highest < y.lowest ? x : Range(lowest: 0, highest: min(x.highest, y.highest - 1))
      }
    case .minimum(let a, let b):
      guard let x = try range(a), let y = try range(b) else { return nil }
      return Range(lowest: min(x.lowest, y.lowest), highest: min(x.highest, y.highest))
    case .maximum(let a, let b):
      guard let x = try range(a), let y = try range(b) else { return nil }
      return Range(lowest: max(x.lowest, y.lowest), highest: max(x.highest, y.highest))
    case .select(_, let a, let b):
      guard let x = try range(a), let y = try range(b) else { return nil }
      return Range(lowest: min(x.lowest, y.lowest), highest: max(x.highest, y.highest))
    case .float, .double, .load, .compare, .any, .all, .squareRoot, .exponential, .roundEven, .convert, .vectorLoad,
      .splat,
      .lane, .vectorMax, .vectorMin, .pairSplat, .pairVectorLoad, .quadSplat, .quadVectorLoad, .intVectorLoad,
      .byteVectorLoad, .quadBits:
      return nil
    }
  }
}
