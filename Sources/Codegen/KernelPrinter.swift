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
  /// A float, or a vector of them (`vector`), rounded half to even.
  func roundEven(_ a: String, vector: Bool) -> String
  func convert(_ a: String, to type: Scalar) -> String
  /// `let`/`const` and `var` declarations.
  func define(_ name: String, _ type: Scalar, _ value: String, mutable: Bool) -> String
  /// A statement: the language's terminator, if any, added.
  func statement(_ text: String) -> String
  /// The header of `for v in lower..<upper` (which runs nothing when upper <= lower).
  func loop(_ variable: String, _ lower: String, _ upper: String, literalBounds: Bool) -> String
  /// The line before a `rolledLoop`'s header that asks the compiler not to unroll it, or nil
  /// where the language has none.
  var rolledLoopPrefix: String? { get }
  /// The name a loop variable its body never reads takes, or nil to keep its own.
  var unusedLoopVariable: String? { get }
  func skip(_ condition: String) -> String
  func copy(target: String, at: String, source: String, from: String, count: Int) -> String
  func fill(target: String, at: String, value: String, count: Int) -> String
  /// Bytes less a whole number, as int16.
  func widenBytes(target: String, at: String, source: String, from: String, count: Int, minus: String) -> String
  /// The call that splits a byte buffer's pairs (`Stmt.splitBytePairs`).
  func splitBytePairs(
    buffer: String, pixels: Int, blocks: Int, width: Int, counts: String, entries: String, bound: Int
  ) -> String
  /// Element `index` of an int32 buffer as an index.
  func int32Index(_ buffer: String, _ index: String) -> String
  /// The bits of element `index` of an int32 buffer in every quad of a quad vector.
  func quadSplatBits(_ buffer: String, _ index: String) -> String
  /// The header and the text after the closing brace of a block that only scopes its names.
  var scope: (header: String, trailer: String) { get }
  func vectorLoad(_ buffer: String, _ index: String) -> String
  /// A float in every lane (`zero` when it is the literal 0).
  func splat(_ value: String, zero: Bool) -> String
  func lane(_ vector: String, _ index: String) -> String
  func vectorMax(_ a: String, _ b: String) -> String
  func vectorMin(_ a: String, _ b: String) -> String
  /// The int16 pair at `buffer[index]` in every pair of a pair vector.
  func pairSplat(_ buffer: String, _ index: String) -> String
  func pairVectorLoad(_ buffer: String, _ index: String) -> String
  /// `name += madd(a, b)` on an int vector.
  func pairMultiplyAdd(_ name: String, _ a: String, _ b: String) -> String
  /// The four bytes at `buffer[index]` in every quad of a quad vector.
  func quadSplat(_ buffer: String, _ index: String) -> String
  func quadVectorLoad(_ buffer: String, _ index: String) -> String
  func intVectorLoad(_ buffer: String, _ index: String) -> String
  /// Unsigned bytes widened to a float vector.
  func byteVectorLoad(_ buffer: String, _ index: String) -> String
  /// An int vector's bits as a quad vector.
  func quadBits(_ a: String) -> String
  /// `name += dot(a, b)` of unsigned quads `a` and signed quads `b` on an int vector.
  func quadMultiplyAdd(_ name: String, _ a: String, _ b: String) -> String
  /// A float vector's whole-number lanes stored as int16 or bytes.
  func narrowingStore(_ buffer: String, _ index: String, _ value: String, _ element: Element) -> String
  /// A float vector's lanes rounded half to even, plus `plus`, clamped to 0...255, as bytes.
  func saturatingByteStore(_ buffer: String, _ index: String, _ value: String, plus: String) -> String
  func vectorStore(_ buffer: String, _ index: String, _ value: String, aligned: Bool) -> String
  /// An int vector into an int32 buffer, at a multiple of the width.
  func intVectorStore(_ buffer: String, _ index: String, _ value: String) -> String
  /// The operator of `op` on values of `type` (vectors of integers wrap in Swift's spelling,
  /// which has no checked vector arithmetic; their builder proves they never pass 32 bits).
  func arithmeticOperator(_ op: Arithmetic, _ type: Scalar) -> String
  func multiplyAdd(_ name: String, _ a: String, _ b: String) -> String
  /// The header of `if condition`.
  func branch(_ condition: String) -> String
  /// The header of the loop over a call's part `begin ..< end` of the work items.
  func parallel(_ variable: String) -> String
  /// The function's first line and the lines that bind its buffers and allocate its scratch.
  func prologue(_ name: String, _ kernel: Kernel) -> [String]
  /// The lines that release the scratch, before the function's closing brace.
  func epilogue(_ kernel: Kernel) -> [String]
}

