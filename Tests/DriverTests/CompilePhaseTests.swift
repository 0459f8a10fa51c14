import Foundation
import Testing

@testable import Driver

/// Runs `resnetc` as if its stderr were a terminal.
private func resnetcOnTerminal(_ arguments: String...) -> ToolRun {
  let out = Capture(), err = Capture()
  let status = Driver.run(arguments, console: Console(out: out.append, err: err.append, isTerminal: true))
  return ToolRun(status: status, out: out.value, err: err.value)
}

@Suite struct CompilePhaseTests {
  private static let phases = ["import", "passes", "lowering", "writing", "C compiler", "total"]

  /// The seconds each phase line reports, in the order printed.
  private func phaseLines(_ err: String) -> [(String, Double)] {
    err.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).compactMap { line in
      let text = line.replacingOccurrences(of: "\u{1B}[K", with: "")
      guard text.hasPrefix("  "), text.hasSuffix(" s") else { return nil }
      let name = text.dropFirst(2).prefix(12).trimmingCharacters(in: .whitespaces)
      guard let seconds = Double(text.dropFirst(14).dropLast(2).trimmingCharacters(in: .whitespaces)) else {
        return nil
      }
      return (name, seconds)
    }
  }

  @Test func compileReportsEachPhaseWithItsTime() throws {
    let dir = try temporaryDirectory()
    let plain = resnetc("compile", "resnet20", "-o", dir + "/r20")
    #expect(plain.status == 0, "\(plain.err)")
    let lines = phaseLines(plain.err)
    #expect(lines.map(\.0) == Self.phases, "\(plain.err)")
    #expect(lines.allSatisfy { $0.1 >= 0 })
    #expect(abs(lines.dropLast().map(\.1).reduce(0, +) - lines.last!.1) < 0.05 + 0.01 * lines.last!.1)
    #expect(!plain.err.contains("\u{1B}") && !plain.err.contains("\r"), "no bar off a terminal")

    let sources = resnetc("compile", "resnet20", "-o", dir + "/src", "--emit", "c")
    #expect(phaseLines(sources.err).map(\.0) == ["import", "passes", "lowering", "writing", "total"])
  }

  @Test func aTerminalGetsABarThatEndsClean() throws {
    let dir = try temporaryDirectory()
    let run = resnetcOnTerminal("compile", "resnet20", "-o", dir + "/r20")
    #expect(run.status == 0, "\(run.err)")
    #expect(run.err.contains("\r\u{1B}[K[------------------------] 1/5 import "), "\(run.err)")
    #expect(run.err.contains("] 5/5 C compiler "), "\(run.err)")
    #expect(phaseLines(run.err).map(\.0) == Self.phases)
    // Each finished phase overwrites the bar; the report ends with whole lines.
    #expect(run.err.contains("\r\u{1B}[K  C compiler "))
    #expect(run.err.hasSuffix(" s\n"))

    // A failed compile clears the bar before the error.
    let failed = resnetcOnTerminal("compile", dir + "/missing.gir", "-o", dir + "/bad")
    #expect(failed.status == 1)
    #expect(failed.err.contains("\r\u{1B}[Kresnetc compile: error: "), "\(failed.err)")
  }
}
