/// The kernel IR: a kernel body as a value, between the lowered program and the text of a
/// language. Every shape is a literal; buffers are named parameters of known length; indices
/// are affine expressions of loop variables, so `KernelVerifier` can prove every access in
/// bounds, and `KernelPrinter` writes the same kernel as C or as Swift.

/// The type of a kernel value.
enum Scalar: Hashable, Sendable {
  /// A buffer index or count (`long` in C, `Int` in Swift).
  case index
  /// A tensor element.
  case float
  /// An accumulator for long sums.
  case double
  /// A condition.
  case bool
  /// A vector of the kernel's `vectorWidth` floats: one pixel's channel block.
  case vector
  /// A 16-bit integer: an element of an `int16` buffer.
  case int16
  /// A vector of `vectorWidth` 32-bit integers: the sums of a quantized conv's channel block.
  case intVector
  /// A vector of `2 × vectorWidth` 16-bit integers, read as `vectorWidth` pairs: lane `l`
  /// of an `intVector` is made from pair `l` (elements `2l` and `2l + 1`).
  case pairVector
  /// An 8-bit integer: an element of a `byte` buffer.
  case byte
  /// A vector of `4 × vectorWidth` bytes, read as `vectorWidth` quads (`4l ..< 4l + 4` make
  /// lane `l`), unsigned or signed as the operation that reads it says.
  case quadVector
}

/// The elements of a kernel buffer.
enum Element: Hashable, Sendable {
  /// Bytes per element.
  var size: Int {
    switch self {
    case .float, .int32: 4
    case .int16: 2
    case .byte: 1
    }
  }

  /// 32-bit floats (every buffer of the memory plan, and most constants).
  case float
  /// 16-bit integers: a quantized conv's input as it packs it, and its packed weights (two
  /// to a float of the weights file).
  case int16
  /// 32-bit integers (a float of the weights file holding an integer's bits).
  case int32
  /// Bytes: a quantized conv's input as it packs it (unsigned), and its packed weights
  /// (signed; four to a float of the weights file).
  case byte
}

/// `+ - * / %` (on indices `/` and `%` truncate toward zero, as C and Swift do; `%` is for
/// indices only). A vector may meet a float: the float applies to every lane. Vectors of
/// integers add and subtract only, lane by lane, where the kernel's builder has proved that
/// no lane passes 32 bits.
enum Arithmetic: String, Hashable, Sendable {
  case add = "+", subtract = "-", multiply = "*", divide = "/", remainder = "%"
}

/// `< <= > >= == !=`.
enum Comparison: String, Hashable, Sendable {
  case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "==", notEqual = "!="
}

