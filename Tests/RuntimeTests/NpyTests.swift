import Formats
import Foundation
import GraphIR
import Testing

@testable import Runtime

/// The bytes of a fixture written by NumPy (scripts/make-npy-fixtures.py).
func fixture(_ name: String) throws -> [UInt8] {
  let url = try #require(Bundle.module.url(forResource: "Fixtures/\(name)", withExtension: nil))
  return [UInt8](try Data(contentsOf: url))
}

@Suite struct NpyTests {
  @Test func readsWhatNumPyWrites() throws {
    let t = try Npy.read(try fixture("f32_2x3.npy"))
    #expect(t.type.shape == [2, 3])
    #expect(t.data == [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    #expect(try Npy.read(try fixture("f32_v2.npy")) == t)
    #expect(try Npy.read(try fixture("f32_scalar.npy")) == Tensor(type: TensorType([]), data: [7.25]))
  }

  @Test(arguments: ["f32_2x3.npy", "f32_vector.npy", "f32_scalar.npy"])
  func writesWhatNumPyWrites(name: String) throws {
    let bytes = try fixture(name)
    #expect(Npy.write(try Npy.read(bytes)) == bytes)
  }

  @Test func refusesOtherLayouts() throws {
    #expect(throws: NpyError.unsupportedDType("<f8")) { try Npy.read(try fixture("f64_2x3.npy")) }
    #expect(throws: NpyError.unsupportedDType("<i4")) { try Npy.read(try fixture("i32_2x3.npy")) }
    #expect(throws: NpyError.bigEndian) { try Npy.read(try fixture("f32_big_endian.npy")) }
    #expect(throws: NpyError.fortranOrder) { try Npy.read(try fixture("f32_fortran.npy")) }
  }

  @Test func everyTruncationIsRefused() throws {
    let bytes = try fixture("f32_2x3.npy")
    for length in 0..<bytes.count {
      #expect(throws: NpyError.self, "truncated to \(length)") { try Npy.read(Array(bytes.prefix(length))) }
    }
    #expect(throws: NpyError.trailingBytes(1)) { try Npy.read(bytes + [0]) }
  }

  @Test func refusesBadHeaders() throws {
    let good = try fixture("f32_2x3.npy")
    var notNpy = good
    notNpy[1] = UInt8(ascii: "X")
    #expect(throws: NpyError.notNpy) { try Npy.read(notNpy) }
    var version = good
    version[6] = 9
    #expect(throws: NpyError.unsupportedVersion(9, 0)) { try Npy.read(version) }
    for (header, error) in [
      (
        "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }",
        NpyError.invalidShape([0, 3], "the array: shape [0,3] has a dimension that is not positive")
      ),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", nil),
      ("{'descr': '<f4', 'fortran_order': False}", NpyError.invalidHeader("no 'shape' tuple")),
      (
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (2,)}",
        NpyError.invalidHeader("key 'shape' appears twice")
      ),
      ("not a dict", NpyError.invalidHeader("expected '{' at character 0")),
    ] {
      let h = Array(header.utf8)
      let bytes = Npy.magic + [1, 0, UInt8(h.count), 0] + h
      if let error {
        #expect(throws: error) { try Npy.read(bytes) }
      } else {
        #expect(throws: NpyError.self) { try Npy.read(bytes) }
      }
    }
  }

  /// The format's own limits (it builds without GraphIR) are the compiler's.
  @Test func theFormatsLimitsAreGraphIRs() {
    #expect(ResnetcNpy.maxRank == maxRank)
    #expect(ResnetcNpy.maxElementCount == maxElementCount)
    #expect(ResnetcNpy.shapeText([1, 3, 32, 32]) == "\(TensorType([1, 3, 32, 32]))".dropFirst(3))
  }

  @Test func refusesHeadersThatAreNotASCII() throws {
    let h = Array("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': '\u{e9}'}".utf8)
    let bytes = Npy.magic + [1, 0, UInt8(h.count), 0] + h + [UInt8](repeating: 0, count: 8)
    #expect(throws: NpyError.invalidHeader("the header is not ASCII text")) { try Npy.read(bytes) }
  }

  @Test func flippedBytesNeverCrash() throws {
    let bytes = try fixture("f32_2x3.npy")
    for i in 0..<bytes.count {
      var copy = bytes
      copy[i] ^= 0xff
      _ = try? Npy.read(copy)
    }
  }
}
