/// How a residual block's shortcut handles a change of shape (the paper's options).
public enum ShortcutOption: String, Sendable, CaseIterable {
  /// Parameter-free: identity, strided subsampling and zero-padded extra channels.
  case a = "A"
  /// A 1x1 projection (with BatchNorm) only where the shape changes; identity elsewhere.
  case b = "B"
  /// A projection on every shortcut.
  case c = "C"
}

/// Where a bottleneck block that downsamples puts its stride.
public enum StridePlacement: String, Sendable, CaseIterable {
  /// On the first 1x1 convolution, as in the paper's release ("v1").
  case v1
  /// On the 3x3 convolution, as torchvision does ("v1.5").
  case v1_5 = "v1.5"
}

/// A member of the built-in family and the options it is built with.
public struct ResNetSpec: Hashable, Sendable {
  /// Number of weighted layers: 18, 34, 50, 101, 152 (ImageNet) or 6n+2 (CIFAR).
  public var depth: Int
  /// Plain counterpart: the same stacks without shortcuts.
  public var plain: Bool
  /// Shortcut option; nil takes the paper's choice (B for ImageNet, A for CIFAR).
  public var shortcut: ShortcutOption?
  /// Stride placement in bottleneck blocks (ResNet-50 and deeper).
  public var stride: StridePlacement = .v1
  /// Images per batch.
  public var batch: Int = 1
  /// Input height and width; nil takes 224 (ImageNet) or 32 (CIFAR).
  public var resolution: Int?
  /// Seed for the weights.
  public var seed: UInt64 = 0

  /// Makes a spec with default options.
  public init(depth: Int, plain: Bool = false) {
    self.depth = depth
    self.plain = plain
  }

  /// The ImageNet depths of the paper's Table 1.
  public static let imageNetDepths = [18, 34, 50, 101, 152]
  /// The CIFAR-10 depths of the paper's section 4.2.
  public static let cifarDepths = [20, 32, 44, 56, 110, 1202]

  /// The names `ResNetSpec(name:)` knows, for help and error messages.
  public static var knownNames: [String] {
    let depths = imageNetDepths + cifarDepths
    return depths.map { "resnet\($0)" } + depths.map { "plain\($0)" }
  }

  /// Whether this is an ImageNet network (else CIFAR-10).
  public var isImageNet: Bool { ResNetSpec.imageNetDepths.contains(depth) }

  /// The model's name: `resnet50`, `plain20`, `resnet50-v1.5`.
  public var name: String {
    (plain ? "plain" : "resnet") + "\(depth)" + (stride == .v1_5 && depth >= 50 && isImageNet ? "-v1.5" : "")
  }

  /// The spec a built-in name denotes: `resnetD` or `plainD` for a depth in the paper's
  /// tables, or any CIFAR depth 6n+2; a `-v1.5` suffix selects torchvision's stride placement.
  public init(name: String) throws(ModelSpecError) {
    var base = Substring(name)
    var stride = StridePlacement.v1
    if base.hasSuffix("-v1.5") {
      base = base.dropLast(5)
      stride = .v1_5
    }
    let plain: Bool
    if base.hasPrefix("resnet") {
      plain = false
    } else if base.hasPrefix("plain") {
      plain = true
    } else {
      throw .unknownModel(name)
    }
    guard let depth = Int(base.drop { $0.isLetter }), depth > 0 else { throw .unknownModel(name) }
    guard ResNetSpec.imageNetDepths.contains(depth) || (depth >= 8 && (depth - 2) % 6 == 0) else {
      throw .unknownModel(name)
    }
    self.init(depth: depth, plain: plain)
    self.stride = stride
    if stride == .v1_5, !(isImageNet && depth >= 50) { throw .strideNeedsBottleneck(name) }
  }

  /// Checks option combinations and ranges.
  public func validate() throws(ModelSpecError) {
    if plain, shortcut != nil { throw .shortcutOnPlain(name) }
    if stride == .v1_5, !(isImageNet && depth >= 50) { throw .strideNeedsBottleneck(name) }
    guard (1...4096).contains(batch) else { throw .outOfRange(option: "batch", value: batch, range: "1...4096") }
    if let resolution {
      guard (1...8192).contains(resolution) else {
        throw .outOfRange(option: "resolution", value: resolution, range: "1...8192")
      }
    }
  }
}

/// A built-in model name or option that does not exist.
public enum ModelSpecError: Error, Equatable, Sendable, CustomStringConvertible {
  /// No such built-in model.
  case unknownModel(String)
  /// `--shortcut` given for a plain network.
  case shortcutOnPlain(String)
  /// v1.5 stride placement asked for a network without bottleneck blocks.
  case strideNeedsBottleneck(String)
  /// A numeric option outside its range.
  case outOfRange(option: String, value: Int, range: String)

  /// One line naming the problem.
  public var description: String {
    switch self {
    case .unknownModel(let name):
      "unknown model '\(name)': expected a .onnx or .gir file, or a built-in name "
        + "(resnet18/34/50/101/152, resnet20/32/44/56/110/1202 or any CIFAR depth 6n+2, plainD for the plain counterparts, "
        + "a -v1.5 suffix for torchvision's stride placement)"
    case .shortcutOnPlain(let name): "\(name) is a plain network: it has no shortcuts, so --shortcut does not apply"
    case .strideNeedsBottleneck(let name):
      "\(name) has no bottleneck blocks; the v1.5 stride placement applies to resnet50, resnet101 and resnet152"
    case .outOfRange(let option, let value, let range): "--\(option) \(value) is out of range (\(range))"
    }
  }
}
