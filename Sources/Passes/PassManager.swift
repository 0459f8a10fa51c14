import GraphIR

/// How much the default pipeline does.
public enum OptimizationLevel: String, Sendable, CaseIterable {
  /// No passes: the graph as imported or built.
  case o0 = "O0"
  /// The default pipeline.
  case o1 = "O1"
}

/// Runs passes in order, verifying the graph after each when asked.
public struct PassManager: Sendable {
  /// The passes, in order.
  public var passes: [Pass]
  /// Whether to run the verifier after every pass (tests and debug builds do).
  public var verifyAfterEachPass: Bool

  /// A manager for `passes`.
  public init(passes: [Pass], verifyAfterEachPass: Bool = PassManager.verifiesByDefault) {
    self.passes = passes
    self.verifyAfterEachPass = verifyAfterEachPass
  }

  /// The pipeline for `level`. The family's fusion passes land here; until then both levels
  /// run nothing.
  public static func pipeline(_ level: OptimizationLevel) -> PassManager {
    switch level {
    case .o0: PassManager(passes: [])
    case .o1: PassManager(passes: [])
    }
  }

  /// Verification after each pass is on in debug builds.
  public static var verifiesByDefault: Bool {
    #if DEBUG
      true
    #else
      false
    #endif
  }

  /// Runs every pass on `graph`; returns the names of the passes that changed it.
  @discardableResult
  public func run(_ graph: inout Graph) throws -> [String] {
    var changed: [String] = []
    for pass in passes {
      if try pass.run(&graph) { changed.append(pass.name) }
      if verifyAfterEachPass {
        do {
          try Verifier.verify(graph)
        } catch {
          throw PassError.brokeGraph(pass: pass.name, error)
        }
      }
    }
    return changed
  }
}

/// A pass that left the graph malformed: a bug in the pass, reported with its name.
public enum PassError: Error, Equatable, CustomStringConvertible {
  /// The verifier failed after `pass`.
  case brokeGraph(pass: String, GraphError)

  /// One line naming the pass and the problem.
  public var description: String {
    switch self {
    case .brokeGraph(let pass, let error): "internal error: pass '\(pass)' produced an invalid graph: \(error)"
    }
  }
}
