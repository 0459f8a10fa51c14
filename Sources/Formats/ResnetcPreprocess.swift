/// Turning an image into a model's input, `--preprocess imagenet|none`: the one definition that
/// `resnetc run` and every compiled Swift program use (copied verbatim into each program); the
/// C programs' `Runtime/Program/resnetc_image.c` follows it step by step.
///
/// `imagenet` is torchvision's ImageNet evaluation transform on a PIL image: the shorter side
/// resized to `resize` (256 for a 224-pixel input, in proportion otherwise) with PIL's
/// bilinear filter (antialiased when shrinking; its 8-bit fixed-point arithmetic, reproduced
/// exactly), a centre crop of the input's size, then (x / 255 - mean) / std per channel in
/// float32. `none` takes an image of the input's size as it is, x / 255.
public enum ResnetcPreprocess {
  public static let mean: [Float] = [0.485, 0.456, 0.406]
  public static let std: [Float] = [0.229, 0.224, 0.225]

  /// The side the shorter one is resized to before cropping `crop` pixels: 256 for 224
  /// (crop / 0.875, rounded down).
  public static func resizeSide(crop: Int) -> Int { crop * 256 / 224 }

  /// How `--preprocess` prepares an image.
  public enum Mode: String, Sendable {
    case imagenet, none
  }

  /// `imagenet` for a 224 x 224 input, else `none`.
  public static func defaultMode(shape: [Int]) -> Mode {
    shape.count == 4 && shape[2] == 224 && shape[3] == 224 ? .imagenet : .none
  }

  /// `image` as the values of input `name` of `shape`, which must be [1, 3, H, W].
  public static func input(
    _ image: ResnetcImage, mode: Mode, name: String, shape: [Int]
  ) throws(ResnetcImage.Failure) -> [Float] {
    guard shape.count == 4, shape[0] == 1, shape[1] == 3 else {
      throw ResnetcImage.Failure(
        "is an image, but input '\(name)' is f32[\(shape.map(String.init).joined(separator: ","))], not [1,3,H,W]")
    }
    switch mode {
    case .imagenet:
      return imagenet(image, height: shape[2], width: shape[3])
    case .none:
      guard image.height == shape[2], image.width == shape[3] else {
        throw ResnetcImage.Failure(
          "is \(image.width)x\(image.height) pixels, but input '\(name)' is \(shape[3])x\(shape[2]) and "
            + "--preprocess none takes the image as it is (--preprocess imagenet resizes and crops)")
      }
      return none(image)
    }
  }

  /// `image` as a CHW float32 tensor of `height` x `width` for `--preprocess imagenet`.
  public static func imagenet(_ image: ResnetcImage, height: Int, width: Int) -> [Float] {
    let side = resizeSide(crop: min(height, width))
    // torchvision: the shorter side to `side`, the longer in proportion, truncated.
    let (w, h) = (image.width, image.height)
    let (newWidth, newHeight) =
      w <= h ? (side, Int(Double(side) * Double(h) / Double(w))) : (Int(Double(side) * Double(w) / Double(h)), side)
    let resized = resize(image, width: max(newWidth, width), height: max(newHeight, height))
    let top = roundHalfEven(resized.height - height), left = roundHalfEven(resized.width - width)
    var out = [Float](repeating: 0, count: 3 * height * width)
    for c in 0..<3 {
      for y in 0..<height {
        for x in 0..<width {
          let value = Float(resized.rgb[((top + y) * resized.width + left + x) * 3 + c]) / 255
          out[(c * height + y) * width + x] = (value - mean[c]) / std[c]
        }
      }
    }
    return out
  }

  /// `image` as a CHW float32 tensor, x / 255, for `--preprocess none`.
  public static func none(_ image: ResnetcImage) -> [Float] {
    var out = [Float](repeating: 0, count: 3 * image.height * image.width)
    let plane = image.height * image.width
    for i in 0..<plane {
      for c in 0..<3 { out[c * plane + i] = Float(image.rgb[i * 3 + c]) / 255 }
    }
    return out
  }

  /// Python's `round(d / 2.0)`, as torchvision's centre crop takes it: halves go to even.
  static func roundHalfEven(_ d: Int) -> Int {
    let half = d / 2
    return d % 2 == 0 || half % 2 == 0 ? half : half + 1
  }

  /// PIL's `Image.resize((width, height), BILINEAR)` of an RGB image: a horizontal pass, then
  /// a vertical one, each rounding to 8 bits.
  public static func resize(_ image: ResnetcImage, width: Int, height: Int) -> ResnetcImage {
    var current = image
    if width != image.width {
      let (bounds, weights) = coefficients(input: image.width, output: width)
      var rgb = [UInt8](repeating: 0, count: width * image.height * 3)
      for y in 0..<image.height {
        for x in 0..<width {
          let (start, count) = bounds[x]
          for c in 0..<3 {
            var sum = 1 << (precisionBits - 1)
            for k in 0..<count { sum += Int(image.rgb[(y * image.width + start + k) * 3 + c]) * weights[x][k] }
            rgb[(y * width + x) * 3 + c] = clip8(sum)
          }
        }
      }
      current = ResnetcImage(width: width, height: image.height, rgb: rgb)
    }
    if height != current.height {
      let (bounds, weights) = coefficients(input: current.height, output: height)
      var rgb = [UInt8](repeating: 0, count: width * height * 3)
      for y in 0..<height {
        let (start, count) = bounds[y]
        for x in 0..<width {
          for c in 0..<3 {
            var sum = 1 << (precisionBits - 1)
            for k in 0..<count { sum += Int(current.rgb[((start + k) * width + x) * 3 + c]) * weights[y][k] }
            rgb[(y * width + x) * 3 + c] = clip8(sum)
          }
        }
      }
      current = ResnetcImage(width: width, height: height, rgb: rgb)
    }
    return current
  }

  static let precisionBits = 32 - 8 - 2

  static func clip8(_ sum: Int) -> UInt8 {
    let value = sum >> precisionBits
    return UInt8(value < 0 ? 0 : value > 255 ? 255 : value)
  }

  /// For each output pixel, the first input pixel it reads, how many, and their weights in
  /// fixed point: PIL's triangle filter of support 1, widened by the scale when shrinking.
  static func coefficients(input: Int, output: Int) -> (bounds: [(Int, Int)], weights: [[Int]]) {
    let scale = Double(input) / Double(output)
    let filterScale = max(scale, 1.0)
    let support = filterScale
    var bounds: [(Int, Int)] = []
    var weights: [[Int]] = []
    for xx in 0..<output {
      let center = (Double(xx) + 0.5) * scale
      let ss = 1.0 / filterScale
      var xmin = Int(center - support + 0.5)
      if xmin < 0 { xmin = 0 }
      var xmax = Int(center + support + 0.5)
      if xmax > input { xmax = input }
      xmax -= xmin
      var k = [Double](repeating: 0, count: xmax)
      var total = 0.0
      for x in 0..<xmax {
        let t = abs((Double(x + xmin) - center + 0.5) * ss)
        let w = t < 1.0 ? 1.0 - t : 0.0
        k[x] = w
        total += w
      }
      let scaleBits = Double(1 << precisionBits)
      let fixed = k.map { w -> Int in
        let normalized = total != 0 ? w / total : w
        return normalized < 0 ? Int(normalized * scaleBits - 0.5) : Int(normalized * scaleBits + 0.5)
      }
      bounds.append((xmin, xmax))
      weights.append(fixed)
    }
    return (bounds, weights)
  }
}
