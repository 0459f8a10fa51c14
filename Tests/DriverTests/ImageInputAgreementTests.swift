import Foundation
import GraphIR
import Testing

@testable import Driver
@testable import Formats

/// `--image` on `resnetc run` and on the C and Swift programs: the same input values (read
/// back through a model that doubles its input, exactly) for every fixture and both
/// preprocessings, and the same one-line message for every bad image.
@Suite(.serialized) struct ImageInputAgreementTests {
  /// `%y = add(%x, %x)` on f32[1,3,side,side]: its output is twice its input, exactly.
  static func doubling(side: Int, in dir: String) throws -> String {
    var builder = GraphBuilder(name: "double\(side)")
    let x = try builder.input("x", TensorType([1, 3, side, side]))
    let y = try builder.node("y", .add, [x, x])
    return try ModelFile.save(try builder.finish(outputs: [y]), base: "\(dir)/double\(side)").ir
  }

  /// Bad images made from a good one: each refusal the decoders have on the way in.
  static func badImages(_ good: [UInt8]) -> [(String, [UInt8])] {
    func withChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
      let body = Array(type.utf8) + data
      let crc = ResnetcImage.crc32(body, 0..<body.count)
      return [
        UInt8(data.count >> 24), UInt8(data.count >> 16 & 0xFF), UInt8(data.count >> 8 & 0xFF),
        UInt8(data.count & 0xFF),
      ]
        + body + [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
    }
    let signature = Array(good[0..<8])
    let ihdr = { (w: UInt32, h: UInt32, depth: UInt8, colour: UInt8, interlace: UInt8) -> [UInt8] in
      withChunk(
        "IHDR",
        [UInt8(w >> 24), UInt8(w >> 16 & 0xFF), UInt8(w >> 8 & 0xFF), UInt8(w & 0xFF)]
          + [
            UInt8(h >> 24), UInt8(h >> 16 & 0xFF), UInt8(h >> 8 & 0xFF), UInt8(h & 0xFF), depth, colour, 0, 0,
            interlace,
          ])
    }
    let end = withChunk("IEND", [])
    // A stored zlib block of `bytes`, Adler-32 after it.
    let stored = { (bytes: [UInt8]) -> [UInt8] in
      let n = bytes.count, adler = ResnetcInflate.adler32(bytes)
      return [0x78, 0x01, 0x01, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8(~n >> 8 & 0xFF)] + bytes
        + [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
    }
    var flippedCRC = good
    flippedCRC[40] ^= 0x01  // inside the first IDAT's data
    var cases: [(String, [UInt8])] = [
      ("empty", []), ("text", Array("hello, world\n".utf8)),
      ("truncated-chunk", Array(good.prefix(60))),
      ("truncated-before-end", Array(good.prefix(good.count - 12))), ("crc", flippedCRC),
      ("huge", signature + ihdr(100_000, 100_000, 8, 2, 0) + end),
      ("too-wide", signature + ihdr(0x8000_0000, 1, 8, 2, 0) + end),
      ("zero", signature + ihdr(0, 5, 8, 2, 0) + end),
      ("depth-3", signature + ihdr(4, 4, 3, 0, 0) + end), ("colour-5", signature + ihdr(4, 4, 8, 5, 0) + end),
      ("sixteen-bit", signature + ihdr(4, 4, 16, 2, 0) + end), ("interlace-2", signature + ihdr(4, 4, 8, 2, 2) + end),
      ("no-ihdr", signature + end), ("bad-type", signature + withChunk("I#DR", [1, 2]) + end),
      ("second-ihdr", signature + ihdr(1, 1, 8, 0, 0) + ihdr(1, 1, 8, 0, 0) + end),
      ("no-idat", signature + ihdr(1, 1, 8, 0, 0) + end),
      ("no-plte", signature + ihdr(1, 1, 8, 3, 0) + withChunk("IDAT", stored([0, 0])) + end),
      ("bad-plte", signature + ihdr(1, 1, 8, 3, 0) + withChunk("PLTE", [1, 2]) + end),
      (
        "index-past-palette",
        signature + ihdr(1, 1, 8, 3, 0) + withChunk("PLTE", [9, 9, 9]) + withChunk("IDAT", stored([0, 7])) + end
      ),
      ("filter-9", signature + ihdr(1, 1, 8, 0, 0) + withChunk("IDAT", stored([9, 0])) + end),
      ("short-data", signature + ihdr(2, 2, 8, 0, 0) + withChunk("IDAT", stored([0, 1, 2])) + end),
      ("long-data", signature + ihdr(1, 1, 8, 0, 0) + withChunk("IDAT", stored([0, 1, 2, 3])) + end),
      ("not-zlib", signature + ihdr(1, 1, 8, 0, 0) + withChunk("IDAT", [0x79, 0x01, 1, 2]) + end),
      ("zlib-check", signature + ihdr(1, 1, 8, 0, 0) + withChunk("IDAT", [0x78, 0x02, 1, 2]) + end),
      ("zlib-dictionary", signature + ihdr(1, 1, 8, 0, 0) + withChunk("IDAT", [0x78, 0xBB, 1, 2]) + end),
      ("block-type-3", signature + ihdr(1, 1, 8, 0, 0) + withChunk("IDAT", [0x78, 0x01, 0x07, 0, 0, 0, 0]) + end),
      (
        "stored-complement",
        signature + ihdr(1, 1, 8, 0, 0) + withChunk("IDAT", [0x78, 0x01, 0x01, 2, 0, 0, 0, 0, 0]) + end
      ),
      ("zlib-truncated", signature + ihdr(1, 1, 8, 0, 0) + withChunk("IDAT", [0x78, 0x01, 0x01, 2, 0]) + end),
      (
        "adler",
        signature + ihdr(1, 1, 8, 0, 0)
          + withChunk("IDAT", Array(stored([0, 5]).dropLast()) + [0xEE]) + end
      ),
      ("ppm-truncated-header", Array("P6\n4 4".utf8)), ("ppm-letter", Array("P6\n4 x\n255\n".utf8)),
      ("ppm-maxval-16bit", Array("P6 1 1 65535\n".utf8) + [0, 0, 0, 0, 0, 0]),
      ("ppm-maxval-0", Array("P5 1 1 0\n".utf8) + [0]), ("ppm-huge-number", Array("P6 99999999999 1 255\n".utf8)),
      ("ppm-short", Array("P6 2 2 255\n".utf8) + [1, 2, 3]),
      ("pgm-over-maxval", Array("P5 2 1 100\n".utf8) + [50, 200]),
      ("ppm-no-space", Array("P6 1 1 255x".utf8)), ("ppm-huge", Array("P6 100000 90000 255\n".utf8)),
    ]
    cases.append(
      (
        "dynamic-garbage",
        signature + ihdr(2, 2, 8, 0, 0) + withChunk("IDAT", [0x78, 0x01, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) + end
      ))
    return cases
  }

  @Test(arguments: ["c", "swift"])
  func programsAndRunReadTheSameImagesAndRefuseTheSameOnes(backend: String) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let model61 = try Self.doubling(side: 61, in: dir), model64 = try Self.doubling(side: 64, in: dir)
    // 61x45 fixtures do not fit a 61x61 input as they are; that refusal is checked below.
    for (model, side) in [(model61, 61), (model64, 64)] {
      let compile = resnetc("compile", model, "-o", "\(dir)/p\(side)", "--backend", backend)
      try #require(compile.status == 0, "compile failed: \(compile.err)")
    }
    let good =
      try FileManager.default.contentsOfDirectory(atPath: imageDirectory).filter {
        ($0.hasSuffix(".png") || $0.hasSuffix(".ppm") || $0.hasSuffix(".pgm")) && $0 != "bomb.png"
      }.sorted().map { imageDirectory + "/" + $0 } + ["examples/chelsea.png"]
    #expect(good.count >= 25)
    for path in good {
      let run = resnetc("run", model64, "--image", path, "--preprocess", "imagenet", "--output", dir + "/run.npy")
      let (status, _, errors) = try execute(
        "\(dir)/p64", ["--image", path, "--preprocess", "imagenet", "--output", dir + "/p.npy"])
      #expect(run.status == 0 && status == 0, "\(path): \(run.err) \(errors)")
      let fromRun = try npyFloats(dir + "/run.npy"), fromProgram = try npyFloats(dir + "/p.npy")
      #expect(fromRun.count == 3 * 64 * 64 && fromRun == fromProgram, "\(path)")
      // And they are the preprocessing's values, doubled.
      let image = try ResnetcImage.decode([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
      let values = try ResnetcPreprocess.input(image, mode: .imagenet, name: "x", shape: [1, 3, 64, 64])
      #expect(values.map { $0 + $0 } == fromRun, "\(path)")
    }
    // --preprocess none, and the message when the size does not fit.
    let square = imageDirectory + "/portrait.png"
    let none = try execute("\(dir)/p61", ["--image", imageDirectory + "/rgb.png", "--preprocess", "none"])
    let noneRun = resnetc("run", model61, "--image", imageDirectory + "/rgb.png", "--preprocess", "none")
    #expect(none.0 == 1 && noneRun.status == 1)
    #expect(
      NpyMessageAgreementTests.message(noneRun.err)
        == "\(imageDirectory)/rgb.png: is 61x45 pixels, but input 'x' is 61x61 and --preprocess none takes the image as it is (--preprocess imagenet resizes and crops)"
    )
    #expect(NpyMessageAgreementTests.message(none.2) == NpyMessageAgreementTests.message(noneRun.err))

    var messages: Set<String> = []
    var paths = Self.badImages(try fixtureBytes("rgb.png")).map { name, bytes -> String in
      let path = "\(dir)/\(name).img"
      try? Data(bytes).write(to: URL(fileURLWithPath: path))
      return path
    }
    paths += [imageDirectory + "/bomb.png", dir, dir + "/missing.png"]
    for path in paths {
      let run = resnetc("run", model64, "--image", path)
      let (status, out, errors) = try execute("\(dir)/p64", ["--image", path])
      #expect(run.status == 1 && status == 1 && out.isEmpty, "\(path): \(run.err) \(errors)")
      let message = NpyMessageAgreementTests.message(run.err)
      #expect(message == NpyMessageAgreementTests.message(errors), "\(path)")
      #expect(message.hasPrefix(path + ": ") && run.err.split(separator: "\n").count == 1, "\(run.err)")
      messages.insert(message.replacingOccurrences(of: path, with: "PATH"))
    }
    // Every bad image is refused for a reason of its own, bar the two that are not images.
    #expect(messages.count == paths.count - 1, "\(messages.sorted().joined(separator: "\n"))")
    #expect(messages.contains("PATH: IDAT data inflates past 272 bytes, more than the image holds"))
    #expect(messages.contains("PATH: is 100000x100000 pixels, more than the limit of 67108864 pixels"))

    // Options: the same words, status 2.
    for arguments in [
      ["--preprocess", "imagenet"], ["--image", square, "--preprocess", "bicubic"],
      ["--image", square, "--input-seed", "3"],
    ] {
      let run = resnetc(["run", model64] + arguments)
      let (status, _, errors) = try execute("\(dir)/p64", arguments)
      #expect(run.status == 2 && status == 2, "\(arguments)")
      #expect(
        NpyMessageAgreementTests.message(errors)
          == NpyMessageAgreementTests.message(run.err).components(separatedBy: "\n")[0],
        "\(arguments): \(errors) / \(run.err)")
    }
  }

  /// The example: a photo into resnet50 with ImageNet's names, by the interpreter and
  /// by the compiled program alike.
  @Test func resnet50NamesFiveClassesOfThePhoto() throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let arguments = ["--image", "examples/chelsea.png", "--labels", "examples/imagenet-classes.txt"]
    let run = resnetc(["run", "resnet50"] + arguments)
    #expect(run.status == 0, "\(run.err)")
    let lines = run.out.split(separator: "\n")
    #expect(lines.count == 7 && lines[1] == "  row 0 top-5:")
    let names = try String(contentsOfFile: "examples/imagenet-classes.txt", encoding: .utf8).split(separator: "\n")
    for line in lines[2...] {
      let index = try #require(Int(line.drop { $0 == " " }.prefix { $0 != " " }))
      #expect(line.hasSuffix(") " + names[index]), "\(line)")
    }
    #expect(resnetc("compile", "resnet50", "-o", dir + "/r50").status == 0)
    #expect(try execute(dir + "/r50", arguments).1 == run.out)
  }
}
