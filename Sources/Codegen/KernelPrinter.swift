/// Writes a kernel IR body in one language. A printer only spells: every loop, index and
/// value was decided when the kernel was built, so the C and the Swift text compute the same.
protocol KernelPrinter {
  /// An index literal.
  func index(_ v: Int) -> String
  /// A float literal that reads back exactly.
  func float(_ v: Float) -> String
  func double(_ v: Double) -> String
  /// The type's name in declarations.
  func typeName(_ type: Scalar) -> String
  func minimum(_ a: String, _ b: String) -> String
  func maximum(_ a: String, _ b: String) -> String
  func squareRoot(_ a: String) -> String
  func exponential(_ a: String) -> String
  func convert(_ a: String, to type: Scalar) -> String
  /// `let`/`const` and `var` declarations.
  func define(_ name: String, _ type: Scalar, _ value: String, mutable: Bool) -> String
  /// A statement: the language's terminator, if any, added.
  func statement(_ text: String) -> String
  /// The header of `for v in lower..<upper` (which runs nothing when upper <= lower).
  func loop(_ variable: String, _ lower: String, _ upper: String, literalBounds: Bool) -> String
  func skip(_ condition: String) -> String
  func copy(target: String, at: String, source: String, from: String, count: Int) -> String
  func fill(target: String, at: String, value: String, count: Int) -> String
}

extension KernelPrinter {
  /// Writes `kernel`'s statements into `w` (checked by `KernelVerifier` in debug builds).
  func print(_ kernel: Kernel, _ w: inout CWriter) {
    #if DEBUG
      do {
        try KernelVerifier.verify(kernel)
      } catch {
        preconditionFailure("a kernel failed verification: \(error)")
      }
    #endif
    for s in kernel.body { print(s, &w) }
  }

  private func print(_ s: Stmt, _ w: inout CWriter) {
    switch s {
    case .define(let name, let value, let mutable):
      w.line(define(name, value.type, text(value), mutable: mutable))
    case .assign(let name, let value): w.line(statement("\(name) = \(text(value))"))
    case .accumulate(let name, let value): w.line(statement("\(name) += \(text(value))"))
    case .store(let buffer, let index, let value): w.line(statement("\(buffer)[\(text(index))] = \(text(value))"))
    case .storeAccumulate(let buffer, let index, let value):
      w.line(statement("\(buffer)[\(text(index))] += \(text(value))"))
    case .loop(let variable, let lower, let upper, let body):
      let literal: Bool
      if case .int(let a) = lower, case .int(let b) = upper { literal = a <= b } else { literal = false }
      w.block(loop(variable, text(lower), text(upper), literalBounds: literal)) { w in
        for statement in body { print(statement, &w) }
      }
    case .inside(let r, let body):
      // The first output position whose input position is >= 0, and one past the last whose
      // input position is < limit (at most count).
      let (v, s) = (r.variable, r.stride)
      let last = .int(r.limit - 1) - r.offset
      let first: Expr = .select(r.offset >= 0, 0, s == 1 ? 0 - r.offset : (.int(s - 1) - r.offset) / .int(s))
      let end: Expr = .minimum(.select(last < 0, 0, s == 1 ? last + 1 : last / .int(s) + 1), .int(r.count))
      w.line(define(v + "0", .index, text(first), mutable: false))
      w.line(define(v + "1", .index, text(end), mutable: false))
      w.block(loop(v, v + "0", v + "1", literalBounds: false)) { w in
        w.line(define(r.position, .index, text(Expr.variable(v, .index) * .int(s) + r.offset), mutable: false))
        for statement in body { print(statement, &w) }
      }
    case .skip(let condition): w.line(skip(text(condition)))
    case .copy(let target, let at, let source, let from, let count):
      w.line(copy(target: target, at: text(at), source: source, from: text(from), count: count))
    case .fill(let target, let at, let value, let count):
      w.line(fill(target: target, at: text(at), value: text(value), count: count))
    }
  }

  /// How tightly an expression binds (higher binds tighter).
  private func precedence(_ e: Expr) -> Int {
    switch e {
    case .any: 1
    case .compare: 2
    case .arithmetic(.add, _, _), .arithmetic(.subtract, _, _): 3
    case .arithmetic(.multiply, _, _), .arithmetic(.divide, _, _): 4
    case .select: 0
    case .int(let v): v < 0 ? 3 : 5
    case .float, .double, .variable, .load, .minimum, .maximum, .squareRoot, .exponential, .convert: 5
    }
  }