/// A kernel expression; its type follows from its parts.
indirect enum Expr: Hashable, Sendable {
  /// An index literal.
  case int(Int)
  /// A float literal (any value, NaN and infinities too).
  case float(Float)
  /// A double literal.
  case double(Double)
  /// A loop variable or local of the given type.
  case variable(String, Scalar)
  /// Element `index` of a float buffer.
  case load(String, Expr)
  /// The vector at elements `index ..< index + vectorWidth` of a buffer (a multiple of the
  /// width from a vector-aligned buffer).
  case vectorLoad(String, Expr)
  /// A float in every lane.
  case splat(Expr)
  /// Lane `index` of a vector.
  case lane(Expr, Expr)
  /// Lane by lane, `a` where `a > b`, else `b`: a NaN in `a` never wins, so
  /// `vectorMax(v, splat(0))` is the ReLU that gives 0 for NaN.
  case vectorMax(Expr, Expr)
  case arithmetic(Arithmetic, Expr, Expr)
  case minimum(Expr, Expr)
  case maximum(Expr, Expr)
  case compare(Comparison, Expr, Expr)
  /// True when any is.
  case any([Expr])
  /// True when every one is.
  case all([Expr])
  /// `condition ? a : b`.
  case select(Expr, Expr, Expr)
  /// Square root of a float.
  case squareRoot(Expr)
  /// e to the power of a float.
  case exponential(Expr)
  /// A float, or each lane of a vector of floats, rounded to the nearest whole number, halves
  /// to even.
  case roundEven(Expr)
  /// The value as another numeric type; between `vector` and `intVector`, lane by lane
  /// (floats to integers toward zero).
  case convert(Expr, Scalar)
  /// Lane by lane, the smaller of two vectors of floats that hold no NaN.
  case vectorMin(Expr, Expr)
  /// The two 16-bit integers at elements `index` and `index + 1` of an `int16` buffer, as
  /// every pair of a `pairVector`.
  case pairSplat(String, Expr)
  /// The `pairVector` at elements `index ..< index + 2 × vectorWidth` of an `int16` buffer
  /// (vector-aligned).
  case pairVectorLoad(String, Expr)
  /// The four bytes at elements `index ..< index + 4` of a `byte` buffer as every quad of a
  /// `quadVector`.
  case quadSplat(String, Expr)
  /// The `quadVector` at elements `index ..< index + 4 × vectorWidth` of a `byte` buffer
  /// (vector-aligned).
  case quadVectorLoad(String, Expr)
  /// The `intVector` at elements `index ..< index + vectorWidth` of an `int32` buffer
  /// (vector-aligned).
  case intVectorLoad(String, Expr)
  /// The `vectorWidth` unsigned bytes at elements `index ..< index + vectorWidth` of a
  /// `byte` buffer, as a vector of floats.
  case byteVectorLoad(String, Expr)
  /// The bits of an `intVector` read as a `quadVector` (each lane's four bytes, the lowest
  /// first): a value the next multiply-add depends on, as the integer peak loop needs.
  case quadBits(Expr)

  /// The expression's type (checked by `KernelVerifier`).
  var type: Scalar {
    switch self {
    case .int: .index
    case .float, .load, .squareRoot, .exponential, .lane: .float
    case .roundEven(let a): a.type == .vector ? .vector : .float
    case .double: .double
    case .vectorLoad, .splat, .vectorMax, .vectorMin, .byteVectorLoad: .vector
    case .pairSplat, .pairVectorLoad: .pairVector
    case .quadSplat, .quadVectorLoad, .quadBits: .quadVector
    case .intVectorLoad: .intVector
    case .variable(_, let t), .convert(_, let t): t
    case .arithmetic(_, let a, let b): b.type == .vector ? .vector : a.type
    case .minimum(let a, _), .maximum(let a, _): a.type
    case .compare, .any, .all: .bool
    case .select(_, let a, _): a.type
    }
  }

  // Index arithmetic with literals is folded where it is the identity or both sides are
  // literals, so that kernels built from general formulas print without `+ 0` or `* 1`.
  static func + (a: Expr, b: Expr) -> Expr {
    switch (a, b) {
    case (.int(let x), .int(let y)): .int(x + y)
    case (_, .int(0)) where a.type == .index: a
    case (.int(0), _) where b.type == .index: b
    default: .arithmetic(.add, a, b)
    }
  }
  static func - (a: Expr, b: Expr) -> Expr {
    switch (a, b) {
    case (.int(let x), .int(let y)): .int(x - y)
    case (_, .int(0)) where a.type == .index: a
    default: .arithmetic(.subtract, a, b)
    }
  }
  static func * (a: Expr, b: Expr) -> Expr {
    switch (a, b) {
    case (.int(let x), .int(let y)): .int(x * y)
    case (_, .int(1)) where a.type == .index: a
    case (.int(1), _) where b.type == .index: b
    default: .arithmetic(.multiply, a, b)
    }
  }
  static func / (a: Expr, b: Expr) -> Expr { .arithmetic(.divide, a, b) }
  static func < (a: Expr, b: Expr) -> Expr { .compare(.less, a, b) }
  static func >= (a: Expr, b: Expr) -> Expr { .compare(.greaterOrEqual, a, b) }
  static func > (a: Expr, b: Expr) -> Expr { .compare(.greater, a, b) }
  static func % (a: Expr, b: Expr) -> Expr { .arithmetic(.remainder, a, b) }
}

