// Classify [IMAGE]: runs ResNet20Model, compiled into this target by resnetc's build plugin,
// on an image (PNG or PPM, prepared as `resnetc run --image` does) or, without one, on the
// seeded input `resnetc run resnet20` uses, and prints what `resnetc run` prints.
import Foundation

/// The standard-normal numbers of `resnetc run --input-seed 0`: SplitMix64, then Box-Muller.
func seededInput(count: Int, seed: UInt64 = 0) -> [Float] {
  var state = seed
  func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  var values: [Float] = []
  while values.count < count {
    let u1 = max(Double(next() >> 11) * 0x1p-53, 0x1p-53), u2 = Double(next() >> 11) * 0x1p-53
    let radius = (-2 * log(u1)).squareRoot()
    values.append(Float(radius * cos(2 * Double.pi * u2)))
    if values.count < count { values.append(Float(radius * sin(2 * Double.pi * u2))) }
  }
  return values
}

do {
  let model = try ResNet20Model()
  let input = ResNet20Model.inputs[0]
  let x =
    CommandLine.arguments.count > 1
    ? try ResNet20Model.input(imageFile: CommandLine.arguments[1], preprocess: .imagenet)
    : seededInput(count: input.shape.reduce(1, *))
  let probabilities = try model.run(x)
  let output = ResNet20Model.outputs[0]
  print("output %\(output.name): f32[\(output.shape.map(String.init).joined(separator: ","))]")
  probabilities.withUnsafeBufferPointer { values in
    print(
      ResnetcLabels.rowLines(
        row: 0, top: ResnetcLabels.top5(values), values: values, names: nil,
        format: { String(format: "%.4g", Double($0)) }), terminator: "")
  }
} catch {
  FileHandle.standardError.write(Data("Classify: error: \(error)\n".utf8))
  exit(1)
}
