/// A pair of spatial sizes, height first (strides, dilations, kernel sizes).
public struct Size2d: Hashable, Sendable {
  /// Along the height axis.
  public var h: Int
  /// Along the width axis.
  public var w: Int

  /// Makes a pair.
  public init(_ h: Int, _ w: Int) {
    self.h = h
    self.w = w
  }

  /// The same size along both axes.
  public static func square(_ n: Int) -> Size2d { Size2d(n, n) }

  /// Both elements, height first, as the textual IR lists them.
  public var elements: [Int] { [h, w] }
}

/// Zero (or, for max pooling, minus infinity) padding on the four sides of a feature map,
/// in ONNX's order: top, left, bottom, right.
public struct Padding2d: Hashable, Sendable {
  /// Rows added above.
  public var top: Int
  /// Columns added on the left.
  public var left: Int
  /// Rows added below.
  public var bottom: Int
  /// Columns added on the right.
  public var right: Int

  /// Makes a padding, ONNX order.
  public init(top: Int, left: Int, bottom: Int, right: Int) {
    self.top = top
    self.left = left
    self.bottom = bottom
    self.right = right
  }

  /// The same padding on every side.
  public static func uniform(_ n: Int) -> Padding2d { Padding2d(top: n, left: n, bottom: n, right: n) }

  /// No padding.
  public static let zero = Padding2d.uniform(0)

  /// The four elements in ONNX order, as the textual IR lists them.
  public var elements: [Int] { [top, left, bottom, right] }
}

/// What a convolution applies to its result while it is still in registers.
///
/// Fusion sets the epilogue; it is never a separate op. With `.add` and `.addReLU` the
/// convolution takes one more operand, the residual, after the bias.
public enum Epilogue: String, Hashable, Sendable, CaseIterable {
  /// The plain convolution (plus bias).
  case none
  /// `relu(conv(x))`.
  case relu
  /// `conv(x) + residual`.
  case add
  /// `relu(conv(x) + residual)`.
  case addReLU = "add_relu"

  /// Whether the convolution takes a residual operand.
  public var addsResidual: Bool {
    switch self {
    case .none, .relu: false
    case .add, .addReLU: true
    }
  }
}

/// Attributes of `conv2d(x, w[, b][, residual])`. The kernel size is the weight's shape.
public struct Conv2dAttributes: Hashable, Sendable {
  /// Step between output positions.
  public var stride: Size2d
  /// Zero padding of the input.
  public var padding: Padding2d
  /// Spacing between kernel taps.
  public var dilation: Size2d
  /// Channel groups; input and output channels are both divisible by it.
  public var groups: Int
  /// Fused work on the result.
  public var epilogue: Epilogue

  /// Makes conv attributes; everything but the stride and padding defaults to the plain case.
  public init(
    stride: Size2d = .square(1), padding: Padding2d = .zero, dilation: Size2d = .square(1),
    groups: Int = 1, epilogue: Epilogue = .none
  ) {
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.groups = groups
    self.epilogue = epilogue
  }
}

/// The window of a max or average pooling.
public struct Pool2dAttributes: Hashable, Sendable {
  /// Window size.
  public var kernel: Size2d
  /// Step between windows.
  public var stride: Size2d
  /// Padding; padded positions never win a max and count for an average only when asked.
  public var padding: Padding2d
  /// Spacing between window taps.
  public var dilation: Size2d
  /// Round the output size up, as ONNX `ceil_mode=1` and PyTorch do: a last window that
  /// starts inside the input or its leading padding is kept.
  public var ceilMode: Bool

  /// Makes pool attributes.
  public init(
    kernel: Size2d, stride: Size2d, padding: Padding2d = .zero, dilation: Size2d = .square(1),
    ceilMode: Bool = false
  ) {
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.ceilMode = ceilMode
  }
}

extension Conv2dAttributes {
  /// Whether a conv2d with these attributes and `operandCount` operands has a bias: `(x, w, b)`,
  /// or `(x, w, b, residual)` when the epilogue adds one.
  public func hasBias(operandCount: Int) -> Bool {
    operandCount == (epilogue.addsResidual ? 4 : 3)
  }
}
