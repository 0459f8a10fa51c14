import Foundation
import Testing

@testable import Driver

/// What one in-process run of the tool printed and returned.
struct ToolRun {
  var status: Int32
  var out: String
  var err: String
}

/// Collects a console's output across the closures `Console` requires to be Sendable.
final class Capture: @unchecked Sendable {
  private let lock = NSLock()
  private var text = ""

  func append(_ s: String) {
    lock.lock()
    text += s
    lock.unlock()
  }

  var value: String {
    lock.lock()
    defer { lock.unlock() }
    return text
  }
}

/// Runs `resnetc` with `arguments` in this process.
func resnetc(_ arguments: String...) -> ToolRun { resnetc(arguments) }

/// Runs `resnetc` with `arguments` in this process.
func resnetc(_ arguments: [String]) -> ToolRun {
  let out = Capture(), err = Capture()
  let status = Driver.run(arguments, console: Console(out: out.append, err: err.append))
  return ToolRun(status: status, out: out.value, err: err.value)
}

/// A fresh empty directory.
func temporaryDirectory() throws -> String {
  let path = NSTemporaryDirectory() + "resnetc-driver-" + UUID().uuidString
  try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
  return path
}

/// Expects a failure with `status` and a single line on stderr containing `message`.
func expectFailure(
  _ run: ToolRun, status: Int32, mentioning message: String, sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(run.status == status, sourceLocation: sourceLocation)
  #expect(run.err.contains(message), "stderr was: \(run.err)", sourceLocation: sourceLocation)
  #expect(!run.err.contains("Fatal error") && !run.err.contains("Stack dump"), sourceLocation: sourceLocation)
  #expect(run.out.isEmpty, sourceLocation: sourceLocation)
}
