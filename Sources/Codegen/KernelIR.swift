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
}

/// `+ - * /` (on indices `/` truncates toward zero, as C and Swift do).
enum Arithmetic: String, Hashable, Sendable {
  case add = "+", subtract = "-", multiply = "*", divide = "/"
}

/// `< <= > >= ==`.
enum Comparison: String, Hashable, Sendable {
  case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "=="
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
  case arithmetic(Arithmetic, Expr, Expr)
  case minimum(Expr, Expr)
  case maximum(Expr, Expr)
  case compare(Comparison, Expr, Expr)
  /// True when any is.
  case any([Expr])
  /// `condition ? a : b`.
  case select(Expr, Expr, Expr)
  /// Square root of a float.
  case squareRoot(Expr)
  /// e to the power of a float.
  case exponential(Expr)
  /// The value as another numeric type.
  case convert(Expr, Scalar)

  /// The expression's type (checked by `KernelVerifier`).
  var type: Scalar {
    switch self {
    case .int: .index
    case .float, .load, .squareRoot, .exponential: .float
    case .double: .double
    case .variable(_, let t), .convert(_, let t): t
    case .arithmetic(_, let a, _), .minimum(let a, _), .maximum(let a, _): a.type
    case .compare, .any: .bool
    case .select(_, let a, _): a.type
    }
  }

  static func + (a: Expr, b: Expr) -> Expr { .arithmetic(.add, a, b) }
  static func - (a: Expr, b: Expr) -> Expr { .arithmetic(.subtract, a, b) }
  static func * (a: Expr, b: Expr) -> Expr { .arithmetic(.multiply, a, b) }
  static func / (a: Expr, b: Expr) -> Expr { .arithmetic(.divide, a, b) }
  static func < (a: Expr, b: Expr) -> Expr { .compare(.less, a, b) }
  static func >= (a: Expr, b: Expr) -> Expr { .compare(.greaterOrEqual, a, b) }
  static func > (a: Expr, b: Expr) -> Expr { .compare(.greater, a, b) }
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
  /// `for variable in lower..<upper { body }`, nothing when `upper <= lower`.
  case loop(String, Expr, Expr, [Stmt])
  /// A loop over the positions of an `InsideRange`.
  case inside(InsideRange, [Stmt])
  /// Go on with the next iteration of the innermost loop when the condition holds.
  case skip(Expr)
  /// `count` elements from `source[from...]` to `target[at...]`.
  case copy(target: String, at: Expr, source: String, from: Expr, count: Int)
  /// `count` elements of `target` from `at` set to `value`.
  case fill(target: String, at: Expr, value: Expr, count: Int)
}

/// A buffer a kernel reads or writes, of `elements` floats.
struct KernelParameter: Hashable, Sendable {
  let name: String
  let elements: Int
  let writable: Bool
}

/// A kernel body with the buffers it may touch.
struct Kernel: Hashable, Sendable {
  let parameters: [KernelParameter]
  let body: [Stmt]
}
