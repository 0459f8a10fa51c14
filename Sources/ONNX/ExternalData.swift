import Foundation

/// Reads tensors stored outside the model file (`data_location: EXTERNAL`), as exporters
/// write weights of large models.
///
/// A location must be a relative path that stays inside the model's folder: absolute paths,
/// `..` components and symbolic links that lead out of the folder are refused. The byte
/// range is checked against the file's size before anything is read.
struct ExternalData {
  /// The model's folder with symbolic links resolved; nil when the model has no folder
  /// (it came from memory), which makes any external reference an error.
  let directory: String?

  init(modelDirectory: String?) {
    directory = modelDirectory.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }
  }

  /// The `length` bytes at `offset` of the file named by `entries` (location, offset, length).
  func read(tensor: String, entries: [(key: String, value: String)], expectedBytes: Int) throws(ONNXError) -> [UInt8] {
    func fail(_ reason: String) -> ONNXError { .externalData(tensor: tensor, reason: reason) }
    var location: String?
    var offset = 0
    var length: Int?
    for (key, value) in entries {
      switch key {
      case "location": location = value
      case "offset":
        guard let v = Int(value), v >= 0 else { throw fail("has an invalid offset '\(value)'") }
        offset = v
      case "length":
        guard let v = Int(value), v >= 0 else { throw fail("has an invalid length '\(value)'") }
        length = v
      case "checksum": break
      default: throw fail("has an unknown key '\(key)'")
      }
    }
    guard let location, !location.isEmpty else { throw fail("has no location") }
    guard let directory else { throw fail("cannot be read: the model was not loaded from a file") }
    guard !location.hasPrefix("/") else {
      throw fail("location '\(location)' is absolute; it must be inside the model's folder")
    }
    guard !location.split(separator: "/").contains("..") else {
      throw fail("location '\(location)' has a '..' component; it must name a file inside the model's folder")
    }
    let resolved = URL(fileURLWithPath: directory).appendingPathComponent(location).resolvingSymlinksInPath().path
    guard resolved.hasPrefix(directory + "/") else {
      throw fail("location '\(location)' leads out of the model's folder")
    }
    if let length, length != expectedBytes {
      throw fail("has length \(length) but the tensor's shape needs \(expectedBytes) bytes")
    }
    let size: Int
    do {
      let attributes = try FileManager.default.attributesOfItem(atPath: resolved)
      guard attributes[.type] as? FileAttributeType == .typeRegular else {
        throw fail("file '\(location)' is not a regular file")
      }
      size = (attributes[.size] as? NSNumber)?.intValue ?? 0
    } catch let error as ONNXError {
      throw error
    } catch {
      throw fail("file '\(location)' cannot be read (no such file)")
    }
    guard offset <= size, expectedBytes <= size - offset else {
      throw fail("range \(offset)..<\(offset + expectedBytes) lies past the end of '\(location)' (\(size) bytes)")
    }
    guard let handle = FileHandle(forReadingAtPath: resolved) else { throw fail("file '\(location)' cannot be opened") }
    defer { try? handle.close() }
    do {
      try handle.seek(toOffset: UInt64(offset))
      let data = try handle.read(upToCount: expectedBytes) ?? Data()
      guard data.count == expectedBytes else { throw fail("file '\(location)' ended early") }
      return [UInt8](data)
    } catch let error as ONNXError {
      throw error
    } catch {
      throw fail("file '\(location)' cannot be read: \(error.localizedDescription)")
    }
  }
}
