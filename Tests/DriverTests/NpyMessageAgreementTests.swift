import Foundation
import Testing

@testable import Driver

/// The compiled programs read `.npy` inputs with the format's one definition (`ResnetcNpy`,
/// which the Swift programs hold verbatim and the C programs' `read_npy` follows), and
/// `resnetc run` with `Npy`, built on the same definition. For every bad file of the corpus, for
/// every way a file can be refused (generated below), for a directory and a missing file, all
/// three give the same message after their own name; a valid file with odd spacing is taken by
/// all three.
@Suite(.serialized) struct NpyMessageAgreementTests {
  /// `stderr` without its leading `NAME: error: `.
  static func message(_ err: String) -> String {
    guard let range = err.range(of: ": error: ") else { return err }
    return String(err[range.upperBound...]).trimmingCharacters(in: .newlines)
  }

  /// resnet20's input, f32[1,3,32,32], as zeros.
  static let data = [UInt8](repeating: 0, count: 1 * 3 * 32 * 32 * 4)

  /// A version 1.0 file with `dict` as its header, followed by `data`.
  static func file(_ dict: String, data: [UInt8] = data) -> [UInt8] {
    let header = Array(dict.utf8)
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xff), UInt8(header.count >> 8)] + header + data
  }

  static let shape = "'shape': (1, 3, 32, 32)"
  static let good = "{'descr': '<f4', 'fortran_order': False, \(shape), }"

  /// Each generated bad file: a name and its bytes; every refusal of `ResnetcNpy.layout` and of
  /// the programs' reading is among them.
  static let generated: [(String, [UInt8])] = [
    ("empty", []),
    ("short", Array(file(good).prefix(5))),
    (
      "version-9",
      {
        var f = file(good); f[6] = 9; return f
      }()
    ),
    ("version-2-short", [0x93] + Array("NUMPY".utf8) + [2, 0, 0, 0]),
    (
      "header-over-limit",
      [0x93] + Array("NUMPY".utf8) + [2, 0, 0x70, 0x11, 0x01, 0] + [UInt8](repeating: 0x20, count: 64)
    ),
    ("header-past-end", [0x93] + Array("NUMPY".utf8) + [1, 0, 200, 0] + Array("{'descr'".utf8)),
    ("not-ascii", file("{'descr': '<f4\u{e9}', 'fortran_order': False, \(shape)}")),
    ("not-a-dict", file("not a dict")),
    ("integer-key", file("{1: 2}")),
    ("no-colon", file("{'descr' '<f4'}")),
    ("no-comma", file("{'descr': '<f4' 'fortran_order': False}")),
    ("duplicate-key", file("{'descr': '<f4', 'descr': '<f4'}")),
    ("text-after", file(good + " x")),
    ("no-descr", file("{'fortran_order': False, \(shape)}")),
    ("descr-not-string", file("{'descr': True, 'fortran_order': False, \(shape)}")),
    ("no-fortran", file("{'descr': '<f4', \(shape)}")),
    ("no-shape", file("{'descr': '<f4', 'fortran_order': False}")),
    ("shape-not-tuple", file("{'descr': '<f4', 'fortran_order': False, 'shape': '1'}")),
    ("extra-key", file("{'descr': '<f4', 'fortran_order': False, \(shape), 'x': 'y'}")),
    ("bad-word", file("{'descr': '<f4', 'fortran_order': Fals, \(shape)}")),
    ("unterminated", file("{'descr': '<f4")),
    ("unexpected-end", file("{'descr':")),
    ("bad-character", file("{'descr': [1]}")),
    ("bad-integer", file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, x)}")),
    ("minus-alone", file("{'descr': '<f4', 'fortran_order': False, 'shape': (-,)}")),
    ("integer-overflow", file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 99999999999999999999)}")),
    ("negative-dim", file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, -3, 32, 32)}")),
    ("zero-dim", file("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3)}")),
    ("rank-9", file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1)}")),
    ("too-many-elements", file("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576, 1048576, 2)}")),
    ("long-dtype", file("{'descr': 'float32, really', 'fortran_order': False, \(shape)}")),
    ("scalar", file("{'descr': '<f4', 'fortran_order': False, 'shape': ()}", data: [0, 0, 0, 0])),
    ("truncated-wrong-shape", file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 8, 8)}", data: [0])),
    ("truncated-header-data", file(good, data: Array(data.prefix(7)))),
    ("trailing", file(good, data: data + [0])),
    ("oversized", file(good, data: data + [UInt8](repeating: 0, count: 70_000))),
  ]

  @Test(arguments: ["c", "swift"])
  func programsAndRunGiveTheSameMessage(backend: String) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let program = dir + "/r20"
    let compile = resnetc("compile", "resnet20", "-o", program, "--backend", backend)
    try #require(compile.status == 0, "compile failed: \(compile.err)")
    var paths = try FileManager.default.contentsOfDirectory(atPath: malformedDirectory)
      .filter { $0.hasSuffix(".npy") }.sorted().map { malformedDirectory + "/" + $0 }
    #expect(paths.count >= 7)
    for (name, bytes) in Self.generated {
      try Data(bytes).write(to: URL(fileURLWithPath: "\(dir)/\(name).npy"))
      paths.append("\(dir)/\(name).npy")
    }
    try FileManager.default.createDirectory(atPath: dir + "/folder.npy", withIntermediateDirectories: false)
    paths += [dir + "/folder.npy", dir + "/missing.npy"]
    var messages: [String: [String]] = [:]
    for path in paths {
      let run = resnetc("run", "resnet20", "--input", path)
      let (status, _, errors) = try execute(program, ["--input", path])
      #expect(run.status == 1 && status == 1, "\(path)")
      #expect(Self.message(errors) == Self.message(run.err), "\(path)")
      #expect(run.err.split(separator: "\n").count == 1, "\(path): \(run.err)")
      messages[Self.message(run.err).replacingOccurrences(of: path, with: "PATH"), default: []].append(path)
    }
    // Every case is refused for a reason of its own, bar two: a descr or shape of the wrong
    // kind reads as a missing one.
    #expect(messages.count == paths.count - 2, "\(messages.values.filter { $0.count > 1 })")

    // The files people meet most, each refused in these words by all three.
    let big = dir + "/big.npy", f64 = dir + "/f64.npy"
    try Data(
      Self.file(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }",
        data: [UInt8](
          repeating: 0, count: 3 * 224 * 224 * 4))
    ).write(to: URL(fileURLWithPath: big))
    try Data(Self.file("{'descr': '<f8', 'fortran_order': False, \(Self.shape), }", data: Self.data + Self.data)).write(
      to: URL(fileURLWithPath: f64))
    let expected: [([String], String)] = [
      (["--input", big], "\(big): holds f32[1,3,224,224] but input 'input' is f32[1,3,32,32]"),
      (["--input", dir], "\(dir): is a directory"),
      (["--input", f64], "\(f64): holds float64 ('<f8'), not float32 ('<f4'); save the array as float32"),
      (["--output", dir + "/none/y.npy"], "\(dir)/none/y.npy: no such directory \(dir)/none"),
      (["--output", dir], "\(dir): is a directory"),
      (["--output", big + "/y.npy"], "\(big)/y.npy: \(big) is not a directory"),
    ]
    for (arguments, want) in expected {
      let run = resnetc(["run", "resnet20"] + arguments)
      let (status, _, errors) = try execute(program, arguments)
      #expect(run.status == 1 && status == 1, "\(arguments)")
      #expect(Self.message(run.err) == want && Self.message(errors) == want, "\(run.err) \(errors)")
    }

    let spaced = dir + "/spaced.npy"
    try Data(Self.file("{\"descr\":\t'<f4' ,\n 'fortran_order' : False,'shape':(1,3,32,32 ) }  \n")).write(
      to: URL(fileURLWithPath: spaced))
    let run = resnetc("run", "resnet20", "--input", spaced)
    let (status, out, errors) = try execute(program, ["--input", spaced])
    #expect(run.status == 0 && status == 0, "\(run.err) \(errors)")
    #expect(out.split(separator: "\n").first == run.out.split(separator: "\n").first)
  }
}
