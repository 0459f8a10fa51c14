import Foundation
import Testing

@testable import Codegen

/// Both printers spell the kernel IR's grouping: a right operand keeps its parentheses
/// unless regrouping it cannot change the value.
@Suite struct KernelPrinterTests {
  static let buffers = [
    KernelParameter(name: "x", elements: 8, writable: false), KernelParameter(name: "y", elements: 4, writable: true),
  ]

  static func printed(_ value: Expr, _ printer: some KernelPrinter) -> String {
    var w = CWriter()
    // Loops bind the index variables (i = 3, j = k = 1) so that the verifier proves the access.
    let body: [Stmt] = [.loop("i", 3, 4, [.loop("j", 1, 2, [.loop("k", 1, 2, [.store("y", 0, value)])])])]
    printer.print(Kernel(parameters: buffers, body: body), &w)
    let line = w.text.split(separator: "\n").first { $0.contains("y[") } ?? ""
    return line.trimmingCharacters(in: .whitespaces)
  }

  /// `a * (b * c / d)` in floats is not `a * b * c / d`: a requantizing factor computed
  /// apart from the sum it scales rounds differently (a tie at 4.5 went to 5 once).
  @Test func floatProductsKeepTheirGrouping() {
    let (a, b, c, d) = (Expr.load("x", 0), Expr.load("x", 1), Expr.load("x", 2), Expr.load("x", 3))
    #expect(Self.printed(a * (b * c / d), CKernelPrinter()) == "y[0L] = x[0L] * (x[1L] * x[2L] / x[3L]);")
    #expect(Self.printed(a + (b + c), SwiftKernelPrinter()) == "y[0] = x[0] + (x[1] + x[2])")
    #expect(Self.printed((a * b) * c, CKernelPrinter()) == "y[0L] = x[0L] * x[1L] * x[2L];")
  }

  /// Index sums and products regroup freely; a quotient or remainder on the right does not.
  @Test func indexArithmeticRegroupsOnlyWhereExact() {
    let (i, j, k) = (index("i"), index("j"), index("k"))
    let load = { (e: Expr) in Self.printed(.load("x", e), CKernelPrinter()) }
    #expect(load(i + (j + k)) == "y[0L] = x[i + j + k];")
    #expect(load(i * (j * k)) == "y[0L] = x[i * j * k];")
    #expect(load(i * (j / k)) == "y[0L] = x[i * (j / k)];")
    #expect(load(i * (j % k)) == "y[0L] = x[i * (j % k)];")
    #expect(load(i - (j + k)) == "y[0L] = x[i - (j + k)];")
  }

  /// A rolled loop asks C compilers not to unroll it (a register tile's step unrolled side by
  /// side made clang spill the tile); Swift has no such pragma and prints a plain loop.
  @Test func rolledLoopsCarryThePragmaInC() {
    let body: [Stmt] = [.rolledLoop("i", 0, 4, [.store("y", index("i"), .load("x", index("i")))])]
    let kernel = Kernel(parameters: Self.buffers, body: body)
    var c = CWriter()
    CKernelPrinter().print(kernel, &c)
    let lines = c.text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    #expect(lines.first == "ROLLED_LOOP")
    #expect(lines.dropFirst().first == "for (long i = 0L; i < 4L; ++i) {")
    var swift = CWriter()
    SwiftKernelPrinter().print(kernel, &swift)
    #expect(swift.text.split(separator: "\n").first?.trimmingCharacters(in: .whitespaces) == "for i in 0..<4 {")
  }
}
