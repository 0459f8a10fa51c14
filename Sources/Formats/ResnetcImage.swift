/// Images for `--image FILE`: PNG (8-bit gray, gray+alpha, RGB, RGBA; palette and gray of 1,
/// 2, 4 or 8 bits; interlaced or not) and binary PPM/PGM (P6, P5; maxval up to 255), decoded
/// to 8-bit RGB, alpha dropped (as PIL's `convert("RGB")`). The one definition that
/// `resnetc run` and every compiled Swift program use (copied verbatim into each program);
/// the C programs' `Runtime/Program/resnetc_image.c` follows it step by step, with the same
/// words, and a test holds them to the same pixels and messages.
public struct ResnetcImage: Equatable, Sendable {
  public var width: Int
  public var height: Int
  /// Row-major RGB, three bytes a pixel.
  public var rgb: [UInt8]

  public init(width: Int, height: Int, rgb: [UInt8]) {
    self.width = width
    self.height = height
    self.rgb = rgb
  }

  /// The largest image file read (512 MiB).
  public static let maxFileBytes = 1 << 29

  /// The most pixels an image may have (8192 x 8192), checked before anything is allocated.
  public static let maxPixels = 1 << 26

  /// Why an image is refused: one sentence after the file's name.
  public struct Failure: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
  }

  /// Decodes a PNG or binary PPM/PGM file's bytes.
  public static func decode(_ bytes: [UInt8]) throws(Failure) -> ResnetcImage {
    if bytes.count >= 8 && Array(bytes[0..<8]) == pngSignature { return try decodePNG(bytes) }
    if bytes.count >= 2 && bytes[0] == 0x50 && (bytes[1] == 0x36 || bytes[1] == 0x35) { return try decodePNM(bytes) }
    throw Failure("is not a PNG or binary PPM (P6) or PGM (P5) image")
  }

  static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  static func checkSize(_ width: Int, _ height: Int) throws(Failure) {
    guard width > 0, height > 0 else { throw Failure("is \(width)x\(height) pixels, an empty image") }
    guard width <= maxPixels, height <= maxPixels, width * height <= maxPixels else {
      throw Failure("is \(width)x\(height) pixels, more than the limit of \(maxPixels) pixels")
    }
  }

  // MARK: PNG

  static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  /// CRC-32 of `bytes[range]` (the PNG chunk's type and data).
  static func crc32(_ bytes: [UInt8], _ range: Range<Int>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for i in range { c = crcTable[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
  }

  static func be32(_ b: [UInt8], _ p: Int) -> UInt32 {
    UInt32(b[p]) << 24 | UInt32(b[p + 1]) << 16 | UInt32(b[p + 2]) << 8 | UInt32(b[p + 3])
  }

  /// Samples per pixel of a PNG colour type.
  static func channels(colourType: Int) -> Int {
    switch colourType {
    case 0, 3: 1
    case 4: 2
    case 2: 3
    default: 4
    }
  }

  static func decodePNG(_ b: [UInt8]) throws(Failure) -> ResnetcImage {
    var p = 8
    var width = 0, height = 0, depth = 0, colourType = 0, interlaced = false
    var palette: [UInt8] = []
    var compressed: [UInt8] = []
    var sawHeader = false, sawEnd = false
    while !sawEnd {
      guard p + 8 <= b.count else { throw Failure("ends after \(b.count) bytes, before its IEND chunk") }
      let length = Int(be32(b, p))
      let letters = b[(p + 4)..<(p + 8)]
      guard letters.allSatisfy({ ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }) else {
        throw Failure("has a chunk whose type is not four letters at byte \(p)")
      }
      let type = String(decoding: letters, as: UTF8.self)
      guard length <= b.count - p - 12 else {
        throw Failure("ends after \(b.count) bytes, inside its \(type) chunk of \(length) bytes at byte \(p)")
      }
      let data = p + 8
      let stored = be32(b, data + length), computed = crc32(b, (p + 4)..<(data + length))
      guard stored == computed else {
        throw Failure(
          "chunk \(type) at byte \(p) has the CRC \(ResnetcInflate.hex(stored)), but its data's is \(ResnetcInflate.hex(computed))"
        )
      }
      guard sawHeader || type == "IHDR" else { throw Failure("starts with a \(type) chunk, not IHDR") }
      switch type {
      case "IHDR":
        guard !sawHeader else { throw Failure("has a second IHDR chunk at byte \(p)") }
        guard length == 13 else { throw Failure("has an IHDR chunk of \(length) bytes, not 13") }
        sawHeader = true
        let w = be32(b, data), h = be32(b, data + 4)
        guard w <= UInt32(Int32.max), h <= UInt32(Int32.max) else {
          throw Failure("is \(w)x\(h) pixels, more than the limit of \(maxPixels) pixels")
        }
        (width, height, depth, colourType) = (Int(w), Int(h), Int(b[data + 8]), Int(b[data + 9]))
        try checkSize(width, height)
        let allowed: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
        guard let depths = allowed[colourType], depths.contains(depth) else {
          throw Failure("has colour type \(colourType) with bit depth \(depth), which PNG does not define")
        }
        guard depth != 16 else {
          throw Failure("is a 16-bit PNG; resnetc reads 8-bit ones (save it with 8 bits per channel)")
        }
        guard b[data + 10] == 0, b[data + 11] == 0 else { throw Failure("has an unknown compression or filter method") }
        guard b[data + 12] <= 1 else { throw Failure("has the unknown interlace method \(b[data + 12])") }
        interlaced = b[data + 12] == 1
      case "PLTE":
        guard length % 3 == 0, length > 0, length <= 768 else {
          throw Failure("has a PLTE chunk of \(length) bytes, not 3 to 768 in threes")
        }
        palette = Array(b[data..<(data + length)])
      case "IDAT":
        compressed += b[data..<(data + length)]
      case "IEND":
        sawEnd = true
      default:
        break
      }
      p = data + length + 4
    }
    guard colourType != 3 || !palette.isEmpty else { throw Failure("is a palette image without a PLTE chunk") }
    guard !compressed.isEmpty else { throw Failure("has no IDAT chunk") }

    let bitsPerPixel = channels(colourType: colourType) * depth
    let passes: [(x0: Int, y0: Int, dx: Int, dy: Int)] =
      interlaced
      ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
      : [(0, 0, 1, 1)]
    let sizes = passes.map { pass in
      (w: (width - pass.x0 + pass.dx - 1) / pass.dx, h: (height - pass.y0 + pass.dy - 1) / pass.dy)
    }
    let rowBytes = { (w: Int) in (w * bitsPerPixel + 7) / 8 }
    let expected = zip(passes, sizes).reduce(0) { total, item in
      item.1.w == 0 || item.1.h == 0 ? total : total + item.1.h * (1 + rowBytes(item.1.w))
    }
    let raw: [UInt8]
    do {
      raw = try ResnetcInflate.zlib(compressed, limit: expected)
    } catch {
      throw Failure("IDAT data \(error)")
    }
    guard raw.count == expected else {
      throw Failure("IDAT data holds \(raw.count) bytes, fewer than the \(expected) a \(width)x\(height) image needs")
    }
    var rgb = [UInt8](repeating: 0, count: width * height * 3)
    var offset = 0
    let bytesPerPixel = max(1, bitsPerPixel / 8)
    for (pass, size) in zip(passes, sizes) where size.w > 0 && size.h > 0 {
      let stride = rowBytes(size.w)
      var previous = [UInt8](repeating: 0, count: stride)
      var row = [UInt8](repeating: 0, count: stride)
      for y in 0..<size.h {
        let filter = raw[offset]
        for i in 0..<stride { row[i] = raw[offset + 1 + i] }
        offset += 1 + stride
        try unfilter(filter, &row, previous, bytesPerPixel)
        for x in 0..<size.w {
          let pixel = ((pass.y0 + y * pass.dy) * width + pass.x0 + x * pass.dx) * 3
          let (r, g, bl) = try colour(row, x, depth: depth, colourType: colourType, palette: palette)
          rgb[pixel] = r
          rgb[pixel + 1] = g
          rgb[pixel + 2] = bl
        }
        swap(&row, &previous)
      }
    }
    return ResnetcImage(width: width, height: height, rgb: rgb)
  }

  static func unfilter(_ filter: UInt8, _ row: inout [UInt8], _ up: [UInt8], _ bpp: Int) throws(Failure) {
    switch filter {
    case 0: break
    case 1: for i in bpp..<max(bpp, row.count) { row[i] &+= row[i - bpp] }
    case 2: for i in 0..<row.count { row[i] &+= up[i] }
    case 3:
      for i in 0..<row.count {
        let left = i >= bpp ? Int(row[i - bpp]) : 0
        row[i] &+= UInt8((left + Int(up[i])) / 2)
      }
    case 4:
      for i in 0..<row.count {
        let a = i >= bpp ? Int(row[i - bpp]) : 0, b = Int(up[i]), c = i >= bpp ? Int(up[i - bpp]) : 0
        let estimate = a + b - c
        let pa = abs(estimate - a), pb = abs(estimate - b), pc = abs(estimate - c)
        row[i] &+= UInt8(pa <= pb && pa <= pc ? a : pb <= pc ? b : c)
      }
    default:
      throw Failure("has a row with the unknown filter type \(filter)")
    }
  }

  /// The RGB of pixel `x` of an unfiltered row.
  static func colour(
    _ row: [UInt8], _ x: Int, depth: Int, colourType: Int, palette: [UInt8]
  ) throws(Failure) -> (UInt8, UInt8, UInt8) {
    if depth < 8 {
      let perByte = 8 / depth
      let byte = Int(row[x / perByte])
      let shift = 8 - depth * (x % perByte + 1)
      let value = (byte >> shift) & ((1 << depth) - 1)
      if colourType == 3 { return try paletteColour(value, palette) }
      let gray = UInt8(value * 255 / ((1 << depth) - 1))
      return (gray, gray, gray)
    }
    switch colourType {
    case 0: return (row[x], row[x], row[x])
    case 3: return try paletteColour(Int(row[x]), palette)
    case 4: return (row[2 * x], row[2 * x], row[2 * x])
    case 2: return (row[3 * x], row[3 * x + 1], row[3 * x + 2])
    default: return (row[4 * x], row[4 * x + 1], row[4 * x + 2])
    }
  }

  static func paletteColour(_ index: Int, _ palette: [UInt8]) throws(Failure) -> (UInt8, UInt8, UInt8) {
    guard 3 * index + 2 < palette.count else {
      throw Failure("has the palette index \(index), past the \(palette.count / 3) colours of its PLTE chunk")
    }
    return (palette[3 * index], palette[3 * index + 1], palette[3 * index + 2])
  }

  // MARK: PPM and PGM

  static func decodePNM(_ b: [UInt8]) throws(Failure) -> ResnetcImage {
    let gray = b[1] == 0x35
    var p = 2
    var fields: [Int] = []
    while fields.count < 3 {
      // Whitespace and comments, then one decimal field.
      while p < b.count && (b[p] == 0x20 || (b[p] >= 0x09 && b[p] <= 0x0D) || b[p] == 0x23) {
        if b[p] == 0x23 {
          while p < b.count && b[p] != 0x0A && b[p] != 0x0D { p += 1 }
        } else {
          p += 1
        }
      }
      guard p < b.count else { throw Failure("ends after \(b.count) bytes, inside its header") }
      guard b[p] >= 0x30 && b[p] <= 0x39 else {
        throw Failure("has a header field that is not a whole number at byte \(p)")
      }
      var value = 0
      while p < b.count && b[p] >= 0x30 && b[p] <= 0x39 {
        value = value * 10 + Int(b[p] - 0x30)
        guard value <= 1 << 30 else { throw Failure("has a header number too large at byte \(p)") }
        p += 1
      }
      fields.append(value)
    }
    guard p < b.count else { throw Failure("ends after \(b.count) bytes, inside its header") }
    guard b[p] == 0x20 || (b[p] >= 0x09 && b[p] <= 0x0D) else {
      throw Failure("has a header field that is not a whole number at byte \(p)")
    }
    p += 1
    let (width, height, maxval) = (fields[0], fields[1], fields[2])
    try checkSize(width, height)
    guard maxval >= 1 && maxval <= 255 else {
      throw Failure(
        maxval > 255
          ? "has maxval \(maxval), 16 bits a sample; resnetc reads 8-bit ones (maxval up to 255)"
          : "has maxval 0")
    }
    let samples = width * height * (gray ? 1 : 3)
    guard b.count - p >= samples else {
      throw Failure("holds \(b.count - p) bytes of pixels, fewer than the \(samples) a \(width)x\(height) image needs")
    }
    var rgb = [UInt8](repeating: 0, count: width * height * 3)
    for i in 0..<(width * height * 3) {
      let sample = Int(b[p + (gray ? i / 3 : i)])
      guard sample <= maxval else {
        throw Failure("has the sample \(sample) at byte \(p + (gray ? i / 3 : i)), more than its maxval \(maxval)")
      }
      rgb[i] = UInt8(maxval == 255 ? sample : (sample * 255 + maxval / 2) / maxval)
    }
    return ResnetcImage(width: width, height: height, rgb: rgb)
  }
}
