import Codegen
import DiffTest
import Foundation
import GraphIR

/// `resnetc-difftest`: generated graphs through every path of the compiler, against the
/// reference interpreter. scripts/difftest.sh runs it from a release build.
let usage = """
  usage: resnetc-difftest [--graphs N] [--seed S] [--compiled M] [--batch B] [--backends c,swift]
                          [--targets generic,avx2,avx512] [--orders K] [--save DIR] [--minimize]
         resnetc-difftest --print SEED [--save DIR]

  Makes N graphs (seeds S, S+1, ...) and runs each through the interpreter paths: the textual
  IR and safetensors round trip, -O1, K random pass lists (default 2) and ONNX export and
  import. The first M of them (default: N) are also compiled, B graphs to a library (default
  40), by each backend for each target (default: c and swift; every target this CPU runs).
  --print writes graph SEED to DIR/SEED.gir + .safetensors and prints its textual IR.
  Every path must agree with the interpreter at -O0 within 1e-5 of each output's largest
  magnitude (1e-4 where Winograd runs). Failing graphs are written to DIR (default
  difftest-failures) as SEED.gir + SEED.safetensors; with --minimize, those that fail an
  interpreter path are also shrunk while they keep failing one, to SEED.min.gir (a regression
  case to keep). Prints one line per failure, progress on
  stderr, and ends with 'N passed, F failed' (graphs); exit status 1 when any failed.
  """

struct Options {
  var graphs = 1000
  var seed: UInt64 = 1
  var compiled: Int?
  var batch = 40
  var backends: [Backend] = [.c, .swift]
  var targets: [Target]?
  var orders = 2
  var save = "difftest-failures"
  var minimize = false
  var print: UInt64?
}

func parse(_ arguments: [String]) -> Options? {
  var options = Options()
  var rest = arguments[...]
  while let flag = rest.popFirst() {
    if flag == "-h" || flag == "--help" { return nil }
    if flag == "--minimize" {
      options.minimize = true
      continue
    }
    guard let value = rest.popFirst() else {
      FileHandle.standardError.write(Data("resnetc-difftest: \(flag) needs a value\n".utf8))
      exit(2)
    }
    func number() -> Int {
      guard let n = Int(value), n >= 0 else {
        FileHandle.standardError.write(Data("resnetc-difftest: \(flag) takes a number, not '\(value)'\n".utf8))
        exit(2)
      }
      return n
    }
    switch flag {
    case "--graphs": options.graphs = number()
    case "--seed": options.seed = UInt64(number())
    case "--compiled": options.compiled = number()
    case "--batch": options.batch = max(1, number())
    case "--orders": options.orders = number()
    case "--save": options.save = value
    case "--print": options.print = UInt64(number())
    case "--backends", "--targets":
      let words = value.split(separator: ",").map(String.init)
      if flag == "--backends" {
        options.backends = words.compactMap(Backend.init(rawValue:))
      } else {
        options.targets = words.compactMap(Target.init(rawValue:))
      }
      guard (flag == "--backends" ? options.backends.count : options.targets?.count ?? 0) == words.count else {
        FileHandle.standardError.write(Data("resnetc-difftest: unknown name in \(flag) \(value)\n".utf8))
        exit(2)
      }
    default:
      FileHandle.standardError.write(Data("resnetc-difftest: unknown option \(flag)\n\(usage)\n".utf8))
      exit(2)
    }
  }
  return options
}

guard let options = parse(Array(CommandLine.arguments.dropFirst())) else {
  print(usage)
  exit(0)
}
if let seed = options.print {
  var generator = GraphGenerator(seed: seed)
  let graph = generator.graph()
  try? FileManager.default.createDirectory(atPath: options.save, withIntermediateDirectories: true)
  _ = try? ModelFile.save(graph, base: options.save + "/\(seed)")
  print(IRPrinter.print(graph), terminator: "")
  exit(0)
}
let runnable = Target.runnable()
let targets = options.targets ?? runnable
if let bad = targets.first(where: { !runnable.contains($0) }) {
  FileHandle.standardError.write(Data("resnetc-difftest: this CPU cannot run --targets \(bad.rawValue)\n".utf8))
  exit(2)
}

func progress(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }

let seeds = (0..<UInt64(options.graphs)).map { options.seed &+ $0 }
var failed: [UInt64: [DiffFailure]] = [:]
@MainActor func record(_ failures: [DiffFailure]) {
  for failure in failures {
    // Unbuffered: each failure line is written at once, even if a compiled program later
    // crashes the run.
    FileHandle.standardOutput.write(Data((failure.description + "\n").utf8))
    failed[failure.seed, default: []].append(failure)
  }
}

let start = Date()
var cases: [DiffCase] = []
let compiledCount = min(options.compiled ?? options.graphs, options.graphs)
for (i, seed) in seeds.enumerated() {
  do {
    let c = try DiffCase(seed: seed)
    record(DifferentialRunner.interpreterPaths(c, orders: options.orders))
    if i < compiledCount { cases.append(c) }
  } catch {
    record([DiffFailure(seed: seed, path: "-O0", detail: "\(error)")])
  }
  if (i + 1) % 500 == 0 || i + 1 == seeds.count {
    progress(String(format: "interpreter paths: %d graphs, %.0f s", i + 1, Date().timeIntervalSince(start)))
  }
}

let scratch = NSTemporaryDirectory() + "resnetc-difftest-\(getpid())"
try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: scratch) }
for backend in options.backends {
  for target in targets {
    for first in stride(from: 0, to: cases.count, by: options.batch) {
      let batch = Array(cases[first..<min(first + options.batch, cases.count)])
      progress(
        "\(backend.rawValue) \(target.rawValue): seeds \(batch.first!.seed)...\(batch.last!.seed)"
          + String(format: " (%.0f s)", Date().timeIntervalSince(start)))
      record(
        DifferentialRunner.compiledPaths(
          batch, backend: backend, target: target, passSeed: batch[0].seed, directory: scratch))
    }
  }
}

if !failed.isEmpty {
  try? FileManager.default.createDirectory(atPath: options.save, withIntermediateDirectories: true)
  for seed in failed.keys.sorted() {
    var generator = GraphGenerator(seed: seed)
    let graph = generator.graph()
    _ = try? ModelFile.save(graph, base: options.save + "/\(seed)")
    let interpreterFailure = failed[seed]!.contains { !$0.path.hasPrefix("c ") && !$0.path.hasPrefix("swift ") }
    if options.minimize, interpreterFailure {
      let small = Minimizer.minimize(graph) { candidate in
        guard let c = try? DiffCase(graph: candidate, seed: seed) else { return false }
        return !DifferentialRunner.interpreterPaths(c, orders: options.orders).isEmpty
      }
      _ = try? ModelFile.save(small, base: options.save + "/\(seed).min")
      progress("seed \(seed): minimized from \(graph.nodes.count) to \(small.nodes.count) nodes")
    }
  }
  progress("failing graphs written to \(options.save)/")
}
progress(
  "\(seeds.count) graphs through the interpreter paths, \(cases.count) through \(options.backends.map(\.rawValue)) x \(targets.map(\.rawValue)) in "
    + String(format: "%.0f s", Date().timeIntervalSince(start)))
print("\(seeds.count - failed.count) passed, \(failed.count) failed")
exit(failed.isEmpty ? 0 : 1)
