/// zlib (RFC 1950) streams of DEFLATE (RFC 1951) data, as PNG stores its pixels: the one
/// definition that `resnetc run` and every compiled Swift program use (copied verbatim into
/// each program); the C programs' `inflate_zlib` in `Runtime/Program/resnetc_image.c` follows
/// it step by step, with the same words.
///
/// Output is bounded: a stream that inflates past `limit` bytes (a decompression bomb, or an
/// image whose data does not fit its header) is refused as soon as it passes the limit.
public enum ResnetcInflate {
  /// Why a stream is refused.
  public enum Failure: Error, Equatable, CustomStringConvertible {
    case truncated
    case header(String)
    case data(String)
    case tooLarge(limit: Int)
    case checksum(stored: UInt32, computed: UInt32)

    public var description: String {
      switch self {
      case .truncated: "ends inside the compressed data"
      case .header(let why): "is not a zlib stream: \(why)"
      case .data(let why): "holds invalid compressed data: \(why)"
      case .tooLarge(let limit): "inflates past \(limit) bytes, more than the image holds"
      case .checksum(let stored, let computed):
        "has the Adler-32 checksum \(hex(stored)), but its data's is \(hex(computed))"
      }
    }
  }

  static func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
  }

  /// The bytes a zlib stream holds, at most `limit` of them.
  public static func zlib(_ data: [UInt8], limit: Int) throws(Failure) -> [UInt8] {
    guard data.count >= 2 else { throw .truncated }
    let cmf = data[0], flg = data[1]
    guard cmf & 0x0F == 8 else { throw .header("its method is \(cmf & 0x0F), not 8 (deflate)") }
    guard cmf >> 4 <= 7 else { throw .header("its window is 2^\(Int(cmf >> 4) + 8) bytes, more than 32768") }
    guard (Int(cmf) << 8 | Int(flg)) % 31 == 0 else { throw .header("its header check bits are wrong") }
    guard flg & 0x20 == 0 else { throw .header("it needs a preset dictionary") }
    var reader = BitReader(data: data, position: 2)
    var out: [UInt8] = []
    out.reserveCapacity(min(limit, 1 << 24))
    try inflate(&reader, into: &out, limit: limit)
    reader.alignToByte()
    let p = reader.position
    guard p + 4 <= data.count else { throw .truncated }
    let stored = UInt32(data[p]) << 24 | UInt32(data[p + 1]) << 16 | UInt32(data[p + 2]) << 8 | UInt32(data[p + 3])
    let computed = adler32(out)
    guard stored == computed else { throw .checksum(stored: stored, computed: computed) }
    return out
  }

  /// RFC 1950's checksum.
  public static func adler32(_ bytes: [UInt8]) -> UInt32 {
    var a: UInt32 = 1, b: UInt32 = 0
    var i = 0
    while i < bytes.count {
      let end = min(i + 5552, bytes.count)
      while i < end {
        a += UInt32(bytes[i])
        b += a
        i += 1
      }
      a %= 65521
      b %= 65521
    }
    return b << 16 | a
  }

  struct BitReader {
    let data: [UInt8]
    var position: Int
    var bitBuffer: UInt32 = 0
    var bitCount = 0

    init(data: [UInt8], position: Int) {
      self.data = data
      self.position = position
    }

    mutating func bits(_ count: Int) throws(Failure) -> Int {
      while bitCount < count {
        guard position < data.count else { throw .truncated }
        bitBuffer |= UInt32(data[position]) << UInt32(bitCount)
        position += 1
        bitCount += 8
      }
      let value = Int(bitBuffer & ((1 << UInt32(count)) - 1))
      bitBuffer = count == 32 ? 0 : bitBuffer >> UInt32(count)
      bitCount -= count
      return value
    }

    mutating func alignToByte() {
      bitBuffer = 0
      bitCount = 0
    }
  }

  /// A canonical Huffman code: how many codes of each length, and the symbols in code order.
  struct Huffman {
    var counts = [Int](repeating: 0, count: 16)
    var symbols: [Int] = []

    /// The code for `lengths` (0: the symbol is unused); throws for an over-subscribed set,
    /// and for an incomplete one unless it is a single code (which RFC 1951 allows).
    init(lengths: [Int]) throws(Failure) {
      for length in lengths { counts[length] += 1 }
      counts[0] = 0
      var left = 1
      for length in 1..<16 {
        left <<= 1
        left -= counts[length]
        guard left >= 0 else { throw .data("a Huffman code is over-subscribed") }
      }
      let used = lengths.count - lengths.filter { $0 == 0 }.count
      guard left == 0 || used <= 1 else { throw .data("a Huffman code is incomplete") }
      var offsets = [Int](repeating: 0, count: 16)
      for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
      symbols = [Int](repeating: 0, count: lengths.count)
      for (symbol, length) in lengths.enumerated() where length != 0 {
        symbols[offsets[length]] = symbol
        offsets[length] += 1
      }
    }

    func decode(_ reader: inout BitReader) throws(Failure) -> Int {
      var code = 0, first = 0, index = 0
      for length in 1..<16 {
        code |= try reader.bits(1)
        let count = counts[length]
        if code - count < first { return symbols[index + (code - first)] }
        index += count
        first += count
        first <<= 1
        code <<= 1
      }
      throw .data("a code is not in its Huffman table")
    }
  }

  static let lengthBase = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
  ]
  static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
  static let distanceBase = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
    8193, 12289, 16385, 24577,
  ]
  static let distanceExtra = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
  ]
  static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

  static func inflate(_ reader: inout BitReader, into out: inout [UInt8], limit: Int) throws(Failure) {
    var last = false
    while !last {
      last = try reader.bits(1) == 1
      switch try reader.bits(2) {
      case 0:
        reader.alignToByte()
        let p = reader.position
        guard p + 4 <= reader.data.count else { throw .truncated }
        let length = Int(reader.data[p]) | Int(reader.data[p + 1]) << 8
        let check = Int(reader.data[p + 2]) | Int(reader.data[p + 3]) << 8
        guard length == ~check & 0xFFFF else { throw .data("a stored block's length does not match its complement") }
        guard p + 4 + length <= reader.data.count else { throw .truncated }
        guard out.count + length <= limit else { throw .tooLarge(limit: limit) }
        out += reader.data[(p + 4)..<(p + 4 + length)]
        reader.position = p + 4 + length
      case 1:
        let lengths =
          [Int](repeating: 8, count: 144) + [Int](repeating: 9, count: 112)
          + [Int](repeating: 7, count: 24) + [Int](repeating: 8, count: 8)
        try codes(
          &reader, into: &out, limit: limit, literals: try Huffman(lengths: lengths),
          distances: try Huffman(lengths: [Int](repeating: 5, count: 32)))
      case 2:
        let literalCount = try reader.bits(5) + 257
        let distanceCount = try reader.bits(5) + 1
        let codeLengthCount = try reader.bits(4) + 4
        guard literalCount <= 286, distanceCount <= 30 else { throw .data("a block has too many codes") }
        var codeLengths = [Int](repeating: 0, count: 19)
        for i in 0..<codeLengthCount { codeLengths[codeLengthOrder[i]] = try reader.bits(3) }
        let lengthCode = try Huffman(lengths: codeLengths)
        var lengths: [Int] = []
        while lengths.count < literalCount + distanceCount {
          let symbol = try lengthCode.decode(&reader)
          switch symbol {
          case 0..<16: lengths.append(symbol)
          case 16:
            guard let previous = lengths.last else { throw .data("a length repeats before any length") }
            lengths += [Int](repeating: previous, count: 3 + (try reader.bits(2)))
          case 17: lengths += [Int](repeating: 0, count: 3 + (try reader.bits(3)))
          default: lengths += [Int](repeating: 0, count: 11 + (try reader.bits(7)))
          }
        }
        guard lengths.count == literalCount + distanceCount else { throw .data("code lengths run past their count") }
        guard lengths[256] != 0 else { throw .data("a block has no end-of-block code") }
        try codes(
          &reader, into: &out, limit: limit, literals: try Huffman(lengths: Array(lengths[..<literalCount])),
          distances: try Huffman(lengths: Array(lengths[literalCount...])))
      default:
        throw .data("a block has the reserved type 3")
      }
    }
  }

  static func codes(
    _ reader: inout BitReader, into out: inout [UInt8], limit: Int, literals: Huffman, distances: Huffman
  ) throws(Failure) {
    while true {
      let symbol = try literals.decode(&reader)
      if symbol < 256 {
        guard out.count < limit else { throw .tooLarge(limit: limit) }
        out.append(UInt8(symbol))
      } else if symbol == 256 {
        return
      } else {
        let index = symbol - 257
        guard index < 29 else { throw .data("a length code is out of range") }
        let length = lengthBase[index] + (try reader.bits(lengthExtra[index]))
        let code = try distances.decode(&reader)
        guard code < 30 else { throw .data("a distance code is out of range") }
        let distance = distanceBase[code] + (try reader.bits(distanceExtra[code]))
        guard distance <= out.count else { throw .data("a distance reaches before the start of the data") }
        guard out.count + length <= limit else { throw .tooLarge(limit: limit) }
        let start = out.count - distance
        for k in 0..<length { out.append(out[start + k]) }
      }
    }
  }
}
