import Foundation
import GraphIR

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A compiled model's shared library (`resnetc compile --emit lib`), loaded with `dlopen`
/// and run on tensors through its C API.
///
/// One instance owns one model instance of the library: it runs one inference at a time.
public final class NativeModel: @unchecked Sendable {
  private typealias Create = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<Int32>?) -> OpaquePointer?
  private typealias Run =
    @convention(c) (OpaquePointer?, UnsafePointer<UnsafePointer<Float>?>?, UnsafePointer<UnsafeMutablePointer<Float>?>?)
    -> Int32
  private typealias Destroy = @convention(c) (OpaquePointer?) -> Void
  private typealias ErrorString = @convention(c) (Int32) -> UnsafePointer<CChar>?
  private typealias Count = @convention(c) () -> Int32
  private typealias Rank = @convention(c) (Int32) -> Int32
  private typealias Dims = @convention(c) (Int32) -> UnsafePointer<Int64>?

  private let library: UnsafeMutableRawPointer
  private let model: OpaquePointer
  private let runFunction: Run
  private let destroyFunction: Destroy
  /// The types of the inputs, in order.
  public let inputTypes: [TensorType]
  /// The types of the outputs, in order.
  public let outputTypes: [TensorType]

  /// Loads `libraryPath` and creates a model from `weightsPath`.
  public init(libraryPath: String, weightsPath: String) throws(NativeModelError) {
    // RTLD_NODELETE: a library built by the Swift backend registers its types and
    // conformances with the Swift runtime, which keeps pointers into it for good, so no
    // library is ever unmapped (dlclose only drops the reference).
    guard let library = dlopen(libraryPath, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
      throw .load(libraryPath, String(cString: dlerror()))
    }
    func symbol<T>(_ name: String, as type: T.Type) throws(NativeModelError) -> T {
      guard let pointer = dlsym(library, name) else {
        dlclose(library)
        throw .load(libraryPath, "no symbol \(name)")
      }
      return unsafeBitCast(pointer, to: type)
    }
    let create = try symbol("resnetc_create", as: Create.self)
    runFunction = try symbol("resnetc_run", as: Run.self)
    destroyFunction = try symbol("resnetc_destroy", as: Destroy.self)
    let errorString = try symbol("resnetc_error_string", as: ErrorString.self)
    let shapes = { (prefix: String) throws(NativeModelError) -> [TensorType] in
      let count = try symbol("resnetc_\(prefix)_count", as: Count.self)()
      let rank = try symbol("resnetc_\(prefix)_rank", as: Rank.self)
      let dims = try symbol("resnetc_\(prefix)_dims", as: Dims.self)
      return (0..<count).map { i in
        let r = Int(rank(i))
        return TensorType((0..<r).map { Int(dims(i)![$0]) })
      }
    }
    inputTypes = try shapes("input")
    outputTypes = try shapes("output")
    var code: Int32 = 0
    guard let model = create(weightsPath, &code) else {
      let message = errorString(code).map { String(cString: $0) } ?? "error \(code)"
      dlclose(library)
      throw .create(weightsPath, message)
    }
    self.library = library
    self.model = model
  }

  deinit {
    destroyFunction(model)
    dlclose(library)
  }

  /// Runs the model; each input must have its declared type.
  public func run(_ inputs: [Tensor]) throws(InterpreterError) -> [Tensor] {
    guard inputs.count == inputTypes.count else { throw .inputCount(expected: inputTypes.count, got: inputs.count) }
    for (i, (tensor, type)) in zip(inputs, inputTypes).enumerated() {
      guard tensor.type == type else { throw .inputType(name: "\(i)", expected: type, got: tensor.type) }
      guard tensor.data.count == type.elementCount else {
        throw .inputSize(name: "\(i)", expected: type.elementCount, got: tensor.data.count)
      }
    }
    var outputs = outputTypes.map { Tensor(type: $0, data: Array(repeating: 0, count: $0.elementCount)) }
    let inputBuffers = inputs.map { tensor -> UnsafeMutablePointer<Float> in
      let buffer = UnsafeMutablePointer<Float>.allocate(capacity: max(tensor.data.count, 1))
      buffer.initialize(from: tensor.data, count: tensor.data.count)
      return buffer
    }
    let outputBuffers = outputs.map { UnsafeMutablePointer<Float>.allocate(capacity: max($0.data.count, 1)) }
    defer {
      inputBuffers.forEach { $0.deallocate() }
      outputBuffers.forEach { $0.deallocate() }
    }
    let inputPointers: [UnsafePointer<Float>?] = inputBuffers.map { UnsafePointer($0) }
    let outputPointers: [UnsafeMutablePointer<Float>?] = outputBuffers
    let status = runFunction(model, inputPointers, outputPointers)
    precondition(status == 0, "resnetc_run rejected pointers that were all valid")
    for i in outputs.indices {
      outputs[i].data = Array(UnsafeBufferPointer(start: outputBuffers[i], count: outputs[i].data.count))
    }
    return outputs
  }
}

/// A compiled library that cannot be loaded or set up.
public enum NativeModelError: Error, Equatable, CustomStringConvertible {
  /// `dlopen` or `dlsym` failed.
  case load(String, String)
  /// `resnetc_create` refused the weights.
  case create(String, String)

  /// One line naming the file and the problem.
  public var description: String {
    switch self {
    case .load(let path, let why): "\(path): cannot load the compiled model: \(why)"
    case .create(let path, let why): "\(path): \(why)"
    }
  }
}
