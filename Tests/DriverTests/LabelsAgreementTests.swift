import Foundation
import Testing

@testable import Driver

/// `--labels FILE` on `resnetc run` and on the C and Swift programs: the same top-5 lines
/// with the same names, and the same message for every file that is refused.
@Suite struct LabelsAgreementTests {
  /// Ten names, one per class of resnet20, written in the ways files come: `\r\n`, no final
  /// newline, non-ASCII.
  static let names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck ü"]

  @Test(arguments: ["c", "swift"])
  func programsAndRunPrintTheSameNamedClasses(backend: String) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let program = dir + "/r20"
    let compile = resnetc("compile", "resnet20", "-o", program, "--backend", backend)
    try #require(compile.status == 0, "compile failed: \(compile.err)")

    let files: [(String, String)] = [
      ("unix", Self.names.joined(separator: "\n") + "\n"),
      ("windows", Self.names.joined(separator: "\r\n") + "\r\n"),
      ("unterminated", Self.names.joined(separator: "\n")),
    ]
    for (name, text) in files {
      let path = "\(dir)/\(name).txt"
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      for seed in ["0", "3"] {
        let run = resnetc("run", "resnet20", "--labels", path, "--input-seed", seed)
        let (status, out, errors) = try execute(program, ["--labels", path, "--input-seed", seed])
        #expect(run.status == 0 && status == 0, "\(run.err) \(errors)")
        #expect(out == run.out, "\(name): program\n\(out)resnetc run\n\(run.out)")
        let lines = run.out.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 8 && lines[1] == "  row 0 top-5:", "\(run.out)")
        // Each named line is the unnamed line's class and value with the class's name.
        let plain = resnetc("run", "resnet20", "--input-seed", seed).out
        let unnamed = plain.split(separator: "\n")[1].dropFirst("  row 0 top-5: ".count).components(separatedBy: ", ")
        for (line, entry) in zip(lines[2...6], unnamed) {
          let index = try #require(Int(entry.prefix { $0 != " " }))
          #expect(line == "    \(entry) \(Self.names[index])")
        }
      }
    }
  }

  @Test(arguments: ["c", "swift"])
  func programsAndRunRefuseTheSameFilesInTheSameWords(backend: String) throws {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let program = dir + "/r20"
    try #require(resnetc("compile", "resnet20", "-o", program, "--backend", backend).status == 0)
    let write = { (name: String, bytes: [UInt8]) throws -> String in
      let path = "\(dir)/\(name)"
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      return path
    }
    let text = { (lines: [String]) in Array(lines.joined(separator: "\n").utf8) + [0x0A] }
    let nine = try write("nine.txt", text(Array(Self.names.prefix(9))))
    let eleven = try write("eleven.txt", text(Self.names + ["extra"]))
    let empty = try write("empty.txt", [])
    let nul = try write(
      "nul.txt", text(Array(Self.names.prefix(3))) + [0x61, 0x00, 0x62, 0x0A] + text(Array(Self.names.prefix(6))))
    let latin1 = try write(
      "latin1.txt",
      text(Array(Self.names.prefix(4))) + [0x63, 0x61, 0x66, 0xE9, 0x0A] + text(Array(Self.names.prefix(5))))
    let overlong = try write("overlong.txt", [0xC0, 0xAF, 0x0A] + text(Array(Self.names.prefix(9))))
    let big = try write("big.txt", [UInt8](repeating: 0x61, count: (16 << 20) + 1))
    let expected: [(String, String)] = [
      (nine, "\(nine): holds 9 names but output 'softmax' has 10 classes"),
      (eleven, "\(eleven): holds 11 names but output 'softmax' has 10 classes"),
      (empty, "\(empty): holds 0 names but output 'softmax' has 10 classes"),
      (nul, "\(nul): line 4 holds a NUL byte"),
      (latin1, "\(latin1): line 5 is not UTF-8 text"),
      (overlong, "\(overlong): line 1 is not UTF-8 text"),
      (big, "\(big): is 16777217 bytes, more than a labels file's limit of 16777216"),
      (dir, "\(dir): is a directory"),
      (dir + "/missing.txt", "\(dir)/missing.txt: no such file"),
    ]
    for (path, want) in expected {
      let run = resnetc("run", "resnet20", "--labels", path)
      let (status, out, errors) = try execute(program, ["--labels", path])
      #expect(run.status == 1 && status == 1, "\(path)")
      #expect(out.isEmpty && run.out.isEmpty, "\(path)")
      #expect(
        NpyMessageAgreementTests.message(run.err) == want && NpyMessageAgreementTests.message(errors) == want,
        "\(run.err) \(errors)")
    }
  }

  @Test func aModelWithoutClassesRefusesLabels() throws {
    let dir = try temporaryDirectory()
    let path = dir + "/names.txt"
    try "a\nb\n".write(toFile: path, atomically: true, encoding: .utf8)
    #expect(throws: DriverError.self) {
      try readLabels(path, outputs: [(name: "features", shape: [1, 2, 3, 3])])
    }
    do {
      _ = try readLabels(path, outputs: [(name: "features", shape: [1, 2, 3, 3])])
    } catch {
      #expect(
        "\(error)" == "\(path): names the classes of a [rows, classes] output, but output 'features' is f32[1,2,3,3]")
    }
    // A model with several outputs: every [rows, classes] one must fit; others are ignored.
    #expect(try readLabels(path, outputs: [("map", [1, 2, 4, 4]), ("p", [3, 2])]) == ["a", "b"])
    #expect(throws: DriverError.self) { try readLabels(path, outputs: [("p", [3, 2]), ("q", [1, 3])]) }
  }

  @Test func imagenetClassesFitTheImageNetModels() throws {
    let names = try readLabels(
      "examples/imagenet-classes.txt", outputs: [(name: "softmax", shape: [1, 1000])])
    #expect(names.count == 1000 && names[0] == "tench" && names[281] == "tabby" && names[999] == "toilet tissue")
  }
}
