import Foundation
import Testing

@testable import Formats

/// The fixtures of `scripts/make-image-fixtures.py`: images with the RGB bytes PIL decodes
/// from each, and the ImageNet transform's output computed by PIL and NumPy.
let imageDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Images").path

func fixtureBytes(_ name: String) throws -> [UInt8] {
  [UInt8](try Data(contentsOf: URL(fileURLWithPath: imageDirectory + "/" + name)))
}

/// The float32 data of a `.npy` fixture written by NumPy (header skipped).
func npyFloats(_ path: String) throws -> [Float] {
  let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
  let layout = try ResnetcNpy.layout(bytes)
  return stride(from: layout.dataStart, to: bytes.count, by: 4).map { p in
    Float(
      bitPattern: UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    )
  }
}

@Suite struct ImageDecodingTests {
  static let decoded: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: imageDirectory)) ?? []
    return names.filter { $0.hasSuffix(".rgb") }.map { String($0.dropLast(4)) }.sorted()
  }()

  /// Every colour type, bit depth and filter, interlaced or not, PIL's own PNGs, PPM and PGM:
  /// the same RGB bytes as PIL's `convert("RGB")`, exactly.
  @Test func everyFixtureDecodesToPILsPixels() throws {
    #expect(Self.decoded.count >= 25, "fixtures: \(Self.decoded)")
    for name in Self.decoded {
      let file = try FileManager.default.contentsOfDirectory(atPath: imageDirectory).first {
        $0.hasPrefix(name + ".") && !$0.hasSuffix(".rgb") && !$0.hasSuffix(".npy")
      }
      let path = try #require(file, "no image for \(name)")
      let image = try ResnetcImage.decode(try fixtureBytes(path))
      let expected = try fixtureBytes(name + ".rgb")
      #expect(image.width * image.height * 3 == expected.count, "\(name)")
      #expect(image.rgb == expected, "\(name): \(zip(image.rgb, expected).filter { $0 != $1 }.count) bytes differ")
    }
  }

  /// torchvision's ImageNet evaluation transform on the example photo (300x200, landscape)
  /// and on a portrait one cropped to 64 at an odd offset: equal to PIL and NumPy's floats
  /// exactly (PIL's 8-bit resampling is reproduced, the rest is the same float32 arithmetic).
  @Test func imagenetPreprocessingEqualsTorchvisionOnPIL() throws {
    let cases: [(String, String, Int)] = [
      ("../../../examples/chelsea.png", "chelsea.imagenet.npy", 224), ("portrait.png", "portrait.imagenet64.npy", 64),
    ]
    for (image, reference, crop) in cases {
      let decoded = try ResnetcImage.decode(try fixtureBytes(image))
      let values = try ResnetcPreprocess.input(decoded, mode: .imagenet, name: "input", shape: [1, 3, crop, crop])
      let expected = try npyFloats(imageDirectory + "/" + reference)
      #expect(values.count == expected.count)
      let worst = zip(values, expected).map { abs($0 - $1) }.max() ?? .infinity
      #expect(worst == 0, "\(image): max |difference| \(worst)")
    }
  }

  @Test func preprocessNoneTakesTheImageAsItIs() throws {
    let image = ResnetcImage(width: 2, height: 1, rgb: [0, 51, 255, 102, 153, 204])
    let values = try ResnetcPreprocess.input(image, mode: .none, name: "x", shape: [1, 3, 1, 2])
    #expect(values == [0, 0.4, 0.2, 0.6, 1, 0.8])
    #expect(throws: ResnetcImage.Failure.self) {
      try ResnetcPreprocess.input(image, mode: .none, name: "x", shape: [1, 3, 2, 2])
    }
    #expect(ResnetcPreprocess.defaultMode(shape: [1, 3, 224, 224]) == .imagenet)
    #expect(ResnetcPreprocess.defaultMode(shape: [1, 3, 32, 32]) == .none)
  }

  /// An inflater bug hides behind zlib's checksum only if the checksum is checked: a stream
  /// with one flipped Adler-32 bit is refused.
  @Test func adlerChecksumIsChecked() throws {
    // "abc" in a stored block.
    var stream: [UInt8] = [0x78, 0x01, 0x01, 0x03, 0x00, 0xFC, 0xFF, 0x61, 0x62, 0x63]
    let adler = ResnetcInflate.adler32([0x61, 0x62, 0x63])
    stream += [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
    #expect(try ResnetcInflate.zlib(stream, limit: 3) == [0x61, 0x62, 0x63])
    #expect(throws: ResnetcInflate.Failure.tooLarge(limit: 2)) { try ResnetcInflate.zlib(stream, limit: 2) }
    stream[stream.count - 1] ^= 1
    #expect(throws: ResnetcInflate.Failure.checksum(stored: adler ^ 1, computed: adler)) {
      try ResnetcInflate.zlib(stream, limit: 3)
    }
  }
}
