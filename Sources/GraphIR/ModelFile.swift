import Foundation

/// A model on disk: `NAME.gir` (textual IR) with `NAME.safetensors` (its constants) beside it.
public enum ModelFile {
  /// Largest `.gir` text accepted; a larger file is refused before it is read.
  public static let maxTextBytes = 1 << 30
  /// Largest `.safetensors` file accepted.
  public static let maxWeightBytes = 1 << 36

  /// The weights path that goes with a `.gir` path.
  public static func weightsPath(forIRPath path: String) -> String {
    let base = path.hasSuffix(".gir") ? String(path.dropLast(4)) : path
    return base + ".safetensors"
  }

  /// Reads `path` (a `.gir`) and the `.safetensors` beside it into a verified graph.
  /// Every declared constant must be in the weights file with its declared shape, and the
  /// weights file must hold nothing else.
  public static func load(irPath path: String) throws(ModelFileError) -> Graph {
    let textBytes = try readFile(path, limit: maxTextBytes)
    guard let text = String(validating: textBytes, as: UTF8.self) else {
      throw .invalid(path: path, reason: "the file is not UTF-8 text")
    }
    let weightsPath = weightsPath(forIRPath: path)
    let weights: [(name: String, constant: Tensor)]
    do {
      weights = try SafeTensors.readConstants(try readFile(weightsPath, limit: maxWeightBytes))
    } catch let error as SafeTensorsError {
      throw .invalid(path: weightsPath, reason: error.description)
    } catch let error as ModelFileError {
      throw error
    } catch {
      throw .invalid(path: weightsPath, reason: "\(error)")
    }
    var byName: [String: Tensor] = [:]
    for (name, constant) in weights { byName[name] = constant }
    var used = Set<String>()
    let graph: Graph
    do {
      graph = try IRParser.parse(
        text,
        constants: { name, type in
          guard let constant = byName[name] else {
            throw ModelFileError.invalid(
              path: weightsPath, reason: "has no tensor for constant @\(IRName.spelling(of: name))")
          }
          guard constant.type == type else {
            throw ModelFileError.invalid(
              path: weightsPath,
              reason:
                "tensor \(JSON.quote(name)) is \(constant.type) but \(path) declares \(type)")
          }
          used.insert(name)
          return constant
        })
    } catch let error as IRParseError {
      throw .invalid(path: "\(path):\(error.location.line):\(error.location.column)", reason: error.message)
    } catch let error as ModelFileError {
      throw error
    } catch {
      throw .invalid(path: path, reason: "\(error)")
    }
    if let extra = weights.first(where: { !used.contains($0.name) }) {
      throw .invalid(path: weightsPath, reason: "tensor \(JSON.quote(extra.name)) is not declared in \(path)")
    }
    return graph
  }

  /// Writes `graph` as `base.gir` and `base.safetensors`; returns the two paths.
  @discardableResult
  public static func save(_ graph: Graph, base: String) throws(ModelFileError) -> (ir: String, weights: String) {
    let irPath = base.hasSuffix(".gir") ? base : base + ".gir"
    let weightsPath = weightsPath(forIRPath: irPath)
    try writeFile(irPath, Array(IRPrinter.print(graph).utf8))
    try writeFile(weightsPath, SafeTensors.write(graph.constants.entries, metadata: [("producer", "resnetc")]))
    return (irPath, weightsPath)
  }

  /// The bytes of `path`, refusing files over `limit` before reading them.
  public static func readFile(_ path: String, limit: Int) throws(ModelFileError) -> [UInt8] {
    let url = URL(fileURLWithPath: path)
    let size: Int
    do {
      let values = try url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
      guard values.isRegularFile == true else {
        throw ModelFileError.cannotRead(path: path, reason: "not a regular file")
      }
      size = values.fileSize ?? 0
    } catch let error as ModelFileError {
      throw error
    } catch {
      throw .cannotRead(
        path: path, reason: FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
    }
    guard size <= limit else { throw .invalid(path: path, reason: "is \(size) bytes, more than the limit of \(limit)") }
    let memory = Int(clamping: ProcessInfo.processInfo.physicalMemory)
    guard size <= memory / 2 else {
      throw .invalid(
        path: path, reason: "is \(size >> 20) MiB, more than half of this machine's \(memory >> 20) MiB of memory")
    }
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw .cannotRead(path: path, reason: "cannot be opened")
    }
    defer { try? handle.close() }
    do {
      let data = try handle.readToEnd() ?? Data()
      guard data.count <= limit else {
        throw ModelFileError.invalid(path: path, reason: "grew past the limit of \(limit) bytes while read")
      }
      return [UInt8](data)
    } catch let error as ModelFileError {
      throw error
    } catch {
      throw .cannotRead(path: path, reason: "\(error.localizedDescription)")
    }
  }

  /// Writes `bytes` to `path` atomically (a temporary file renamed into place).
  public static func writeFile(_ path: String, _ bytes: [UInt8]) throws(ModelFileError) {
    do {
      try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
      throw .cannotWrite(path: path, reason: error.localizedDescription)
    }
  }
}

/// A model file that cannot be read, written or understood.
public enum ModelFileError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file is missing or unreadable.
  case cannotRead(path: String, reason: String)
  /// The file could not be written.
  case cannotWrite(path: String, reason: String)
  /// The file was read but its content is wrong.
  case invalid(path: String, reason: String)

  /// `path: reason`.
  public var description: String {
    switch self {
    case .cannotRead(let path, let reason): "\(path): \(reason)"
    case .cannotWrite(let path, let reason): "\(path): cannot write: \(reason)"
    case .invalid(let path, let reason): "\(path): \(reason)"
    }
  }
}
