extension SwiftProgram {
  /// The model as one Swift file for a target of a Swift package (what resnetc's build plugin
  /// writes, `compile --emit swift-package`): the kernels, the forward pass and `ResnetcModel`
  /// without the C API, the image, `.npy` and labels readers, and a public class
  /// `className` that loads its weights from the target's resources (`CLASSNAME.weights`):
  ///
  ///     let model = try ResNet20Model()
  ///     let probabilities = try model.run(pixels)
  ///
  /// One such model per target: the file's other names (`ResnetcModel`, the kernels) are
  /// the target's own.
  public func packageSource(className: String) -> String {
    let parts = sources(kernelFiles: 1, cAPI: false, intrinsics: false)
    let wrapper = """

      // ---- The model's class for the package ----

      import Foundation

      /// The model \(CName.comment(graph.name)) compiled by resnetc for \(target.rawValue), its weights
      /// in this target's resources (\(className).weights). Inputs and outputs are float32
      /// arrays in row-major order of the shapes in `inputs` and `outputs`.
      public final class \(className): @unchecked Sendable {
        /// Why a model cannot be loaded or run.
        public enum Failure: Error, CustomStringConvertible {
          /// The weights are not among the target's resources.
          case missingWeights
          /// The weights file cannot be loaded.
          case weights(String)
          /// `run` was given arrays that do not fit the inputs.
          case input(String)

          public var description: String {
            switch self {
            case .missingWeights: "\(className).weights is not among the resources of this target"
            case .weights(let why): "\(className).weights: \\(why)"
            case .input(let why): why
            }
          }
        }

        /// The inputs, in order: names and shapes.
        public static var inputs: [(name: String, shape: [Int])] { ResnetcModel.inputs }
        /// The outputs, in order: names and shapes.
        public static var outputs: [(name: String, shape: [Int])] { ResnetcModel.outputs }

        /// The compiled model underneath: threads, profiling and runs on raw pointers.
        public let model: ResnetcModel

        /// Loads the weights from the target's resources; `threads` defaults to the
        /// processors online.
        public init(threads: Int? = nil) throws(Failure) {
          guard let path = Bundle.module.path(forResource: "\(className)", ofType: "weights") else {
            throw .missingWeights
          }
          do {
            model = try ResnetcModel(weightsPath: path)
          } catch {
            throw .weights(error.description)
          }
          if let threads, !model.setThreads(threads) { throw .input("cannot run on \\(threads) threads (1...1024)") }
        }

        /// Runs the model on one array per input; returns one array per output.
        public func run(_ inputs: [[Float]]) throws(Failure) -> [[Float]] {
          let expected = Self.inputs
          guard inputs.count == expected.count else {
            throw .input("the model takes \\(expected.count) inputs, got \\(inputs.count)")
          }
          for (input, tensor) in zip(inputs, expected) where input.count != tensor.shape.reduce(1, *) {
            throw .input(
              "input '\\(tensor.name)' is f32\\(ResnetcNpy.shapeText(tensor.shape)), \\(tensor.shape.reduce(1, *)) floats; got \\(input.count)")
          }
          var outputs = Self.outputs.map { [Float](repeating: 0, count: $0.shape.reduce(1, *)) }
          let inputPointers = inputs.map { input in
            let copy = UnsafeMutablePointer<Float>.allocate(capacity: max(input.count, 1))
            copy.initialize(from: input, count: input.count)
            return copy
          }
          let outputPointers = outputs.map { UnsafeMutablePointer<Float>.allocate(capacity: max($0.count, 1)) }
          defer {
            inputPointers.forEach { $0.deallocate() }
            outputPointers.forEach { $0.deallocate() }
          }
          model.run(inputs: inputPointers.map { UnsafePointer($0) }, outputs: outputPointers)
          for i in outputs.indices {
            outputs[i] = Array(UnsafeBufferPointer(start: outputPointers[i], count: outputs[i].count))
          }
          return outputs
        }

        /// Runs a model of one input and one output.
        public func run(_ input: [Float]) throws(Failure) -> [Float] {
          guard Self.inputs.count == 1, Self.outputs.count == 1 else {
            throw .input("the model has \\(Self.inputs.count) inputs and \\(Self.outputs.count) outputs; use run([[Float]])")
          }
          return try run([input])[0]
        }

        /// The model's input from a PNG or binary PPM/PGM image file, prepared as
        /// `--preprocess` does (imagenet: the default for 224x224 inputs; none otherwise).
        public static func input(
          imageFile path: String, preprocess: ResnetcPreprocess.Mode? = nil
        ) throws(Failure) -> [Float] {
          guard let input = inputs.first, inputs.count == 1 else {
            throw .input("an image fills a model's one input; this model has \\(inputs.count)")
          }
          guard let data = FileManager.default.contents(atPath: path) else { throw .input("\\(path): cannot be read") }
          do {
            let image = try ResnetcImage.decode([UInt8](data))
            return try ResnetcPreprocess.input(
              image, mode: preprocess ?? ResnetcPreprocess.defaultMode(shape: input.shape), name: input.name,
              shape: input.shape)
          } catch {
            throw .input("\\(path): \\(error.description)")
          }
        }
      }

      """
    // The kernels' own imports repeat the first part's, harmlessly.
    return parts.map(\.text).joined(separator: "\n") + "\n" + SwiftRuntimeText.formats + wrapper
  }
}
