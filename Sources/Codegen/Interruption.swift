import Foundation

/// The temporary folders and compiler processes a command holds while it runs, so that a run
/// stopped by SIGINT, SIGTERM or SIGHUP leaves nothing behind: once `installHandlers()` has
/// run, such a signal kills the compilers, removes the folders and then ends the process as
/// the signal would have. Finished files are moved into place whole, so an output either
/// appears complete or not at all.
public enum Interruption {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var folders: Set<String> = []
  nonisolated(unsafe) private static var children: Set<Int32> = []
  nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []
  nonisolated(unsafe) private static var interrupted = false

  /// Marks `folder` as one to remove if the process is interrupted.
  public static func hold(folder: String) { locked { folders.insert(folder) } }

  /// Removes `folder` and forgets it.
  public static func remove(folder: String) {
    try? FileManager.default.removeItem(atPath: folder)
    locked { _ = folders.remove(folder) }
  }

  /// Marks the running process `pid` as one to kill if this process is interrupted.
  static func hold(child pid: Int32) { locked { children.insert(pid) } }

  /// Forgets the process `pid`, which has ended.
  static func release(child pid: Int32) { locked { _ = children.remove(pid) } }

  /// Routes SIGINT, SIGTERM and SIGHUP to the clean-up; for the command-line tool, once.
  public static func installHandlers() {
    locked {
      guard sources.isEmpty else { return }
      for number in [SIGINT, SIGTERM, SIGHUP] {
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler {
          cleanUp()
          end(by: number)
        }
        source.resume()
        sources.append(source)
      }
    }
  }

  /// Ends the process as `number` would have, from a thread of the handler: the signal's
  /// default action is restored and it is unblocked on this thread (a process may inherit it
  /// blocked) and raised here.
  private static func end(by number: Int32) -> Never {
    for source in locked({ sources }) { source.cancel() }
    signal(number, SIG_DFL)
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, number)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    raise(number)
    // Not reached: the default action of each handled signal ends the process.
    exit(128 + number)
  }

  /// Stops the compilers (SIGTERM, so that they remove their own temporaries) and removes
  /// the folders held now.
  static func cleanUp() {
    let (pids, paths) = locked {
      interrupted = true
      return (children, folders)
    }
    // The compiler's own children first (clang runs its front end as one): orphaned, they
    // would run on.
    for pid in pids {
      for descendant in descendants(of: pid) { kill(descendant, SIGTERM) }
      kill(pid, SIGTERM)
    }
    for path in paths { removeWhileChildrenStop(path) }
  }

  /// Removes `path`, again while it keeps coming back non-empty (a compiler sent SIGTERM may
  /// still create a file in it before it ends, and a removal that meets a new file leaves the
  /// folder), for up to two seconds.
  static func removeWhileChildrenStop(_ path: String) {
    for _ in 0..<40 {
      try? FileManager.default.removeItem(atPath: path)
      guard FileManager.default.fileExists(atPath: path) else { return }
      usleep(50_000)
    }
  }

  /// The processes below `root`, from the parents `/proc/PID/stat` names (none where there is
  /// no `/proc`).
  static func descendants(of root: Int32) -> [Int32] {
    var parents: [Int32: [Int32]] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
      guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { continue }
      // After "PID (NAME) STATE" comes the parent's PID.
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      if fields.count > 1, let parent = Int32(fields[1]) { parents[parent, default: []].append(pid) }
    }
    var found: [Int32] = []
    var queue = parents[root] ?? []
    while let next = queue.popLast() {
      found.append(next)
      queue += parents[next] ?? []
    }
    return found
  }

  /// Blocks for good once a signal has begun the clean-up: a compiler that ended because it
  /// was stopped is no failure to report, and the handler ends the process as the signal
  /// would.
  static func waitIfInterrupted() {
    guard locked({ interrupted }) else { return }
    while true { pause() }
  }

  private static func locked<T>(_ body: () -> T) -> T {
    lock.lock()
    defer { lock.unlock() }
    return body()
  }
}
