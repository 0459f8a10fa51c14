import Foundation
import Testing

@testable import Driver

/// The malformed-input corpus (scripts/make-malformed-corpus.py writes it).
let malformedDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Malformed")
  .path

/// Each broken file and (part of) the one-line error it must give.
let malformedCases: [(file: String, error: String)] = [
  ("cycle.onnx", "node A reads 'b', which no earlier node, input or initializer defines"),
  ("duplicate-names.onnx", "'y' is defined more than once"),
  ("empty.onnx", "the model has no graph"),
  ("external-absolute.onnx", "external data location '/etc/hostname' is absolute; it must be inside "),
  ("external-dotdot.onnx", "external data location '../outside.weights' has a '..' component; it m"),
  ("external-past-end.onnx", "external data range 32..<176 lies past the end of 'small.weights' (64 "),
  ("external-symlink.onnx", "external data location 'escape.link' leads out of the model's folder"),
  ("huge-dims.onnx", "shape [1099511627776, 1099511627776] has more than 1099511627776 eleme"),
  ("int64-weights.onnx", "has element type int64; resnetc imports float weights"),
  ("kernel-larger-than-input.onnx", "operand 0 should be at least as large as the 7x7 window (dilation 1x1)"),
  ("length-past-end.onnx", "a field of 1000 bytes runs past the end of its message (3 bytes left, "),
  ("missing-output.onnx", "no node computes it"),
  ("negative-dim-input.onnx", "dimension 1 is -3"),
  ("nesting-in-unknown-fields.onnx", "the model has no graph"),
  ("opset-too-new.onnx", "opset 30 of the default domain is not supported (resnetc implements op"),
  ("random-bytes.onnx", "invalid wire type 7 (byte 0)"),
  ("shape-overflow-input.onnx", "shape [2147483648,2147483648,4] has more than 1099511627776 elements"),
  ("short-initializer.onnx", "raw data has 16 bytes but its shape [2, 2, 3, 3] needs 144"),
  ("symbolic-dim.onnx", "input 'x' has symbolic dimension 0 ('batch'); pin it with --input-shap"),
  ("truncated.onnx", "a field of 242 bytes runs past the end of its message (121 bytes left,"),
  ("undefined-value.onnx", "node r reads 'nowhere', which no earlier node, input or initializer de"),
  ("unknown-attribute.onnx", "unknown attribute 'alpha'"),
  ("unsupported-op.onnx", "op LRN (domain 'ai.onnx', opset 13) is not supported"),
  ("wrong-wire-type.onnx", "wire type 0 where lengthDelimited for ModelProto.graph was expected (b"),
  ("zero-dim-input.onnx", "dimension 1 is 0"),
  ("zero-stride.onnx", "attribute 'strides' has a value outside 1...16777216"),
  ("gir-cycle.gir", "node %a reads %b before it is defined (nodes must be in topological or"),
  ("gir-duplicate-name.gir", "'y' is defined more than once"),
  ("gir-groups.gir", "node %z (conv2d): groups=3 does not divide 4 channels"),
  ("gir-kernel-too-large.gir", "node %y (max_pool2d): operand 0 should be at least as large as the 3x3"),
  ("gir-not-utf8.gir", "the file is not UTF-8 text"),
  ("gir-shape-overflow.gir", "input %x: shape [4294967296,4294967296,4] has more than 1099511627776 "),
  ("gir-syntax.gir", "expected ':', found 'f32'"),
  ("gir-undefined-value.gir", "node %y reads %q, which is not defined"),
  ("gir-unknown-attribute.gir", "relu has no attribute 'alpha'"),
  ("gir-unknown-op.gir", "unknown op 'gelu' (known: conv2d, batch_norm, scale_shift, relu, add, "),
  ("gir-wrong-declared-type.gir", "node %y is declared f32[1,5] but its operands give f32[1,4]"),
  ("gir-zero-dim.gir", "input %x: shape [1,0] has a dimension that is not positive"),
  ("gir-zero-stride.gir", "node %y (max_pool2d): stride=[0,1] is invalid: must be positive"),
  ("st-f16.gir", "tensor \"w\" has dtype F16; resnetc reads F32, I8, U8 and I32"),
  ("st-header-past-end.gir", "file is truncated: needs 1048584 bytes, has 10"),
  ("st-missing.gir", "no such file"),
  ("st-not-json.gir", "header JSON: expected a string key at byte 1"),
  ("st-overlap.gir", "tensor \"v\" overlaps the one before it (starts at 0, previous ends at 4"),
  ("st-size-mismatch.gir", "tensor \"w\" spans 8 bytes but its shape [1,1,1,1] of F32 needs 1 × 4"),
  ("st-truncated.gir", "file is truncated: needs 4 bytes, has 2"),
  ("st-wrong-shape.gir", "tensor \"w\" is f32[2] but "),
  ("npy-bad-magic.npy", "not a .npy file (no \\x93NUMPY magic)"),
  ("npy-big-endian.npy", "big-endian float32 ('>f4') is not supported; save the array as little-"),
  ("npy-f64.npy", "holds float64 ('<f8'), not float32 ('<f4'); save the array as float32"),
  ("npy-fortran.npy", "the array is in Fortran order; save it in C order (numpy.ascontiguousa"),
  ("npy-trailing.npy", "4 bytes follow the array's data"),
  ("npy-truncated.npy", "file is truncated: needs 12416 bytes, has 12406"),
  ("npy-wrong-shape.npy", "holds f32[1,3,8,8] but input 'input' is f32[1,3,32,32]"),
]

@Suite struct MalformedCorpusTests {
  @Test func theCorpusCoversEveryKindOfInput() {
    #expect(malformedCases.count >= 40)
    for ext in [".onnx", ".gir", ".npy"] { #expect(malformedCases.contains { $0.file.hasSuffix(ext) }) }
    #expect(malformedCases.contains { $0.file.hasPrefix("st-") }, "safetensors cases")
  }

  /// Exit 1, at most two lines naming the file and the problem, in under a second; `compile`
  /// writes nothing to its output path and fails before any C compiler would start (the same
  /// error comes back, not a compiler's).
  @Test(arguments: malformedCases.map { $0.file })
  func malformedInputIsOneClearError(file: String) throws {
    let expected = try #require(malformedCases.first { $0.file == file }).error
    let path = malformedDirectory + "/" + file
    let start = Date()
    let run = file.hasSuffix(".npy") ? resnetc("run", "resnet20", "--input", path) : resnetc("info", path)
    #expect(Date().timeIntervalSince(start) < 1, "took \(Date().timeIntervalSince(start)) s")
    #expect(run.status == 1)
    let stem = String(file.prefix { $0 != "." })
    #expect(run.err.contains(stem) && run.err.contains(expected), "\(run.err)")
    #expect(run.err.split(separator: "\n").count <= 2)
    #expect(!run.err.contains("Fatal error") && !run.err.contains("Backtracing"))
    guard !file.hasSuffix(".npy") else { return }
    let dir = try temporaryDirectory()
    let compile = resnetc("compile", path, "-o", dir + "/out")
    #expect(compile.status == 1 && compile.err.contains(expected))
    #expect(!compile.err.contains("compiling"), "no C compiler was started")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "nothing is written")
  }
}
