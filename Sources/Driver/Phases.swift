import Dispatch
import Foundation

/// Times the phases of a compile (import, passes, lowering, writing, the compiler) and says
/// on stderr how long each took: `  lowering      0.84 s`, then the total. On a terminal it
/// also keeps a bar under the finished lines, redrawn four times a second while a phase
/// runs: the phases done out of all of them, the running one and its seconds so far.
final class Phases: @unchecked Sendable {
  private let console: Console
  private let expected: Int
  private let lock = NSLock()
  private var done = 0
  private var current: (name: String, start: Double)?
  private let started = Phases.now()
  private var timer: DispatchSourceTimer?

  /// A reporter for `expected` phases; the bar is drawn when the console is a terminal.
  init(console: Console, expected: Int) {
    self.console = console
    self.expected = max(expected, 1)
    if console.isTerminal {
      let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
      timer.schedule(deadline: .now() + 0.25, repeating: 0.25)
      timer.setEventHandler { [weak self] in self?.redraw() }
      timer.resume()
      self.timer = timer
    }
  }

  deinit { timer?.cancel() }

  /// Ends the running phase, reporting its time, and starts `name`.
  func begin(_ name: String) {
    lock.lock()
    defer { lock.unlock() }
    finishCurrent()
    current = (name, Phases.now())
    drawBar()
  }

  /// Ends the last phase and reports the total.
  func end() {
    lock.lock()
    defer { lock.unlock() }
    timer?.cancel()
    timer = nil
    finishCurrent()
    console.err(line("total", Phases.now() - started))
  }

  /// Prints `text` (one line) above the bar.
  func note(_ text: String) {
    lock.lock()
    defer { lock.unlock() }
    console.err((console.isTerminal && current != nil ? "\r\u{1B}[K" : "") + text + "\n")
    drawBar()
  }

  /// Stops the bar and clears its line without reporting the running phase, for a command
  /// that failed; nothing after `end()`.
  func stop() {
    lock.lock()
    defer { lock.unlock() }
    timer?.cancel()
    timer = nil
    if current != nil && console.isTerminal { console.err("\r\u{1B}[K") }
    current = nil
  }

  private func finishCurrent() {
    guard let (name, start) = current else { return }
    current = nil
    done += 1
    console.err((console.isTerminal ? "\r\u{1B}[K" : "") + line(name, Phases.now() - start))
  }

  private func redraw() {
    lock.lock()
    defer { lock.unlock() }
    drawBar()
  }

  /// `[########------------] 2/5 lowering 1.4 s`, over the line it last drew.
  private func drawBar() {
    guard console.isTerminal, let (name, start) = current else { return }
    let width = 24
    let filled = min(width, done * width / expected)
    let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
    console.err("\r\u{1B}[K[\(bar)] \(done + 1)/\(expected) \(name) " + String(format: "%.1f s", Phases.now() - start))
  }

  private func line(_ name: String, _ seconds: Double) -> String {
    "  " + name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: "%7.2f s\n", seconds)
  }

  private static func now() -> Double { Date().timeIntervalSinceReferenceDate }
}