  /// `e` as text, parenthesized where it binds less tightly than its place needs.
  private func text(_ e: Expr, needs: Int = 0) -> String {
    let body: String
    switch e {
    case .int(let v): body = index(v)
    case .float(let v): body = float(v)
    case .double(let v): body = double(v)
    case .variable(let name, _): body = name
    case .load(let buffer, let i): body = "\(buffer)[\(text(i))]"
    case .arithmetic(let op, let a, let b):
      let p = precedence(e)
      // The right operand of - and / binds tighter than the operation itself.
      let right = op == .subtract || op == .divide ? p + 1 : p
      body = "\(text(a, needs: p)) \(op.rawValue) \(text(b, needs: right))"
    case .minimum(let a, let b): body = minimum(text(a, needs: 5), text(b, needs: 5))
    case .maximum(let a, let b): body = maximum(text(a, needs: 5), text(b, needs: 5))
    case .compare(let op, let a, let b): body = "\(text(a, needs: 3)) \(op.rawValue) \(text(b, needs: 3))"
    case .any(let parts): body = parts.map { text($0, needs: 2) }.joined(separator: " || ")
    case .select(let c, let a, let b): body = "\(text(c, needs: 1)) ? \(text(a, needs: 1)) : \(text(b, needs: 1))"
    case .squareRoot(let a): body = squareRoot(text(a))
    case .exponential(let a): body = exponential(text(a))
    case .convert(let a, let type): body = convert(text(a), to: type)
    }
    return precedence(e) < needs ? "(" + body + ")" : body
  }
}

/// C11: `long` indices, `f`-suffixed float literals, `<math.h>` functions.
struct CKernelPrinter: KernelPrinter {
  func index(_ v: Int) -> String { "\(v)L" }
  func float(_ v: Float) -> String {
    if v.isNaN { return "NAN" }
    if v.isInfinite { return v < 0 ? "-INFINITY" : "INFINITY" }
    return "\(v)f"
  }
  func double(_ v: Double) -> String { "\(v)" }
  func typeName(_ type: Scalar) -> String {
    switch type {
    case .index: "long"
    case .float: "float"
    case .double: "double"
    case .bool: "int"
    }
  }
  func minimum(_ a: String, _ b: String) -> String { "(\(a) < \(b) ? \(a) : \(b))" }
  func maximum(_ a: String, _ b: String) -> String { "(\(a) > \(b) ? \(a) : \(b))" }
  func squareRoot(_ a: String) -> String { "sqrtf(\(a))" }
  func exponential(_ a: String) -> String { "expf(\(a))" }
  func convert(_ a: String, to type: Scalar) -> String { "(\(typeName(type)))(\(a))" }
  func define(_ name: String, _ type: Scalar, _ value: String, mutable: Bool) -> String {
    "\(mutable ? "" : "const ")\(typeName(type)) \(name) = \(value);"
  }
  func statement(_ text: String) -> String { text + ";" }
  func loop(_ variable: String, _ lower: String, _ upper: String, literalBounds: Bool) -> String {
    "for (long \(variable) = \(lower); \(variable) < \(upper); ++\(variable))"
  }
  func skip(_ condition: String) -> String { "if (\(condition)) continue;" }
  func copy(target: String, at: String, source: String, from: String, count: Int) -> String {
    "memcpy(\(target) + \(at), \(source) + \(from), sizeof(float) * \(count)L);"
  }
  func fill(target: String, at: String, value: String, count: Int) -> String {
    value == "0.0f"
      ? "memset(\(target) + \(at), 0, sizeof(float) * \(count)L);"
      : "for (long i_ = 0; i_ < \(count)L; ++i_) \(target)[\(at) + i_] = \(value);"
  }
}

/// Swift: `Int` indices, typed declarations (which spare the type checker), unsafe pointers'
/// `update` for copies and fills. Loops whose bounds are not literals use `stride`, which runs
/// nothing when the upper bound is below the lower (a range `a..<b` would trap).
struct SwiftKernelPrinter: KernelPrinter {
  func index(_ v: Int) -> String { "\(v)" }
  func float(_ v: Float) -> String {
    if v.isNaN { return "Float.nan" }
    if v.isInfinite { return v < 0 ? "-Float.infinity" : "Float.infinity" }
    return "Float(\(v))"
  }
  func double(_ v: Double) -> String { "Double(\(v))" }
  func typeName(_ type: Scalar) -> String {
    switch type {
    case .index: "Int"
    case .float: "Float"
    case .double: "Double"
    case .bool: "Bool"
    }
  }
  func minimum(_ a: String, _ b: String) -> String { "min(\(a), \(b))" }
  func maximum(_ a: String, _ b: String) -> String { "max(\(a), \(b))" }
  func squareRoot(_ a: String) -> String { "(\(a)).squareRoot()" }
  func exponential(_ a: String) -> String { "expf(\(a))" }
  func convert(_ a: String, to type: Scalar) -> String { "\(typeName(type))(\(a))" }
  func define(_ name: String, _ type: Scalar, _ value: String, mutable: Bool) -> String {
    "\(mutable ? "var" : "let") \(name): \(typeName(type)) = \(value)"
  }
  func statement(_ text: String) -> String { text }
  func loop(_ variable: String, _ lower: String, _ upper: String, literalBounds: Bool) -> String {
    literalBounds
      ? "for \(variable) in \(lower)..<\(upper)" : "for \(variable) in stride(from: \(lower), to: \(upper), by: 1)"
  }
  func skip(_ condition: String) -> String { "if \(condition) { continue }" }
  func copy(target: String, at: String, source: String, from: String, count: Int) -> String {
    "(\(target) + \(at)).update(from: \(source) + \(from), count: \(count))"
  }
  func fill(target: String, at: String, value: String, count: Int) -> String {
    "(\(target) + \(at)).update(repeating: \(value), count: \(count))"
  }
}