extension KernelPrinter {
  /// Writes `kernel` as the function `name` into `w`.
  func function(_ name: String, _ kernel: Kernel, _ w: inout CWriter) {
    let lines = prologue(name, kernel)
    w.line(lines[0])
    w.indented { w in
      for line in lines.dropFirst() { w.line(line) }
      print(kernel, &w)
      for line in epilogue(kernel) { w.line(line) }
    }
    w.line("}")
  }

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
    case .loop(let variable, let lower, let upper, let body), .rolledLoop(let variable, let lower, let upper, let body):
      if case .rolledLoop = s, let line = rolledLoopPrefix { w.line(line) }
      let literal: Bool
      if case .int(let a) = lower, case .int(let b) = upper { literal = a <= b } else { literal = false }
      w.block(
        header: { bodyText in
          let name = unusedLoopVariable.map { CWriter.containsWord(bodyText, variable) ? variable : $0 } ?? variable
          return loop(name, text(lower), text(upper), literalBounds: literal)
        }
      ) { w in
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
    case .vectorStore(let buffer, let index, let value, let aligned):
      w.line(
        value.type == .intVector
          ? intVectorStore(buffer, text(index), text(value))
          : vectorStore(buffer, text(index), text(value), aligned: aligned))
    case .multiplyAdd(let name, let a, let b): w.line(multiplyAdd(name, text(a, needs: 4), text(b, needs: 5)))
    case .pairMultiplyAdd(let name, let a, let b): w.line(pairMultiplyAdd(name, text(a), text(b)))
    case .quadMultiplyAdd(let name, let a, let b): w.line(quadMultiplyAdd(name, text(a), text(b)))
    case .narrowingStore(let buffer, let i, let value, let element):
      w.line(narrowingStore(buffer, text(i), text(value), element))
    case .saturatingByteStore(let buffer, let i, let value, let plus):
      w.line(saturatingByteStore(buffer, text(i), text(value), plus: text(plus)))
    case .branch(let condition, let then, let otherwise):
      w.block(branch(text(condition))) { w in
        for statement in then { print(statement, &w) }
      }
      if !otherwise.isEmpty {
        w.block("else") { w in
          for statement in otherwise { print(statement, &w) }
        }
      }
    case .parallel(let variable, _, let body):
      w.block(parallel(variable)) { w in
        for statement in body { print(statement, &w) }
      }
    case .skip(let condition): w.line(skip(text(condition)))
    case .copy(let target, let at, let source, let from, let count):
      w.line(copy(target: target, at: text(at), source: source, from: text(from), count: count))
    case .fill(let target, let at, let value, let count):
      w.line(fill(target: target, at: text(at), value: text(value), count: count))
    case .widenBytes(let target, let at, let source, let from, let count, let minus):
      w.line(
        widenBytes(target: target, at: text(at), source: source, from: text(from), count: count, minus: text(minus)))
    case .splitBytePairs(let buffer, let pixels, let blocks, let width, let counts, let entries, let bound):
      w.line(
        splitBytePairs(
          buffer: buffer, pixels: pixels, blocks: blocks, width: width, counts: counts, entries: entries, bound: bound))
    case .addPairRests(
      let accumulators, let counts, let entries, let pixels, _, let pixel, let weights, let at, let quadStride,
      let accumulatorStride):
      w.block(scope.header, trailer: scope.trailer) { w in
        w.line(define("px_", .index, text(pixel), mutable: false))
        w.line(define("n_", .index, int32Index(counts, "px_"), mutable: false))
        w.block(loop("k_", "0", "n_", literalBounds: false)) { w in
          w.line(define("e_", .index, "2 * (k_ * \(index(pixels)) + px_)", mutable: false))
          w.line(define("a_", .quadVector, quadSplatBits(entries, "e_ + 1"), mutable: false))
          w.line(
            define(
              "w_", .index, "\(text(at, needs: 3)) + \(int32Index(entries, "e_")) * \(index(quadStride))",
              mutable: false))
          for (j, name) in accumulators.enumerated() {
            let place = j == 0 ? "w_" : "w_ + \(index(j * accumulatorStride))"
            w.line(quadMultiplyAdd(name, "a_", quadVectorLoad(weights, place)))
          }
        }
      }
    }
  }

  /// How tightly an expression binds (higher binds tighter).
  private func precedence(_ e: Expr) -> Int {
    switch e {
    case .any: 1
    case .all: 1
    case .compare: 2
    case .arithmetic(.add, _, _), .arithmetic(.subtract, _, _): 3
    case .arithmetic(.multiply, _, _), .arithmetic(.divide, _, _), .arithmetic(.remainder, _, _): 4
    case .select: 0
    case .int(let v): v < 0 ? 3 : 5
    case .float, .double, .variable, .load, .minimum, .maximum, .squareRoot, .exponential, .roundEven, .convert,
      .vectorLoad, .splat, .lane, .vectorMax, .vectorMin, .pairSplat, .pairVectorLoad, .quadSplat, .quadVectorLoad,
      .intVectorLoad, .byteVectorLoad, .quadBits:
      5
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
      // A right operand of the same precedence keeps its parentheses: float arithmetic is
      // not associative, nor is index arithmetic with division (`a * (b / c)`). Only index
      // sums and products regroup freely.
      let regroups: Bool
      switch (op, b) {
      case (.add, .arithmetic(.add, _, _)), (.add, .arithmetic(.subtract, _, _)),
        (.multiply, .arithmetic(.multiply, _, _)):
        regroups = e.type == .index
      default: regroups = false
      }
      let right = regroups ? p : p + 1
      body = "\(text(a, needs: p)) \(arithmeticOperator(op, e.type)) \(text(b, needs: right))"
    case .vectorLoad(let buffer, let i): body = vectorLoad(buffer, text(i))
    case .splat(let a):
      let zero = if case .float(let v) = a { v == 0 && v.sign == .plus } else { false }
      body = splat(text(a, needs: 5), zero: zero)
    case .lane(let v, let i): body = lane(text(v, needs: 5), text(i))
    case .vectorMax(let a, let b): body = vectorMax(text(a), text(b))
    case .vectorMin(let a, let b): body = vectorMin(text(a), text(b))
    case .pairSplat(let buffer, let i): body = pairSplat(buffer, text(i))
    case .pairVectorLoad(let buffer, let i): body = pairVectorLoad(buffer, text(i))
    case .quadSplat(let buffer, let i): body = quadSplat(buffer, text(i))
    case .quadVectorLoad(let buffer, let i): body = quadVectorLoad(buffer, text(i))
    case .intVectorLoad(let buffer, let i): body = intVectorLoad(buffer, text(i))
    case .byteVectorLoad(let buffer, let i): body = byteVectorLoad(buffer, text(i))
    case .quadBits(let a): body = quadBits(text(a))
    case .all(let parts): body = parts.map { text($0, needs: 2) }.joined(separator: " && ")
    case .minimum(let a, let b): body = minimum(text(a, needs: 5), text(b, needs: 5))
    case .maximum(let a, let b): body = maximum(text(a, needs: 5), text(b, needs: 5))
    case .compare(let op, let a, let b): body = "\(text(a, needs: 3)) \(op.rawValue) \(text(b, needs: 3))"
    case .any(let parts): body = parts.map { text($0, needs: 2) }.joined(separator: " || ")
    case .select(let c, let a, let b): body = "\(text(c, needs: 1)) ? \(text(a, needs: 1)) : \(text(b, needs: 1))"
    case .squareRoot(let a): body = squareRoot(text(a))
    case .exponential(let a): body = exponential(text(a))
    case .roundEven(let a): body = roundEven(text(a), vector: a.type == .vector)
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
    case .vector: "vf"
    case .int16: "short"
    case .intVector: "vi"
    case .pairVector: "vs"
    case .byte: "unsigned char"
    case .quadVector: "vq"
    }
  }
  func minimum(_ a: String, _ b: String) -> String { "(\(a) < \(b) ? \(a) : \(b))" }
  func maximum(_ a: String, _ b: String) -> String { "(\(a) > \(b) ? \(a) : \(b))" }
  func squareRoot(_ a: String) -> String { "sqrtf(\(a))" }
  // The default rounding mode, which programs never change, rounds halves to even.
  func roundEven(_ a: String, vector: Bool) -> String { vector ? "round_v(\(a))" : "nearbyintf(\(a))" }
  func exponential(_ a: String) -> String { "expf(\(a))" }
  func convert(_ a: String, to type: Scalar) -> String {
    type == .vector || type == .intVector
      ? "__builtin_convertvector(\(a), \(typeName(type)))" : "(\(typeName(type)))(\(a))"
  }
  func define(_ name: String, _ type: Scalar, _ value: String, mutable: Bool) -> String {
    "\(mutable ? "" : "const ")\(typeName(type)) \(name) = \(value);"
  }
  func statement(_ text: String) -> String { text + ";" }
  var unusedLoopVariable: String? { nil }
  /// A macro of the program's prologue (`CProgram`): a pragma for clang or GCC, else nothing.
  var rolledLoopPrefix: String? { "ROLLED_LOOP" }
  func loop(_ variable: String, _ lower: String, _ upper: String, literalBounds: Bool) -> String {
    "for (long \(variable) = \(lower); \(variable) < \(upper); ++\(variable))"
  }
  func skip(_ condition: String) -> String { "if (\(condition)) continue;" }
  func vectorLoad(_ buffer: String, _ index: String) -> String { "*(const vf *)(\(buffer) + \(index))" }
  func splat(_ value: String, zero: Bool) -> String { zero ? "(vf){0}" : "((vf){0} + \(value))" }
  func lane(_ vector: String, _ index: String) -> String { "\(vector)[\(index)]" }
  func vectorMax(_ a: String, _ b: String) -> String { "max_v(\(a), \(b))" }
  func vectorMin(_ a: String, _ b: String) -> String { "min_v(\(a), \(b))" }
  func pairSplat(_ buffer: String, _ index: String) -> String { "pair_splat(\(buffer) + \(index))" }
  func pairVectorLoad(_ buffer: String, _ index: String) -> String { "*(const vs *)(\(buffer) + \(index))" }
  func pairMultiplyAdd(_ name: String, _ a: String, _ b: String) -> String { "\(name) = madd_v(\(name), \(a), \(b));" }
  func quadSplat(_ buffer: String, _ index: String) -> String { "quad_splat(\(buffer) + \(index))" }
  func quadVectorLoad(_ buffer: String, _ index: String) -> String { "*(const vq *)(\(buffer) + \(index))" }
  func intVectorLoad(_ buffer: String, _ index: String) -> String { "*(const vi *)(\(buffer) + \(index))" }
  func byteVectorLoad(_ buffer: String, _ index: String) -> String { "load_bytes(\(buffer) + \(index))" }
  func quadBits(_ a: String) -> String { "(vq)(\(a))" }
  func quadMultiplyAdd(_ name: String, _ a: String, _ b: String) -> String {
    "\(name) = quad_madd_v(\(name), \(a), \(b));"
  }
  func narrowingStore(_ buffer: String, _ index: String, _ value: String, _ element: Element) -> String {
    "store_\(element == .byte ? "bytes" : "shorts")(\(buffer) + \(index), \(value));"
  }
  func saturatingByteStore(_ buffer: String, _ index: String, _ value: String, plus: String) -> String {
    "store_bytes_rounded(\(buffer) + \(index), \(value), (int)(\(plus)));"
  }
  func vectorStore(_ buffer: String, _ index: String, _ value: String, aligned: Bool) -> String {
    aligned
      ? "*(vf *)(\(buffer) + \(index)) = \(value);"
      : "{ const vf v_ = \(value); memcpy(\(buffer) + \(index), &v_, sizeof v_); }"
  }
  func intVectorStore(_ buffer: String, _ index: String, _ value: String) -> String {
    "*(vi *)(\(buffer) + \(index)) = \(value);"
  }
  func arithmeticOperator(_ op: Arithmetic, _ type: Scalar) -> String { op.rawValue }
  func multiplyAdd(_ name: String, _ a: String, _ b: String) -> String { "\(name) += \(a) * \(b);" }
  func branch(_ condition: String) -> String { "if (\(condition))" }
  func parallel(_ variable: String) -> String { "for (long \(variable) = begin; \(variable) < end; ++\(variable))" }

  /// A kernel that runs whole takes its buffers as parameters; one over a range of work items
  /// takes `kernel_args` (inputs in order, a second output among them where the kernel
  /// writes one, then the output) and the range. Scratch comes from `aligned_alloc` in whole
  /// cache lines.
  func prologue(_ name: String, _ kernel: Kernel) -> [String] {
    let element = { (p: KernelParameter) -> String in
      switch p.element {
      case .float: "float"
      case .int16: "short"
      case .int32: "int"
      case .byte: "unsigned char"
      }
    }
    let pointer = { (p: KernelParameter) in "\(p.writable ? "" : "const ")\(element(p)) *restrict \(p.name)" }
    var lines: [String]
    if kernel.workItems == nil {
      precondition(kernel.parameters.allSatisfy { $0.element == .float }, "a kernel of int16 parameters runs in parts")
      lines = ["static void \(name)(\(kernel.parameters.map(pointer).joined(separator: ", "))) {"]
    } else {
      lines = ["static void \(name)(const kernel_args *a, long begin, long end) {"]
      for (i, p) in kernel.parameters.enumerated() {
        let source = i == kernel.parameters.count - 1 ? "a->out" : "a->in[\(i)]"
        let cast = p.writable || p.element != .float ? "(\(p.writable ? "" : "const ")\(element(p)) *)" : ""
        lines.append("\(pointer(p)) = \(cast)\(source);")
      }
    }
    for s in kernel.scratch {
      let bytes = (s.elements * s.element.size + 63) / 64 * 64
      lines.append("\(element(s)) *\(s.name) = aligned_alloc(64, \(bytes)L);")
      lines.append("if (!\(s.name)) abort();")
    }
    return lines
  }
  func epilogue(_ kernel: Kernel) -> [String] { kernel.scratch.map { "free(\($0.name));" } }
  func copy(target: String, at: String, source: String, from: String, count: Int) -> String {
    "memcpy(\(target) + \(at), \(source) + \(from), sizeof \(target)[0] * \(count)L);"
  }
  func widenBytes(target: String, at: String, source: String, from: String, count: Int, minus: String) -> String {
    "widen_bytes(\(target) + \(at), \(source) + \(from), \(count)L, (int)(\(minus)));"
  }
  func splitBytePairs(
    buffer: String, pixels: Int, blocks: Int, width: Int, counts: String, entries: String, bound: Int
  ) -> String {
    "split_byte_pairs(\(buffer), \(counts), \(entries), \(pixels)L, \(blocks)L, \(width), \(bound));"
  }
  func int32Index(_ buffer: String, _ index: String) -> String { "(long)\(buffer)[\(index)]" }
  func quadSplatBits(_ buffer: String, _ index: String) -> String { "(vq)((vi){0} + \(buffer)[\(index)])" }
  var scope: (header: String, trailer: String) { ("do", " while (0);") }
  func fill(target: String, at: String, value: String, count: Int) -> String {
    value == "0.0f"
      ? "memset(\(target) + \(at), 0, sizeof(float) * \(count)L);"
      : "for (long i_ = 0; i_ < \(count)L; ++i_) \(target)[\(at) + i_] = \(value);"
  }
}

