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

  /// The pipeline for `level`.
  public static func pipeline(_ level: OptimizationLevel) -> PassManager {
    switch level {
    case .o0: PassManager(passes: [])
    case .o1: PassManager(passes: Pipeline.default)
    }
  }

  /// The passes named in `names`, in that order; an unknown name is an error that lists the
  /// known ones.
  public static func named(_ names: [String]) throws(PassSelectionError) -> PassManager {
    var passes: [Pass] = []
    for name in names {
      guard let pass = Pipeline.all.first(where: { $0.name == name }) else {
        throw .unknownPass(name, known: Pipeline.all.map(\.name))
      }
      passes.append(pass)
    }
    return PassManager(passes: passes)
  }

  /// Verification after each pass is on in debug builds.
  public static var verifiesByDefault: Bool {
    #if DEBUG
      true
    #else
      false
    #endif
  }

  /// Runs every pass on `graph` and returns their reports. `after` is called with each
  /// pass's name and the graph it left.
  @discardableResult
  public func run(_ graph: inout Graph, after: (String, Graph) -> Void = { _, _ in }) throws -> [PassReport] {
    var reports: [PassReport] = []
    for pass in passes {
      var report = PassReport(pass: pass.name)
      try pass.run(&graph, &report)
      if verifyAfterEachPass {
        do {
          try Verifier.verify(graph)
        } catch {
          throw PassError.brokeGraph(pass: pass.name, error)
        }
      }
      reports.append(report)
      after(pass.name, graph)
    }
    return reports
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

/// A `--passes` list naming a pass that does not exist.
public enum PassSelectionError: Error, Equatable, CustomStringConvertible {
  /// No pass has this name.
  case unknownPass(String, known: [String])

  /// One line with the known names.
  public var description: String {
    switch self {
    case .unknownPass(let name, let known): "unknown pass '\(name)' (passes: \(known.joined(separator: ", ")))"
    }
  }
}