extension Expr: ExpressibleByIntegerLiteral {
  init(integerLiteral value: Int) { self = .int(value) }
}

/// An index variable.
func index(_ name: String) -> Expr { .variable(name, .index) }

/// A range of a loop over output positions `v` in `0..<count` whose input position
/// `v * stride + offset` lies in `0..<limit` (a convolution's taps that fall inside the
/// image): the loop skips the rest without a test per position, and the body sees the input
/// position as the index `position`.
struct InsideRange: Hashable, Sendable {
  let variable: String
  let count: Int
  let stride: Int
  let offset: Expr
  let limit: Int
  let position: String
}

/// A kernel statement.
indirect enum Stmt: Hashable, Sendable {
  /// `let name = value` (or `var` when `mutable`).
  case define(String, Expr, mutable: Bool)
  /// `name = value`.
  case assign(String, Expr)
  /// `name += value`.
  case accumulate(String, Expr)
  /// `buffer[index] = value`.
  case store(String, Expr, Expr)
  /// `buffer[index] += value`.
  case storeAccumulate(String, Expr, Expr)
  /// The vector `value` into elements `index ..< index + vectorWidth`; `aligned` when the
  /// place is a multiple of the width in a vector-aligned buffer (a caller's output buffer
  /// need not be). A vector of floats into a float buffer, or an `intVector` into an `int32`
  /// one (aligned).
  case vectorStore(String, Expr, Expr, aligned: Bool)
  /// `name += a * b` for a vector `name`, as one fused multiply-add per lane (`a` a float or
  /// a vector, `b` a vector).
  case multiplyAdd(String, Expr, Expr)
  /// `name += madd(a, b)` for an `intVector` `name` and `pairVector`s `a` and `b`: lane `l`
  /// adds `a[2l]·b[2l] + a[2l+1]·b[2l+1]`, exact in 32 bits (no operand is -32768).
  case pairMultiplyAdd(String, Expr, Expr)
  /// `name += dot(a, b)` for an `intVector` `name` and `quadVector`s `a` (unsigned) and `b`
  /// (signed): lane `l` adds `Σ a[4l+j]·b[4l+j]` over `j < 4`, exact in 32 bits
  /// (`vpdpbusd`).
  case quadMultiplyAdd(String, Expr, Expr)
  /// The lanes of the float vector `value`, whole numbers in the range of `element`, stored
  /// as `vectorWidth` elements of the `element` buffer `buffer` from `index`.
  case narrowingStore(String, Expr, Expr, Element)
  /// The lanes of the float vector `value` rounded to whole numbers (halves to even), plus the
  /// whole number `plus` (a float), clamped to 0...255 and stored as `vectorWidth` elements of
  /// the `byte` buffer `buffer` from `index`. Every lane must be below 2^31 - 512 and no NaN;
  /// one below -2^31 counts as -2^31, so it stores 0 too and no lower bound is needed (on x86,
  /// `cvtps2dq` then saturating packs: no clamp in floats and no rounding by adding 1.5 · 2^23).
  case saturatingByteStore(String, Expr, Expr, plus: Expr)
  /// `if condition { then } else { otherwise }`.
  case branch(Expr, [Stmt], else: [Stmt])
  /// The kernel's units of parallel work: `body` for `variable` in `0..<count`, the range split
  /// between threads (each call runs one part, `begin ..< end`). Only at a kernel's top level.
  case parallel(String, Int, [Stmt])
  /// `for variable in lower..<upper { body }`, nothing when `upper <= lower`.
  case loop(String, Expr, Expr, [Stmt])
  /// `loop`, which compilers are asked to keep rolled: its body is a register tile's step
  /// that already uses nearly every vector register, and copies of it side by side make the
  /// compiler spill them.
  case rolledLoop(String, Expr, Expr, [Stmt])
  /// A loop over the positions of an `InsideRange`.
  case inside(InsideRange, [Stmt])
  /// Go on with the next iteration of the innermost loop when the condition holds.
  case skip(Expr)
  /// `count` unsigned bytes of the `byte` buffer `source` from `from`, each less the whole
  /// number `minus` (a float within 0...255), as int16 into the `int16` buffer `target` from
  /// `at` (`vpmovzxbw` and `vpsubw`, 16 at a time).
  case widenBytes(target: String, at: Expr, source: String, from: Expr, count: Int, minus: Expr)
  /// `count` elements from `source[from...]` to `target[at...]`: floats, or bytes.
  case copy(target: String, at: Expr, source: String, from: Expr, count: Int)
  /// `count` elements of `target` from `at` set to `value`.
  case fill(target: String, at: Expr, value: Expr, count: Int)
  /// Splits the byte pairs that `vpmaddubsw` could saturate. The `byte` buffer `buffer` holds
  /// `blocks` blocks of `pixels` pixels of `width` bytes (a multiple of 4; pixel `px` of block
  /// `cb` at `(cb · pixels + px) · width`), four to a quad; quad `g` of a pixel is quad `g mod
  /// (width / 4)` of its block `g / (width / 4)`. Each pair of bytes (u, v) of a
  /// quad whose sum passes `bound` (within 255...510) becomes (u, bound - u), and a quad with
  /// such rests, (u0, v0, u1, v1) less (0, e0, 0, e1), is recorded as the pixel's next entry
  /// `k`: the int32 buffer `counts` holds each pixel's number of entries (element `px`), and
  /// `entries` entry `k` of pixel `px` at elements `2 · (k · pixels + px)` (the quad `g`)
  /// and `+ 1` (the bytes (0, e0, 0, e1), the lowest first). The pairs left sum to at most
  /// `bound`, the rests to at most 255, and the entries of a pixel are at most its quads.
  case splitBytePairs(buffer: String, pixels: Int, blocks: Int, width: Int, counts: String, entries: String, bound: Int)
  /// For each entry of pixel `pixel` that a `splitBytePairs` over `pixels` pixels of
  /// `quads` quads recorded in `counts` and `entries`: `accumulators[j] += dot(rests,
  /// weights[w ..< w + 4 × vectorWidth])` (`quadMultiplyAdd`, unsigned rests and signed
  /// weights) with `w = at + g · quadStride + j · accumulatorStride` for the entry's quad `g`:
  /// the products of the rests that the split took out of the pairs.
  case addPairRests(
    accumulators: [String], counts: String, entries: String, pixels: Int, quads: Int, pixel: Expr, weights: String,
    at: Expr, quadStride: Int, accumulatorStride: Int)
}

/// A buffer a kernel reads or writes, of `elements` elements (floats unless `element` says).
struct KernelParameter: Hashable, Sendable {
  let name: String
  let elements: Int
  let writable: Bool
  var element: Element = .float
}

/// A kernel body with the buffers it may touch: its parameters, in the order a call passes
/// them (the last is the output), and scratch buffers it allocates for each call (writable,
/// vector-aligned, their contents undefined until written).
struct Kernel: Hashable, Sendable {
  let parameters: [KernelParameter]
  var scratch: [KernelParameter] = []
  /// Floats per vector; 0 for a kernel without vectors.
  var vectorWidth: Int = 0
  let body: [Stmt]

  /// The units of parallel work of a kernel whose body holds a `parallel` loop: such a kernel
  /// is called with its buffers and a range of work; one without takes its buffers and runs
  /// whole.
  var workItems: Int? {
    for statement in body { if case .parallel(_, let count, _) = statement { return count } }
    return nil
  }
}