/// Swift: `Int` indices, typed declarations (which spare the type checker), unsafe pointers'
/// `update` for copies and fills. Loops whose bounds are not literals use `stride`, which runs
/// nothing when the upper bound is below the lower (a range `a..<b` would trap). Index
/// arithmetic is spelled with the checked `+`, `-`, `*`: swiftc type-checks them several times
/// faster than the wrapping `&+` (the kernels of ResNet-50 compile in 13 s instead of 18).
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
    case .vector: "VF"
    case .int16: "Int16"
    case .intVector: "VI"
    case .pairVector: "VS"
    case .byte: "UInt8"
    case .quadVector: "VQ"
    }
  }
  func minimum(_ a: String, _ b: String) -> String { "min(\(a), \(b))" }
  func maximum(_ a: String, _ b: String) -> String { "max(\(a), \(b))" }
  func squareRoot(_ a: String) -> String { "(\(a)).squareRoot()" }
  func roundEven(_ a: String, vector: Bool) -> String { "(\(a)).rounded(.toNearestOrEven)" }
  func exponential(_ a: String) -> String { "expf(\(a))" }
  func convert(_ a: String, to type: Scalar) -> String {
    switch type {
    case .intVector: "vint(\(a))"
    case .vector: "vfloat(\(a))"
    case .byte: "byteOf(\(a))"
    case .int16: "int16Of(\(a))"
    default: "\(typeName(type))(\(a))"
    }
  }
  func define(_ name: String, _ type: Scalar, _ value: String, mutable: Bool) -> String {
    "\(mutable ? "var" : "let") \(name): \(typeName(type)) = \(value)"
  }
  func statement(_ text: String) -> String { text }
  /// Swift warns of a loop variable that is never read.
  var unusedLoopVariable: String? { "_" }
  /// Swift has no pragma for it.
  var rolledLoopPrefix: String? { nil }
  func loop(_ variable: String, _ lower: String, _ upper: String, literalBounds: Bool) -> String {
    literalBounds
      ? "for \(variable) in \(lower)..<\(upper)" : "for \(variable) in stride(from: \(lower), to: \(upper), by: 1)"
  }
  func skip(_ condition: String) -> String { "if \(condition) { continue }" }
  func vectorLoad(_ buffer: String, _ index: String) -> String { "vload(\(buffer), \(index))" }
  func splat(_ value: String, zero: Bool) -> String { zero ? "VF()" : "VF(repeating: \(value))" }
  func lane(_ vector: String, _ index: String) -> String { "\(vector)[\(index)]" }
  func vectorMax(_ a: String, _ b: String) -> String { "vmax(\(a), \(b))" }
  func vectorMin(_ a: String, _ b: String) -> String { "vmin(\(a), \(b))" }
  func pairSplat(_ buffer: String, _ index: String) -> String { "pairSplat(\(buffer), \(index))" }
  func pairVectorLoad(_ buffer: String, _ index: String) -> String { "pload(\(buffer), \(index))" }
  func pairMultiplyAdd(_ name: String, _ a: String, _ b: String) -> String { "\(name) = vmadd(\(name), \(a), \(b))" }
  func quadSplat(_ buffer: String, _ index: String) -> String { "quadSplat(\(buffer), \(index))" }
  func quadVectorLoad(_ buffer: String, _ index: String) -> String { "qload(\(buffer), \(index))" }
  func intVectorLoad(_ buffer: String, _ index: String) -> String { "iload(\(buffer), \(index))" }
  func byteVectorLoad(_ buffer: String, _ index: String) -> String { "vloadBytes(\(buffer), \(index))" }
  func quadBits(_ a: String) -> String { "unsafeBitCast(\(a), to: VQ.self)" }
  func quadMultiplyAdd(_ name: String, _ a: String, _ b: String) -> String { "\(name) = vdpbusd(\(name), \(a), \(b))" }
  func narrowingStore(_ buffer: String, _ index: String, _ value: String, _ element: Element) -> String {
    "\(element == .byte ? "vstoreBytes" : "vstoreShorts")(\(value), \(buffer), \(index))"
  }
  func saturatingByteStore(_ buffer: String, _ index: String, _ value: String, plus: String) -> String {
    "vstoreBytesRounded(\(value), \(plus), \(buffer), \(index))"
  }
  func vectorStore(_ buffer: String, _ index: String, _ value: String, aligned: Bool) -> String {
    "vstore(\(value), \(buffer), \(index))"
  }
  func intVectorStore(_ buffer: String, _ index: String, _ value: String) -> String {
    "istore(\(value), \(buffer), \(index))"
  }
  func arithmeticOperator(_ op: Arithmetic, _ type: Scalar) -> String {
    type == .intVector ? "&" + op.rawValue : op.rawValue
  }
  func multiplyAdd(_ name: String, _ a: String, _ b: String) -> String { "\(name).addProduct(\(a), \(b))" }
  func branch(_ condition: String) -> String { "if \(condition)" }
  func parallel(_ variable: String) -> String { "for \(variable) in begin..<end" }

  /// A kernel that runs whole takes its buffers as parameters; one over a range of work items
  /// takes `ResnetcKernelArgs` (inputs in order, a second output among them where the kernel
  /// writes one, then the output) and the range.
  func prologue(_ name: String, _ kernel: Kernel) -> [String] {
    var lines: [String]
    if kernel.workItems == nil {
      precondition(kernel.parameters.allSatisfy { $0.element == .float }, "a kernel of int16 parameters runs in parts")
      let parameters = kernel.parameters.map {
        "_ \($0.name): Unsafe\($0.writable ? "Mutable" : "")Pointer<Float>"
      }
      lines = ["func \(name)(\(parameters.joined(separator: ", "))) {"]
    } else {
      lines = ["func \(name)(_ a: ResnetcKernelArgs, _ begin: Int, _ end: Int) {"]
      for (i, p) in kernel.parameters.enumerated() {
        let operand = "a.in\(i)" + (i >= 4 ? "!" : "")
        let element = SwiftKernelPrinter.elementName(p.element)
        let source =
          i == kernel.parameters.count - 1
          ? (p.element == .float ? "a.out" : "UnsafeMutableRawPointer(a.out).assumingMemoryBound(to: \(element).self)")
          : p.element != .float
            ? "UnsafeRawPointer(\(operand)).assumingMemoryBound(to: \(element).self)"
            : p.writable ? "UnsafeMutablePointer(mutating: \(operand))" : operand
        lines.append("let \(p.name) = \(source)")
      }
    }
    for s in kernel.scratch {
      lines.append(
        "let \(s.name) = UnsafeMutablePointer<\(SwiftKernelPrinter.elementName(s.element))>.allocate(capacity: \(s.elements))"
      )
      lines.append("defer { \(s.name).deallocate() }")
    }
    return lines
  }
  func epilogue(_ kernel: Kernel) -> [String] { [] }

  /// The Swift type of a buffer's elements.
  static func elementName(_ element: Element) -> String {
    switch element {
    case .float: "Float"
    case .int16: "Int16"
    case .int32: "Int32"
    case .byte: "UInt8"
    }
  }
  func copy(target: String, at: String, source: String, from: String, count: Int) -> String {
    "\(target).advanced(by: \(at)).update(from: \(source).advanced(by: \(from)), count: \(count))"
  }
  func fill(target: String, at: String, value: String, count: Int) -> String {
    "\(target).advanced(by: \(at)).update(repeating: \(value), count: \(count))"
  }
  func widenBytes(target: String, at: String, source: String, from: String, count: Int, minus: String) -> String {
    "widenBytes(\(target) + \(at), \(source) + \(from), \(count), \(minus))"
  }
  func splitBytePairs(
    buffer: String, pixels: Int, blocks: Int, width: Int, counts: String, entries: String, bound: Int
  ) -> String {
    "splitBytePairs(\(buffer), \(counts), \(entries), \(pixels), \(blocks), \(width), \(bound))"
  }
  func int32Index(_ buffer: String, _ index: String) -> String { "Int(\(buffer)[\(index)])" }
  func quadSplatBits(_ buffer: String, _ index: String) -> String {
    "unsafeBitCast(VI(repeating: \(buffer)[\(index)]), to: VQ.self)"
  }
  var scope: (header: String, trailer: String) { ("do", "") }
}
