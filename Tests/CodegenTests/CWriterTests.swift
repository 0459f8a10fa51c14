import Testing

@testable import Codegen

@Suite struct CWriterTests {
  @Test func blocksIndent() {
    var w = CWriter()
    w.line("// x is (N,C,H,W)")
    w.block("void f(void)") { w in
      w.block("for (int i = 0; i < 4; ++i)") { w in w.line("g(i);") }
      w.line()
      w.block("do", trailer: " while (0);") { w in w.line("h();") }
    }
    #expect(
      w.text == """
        // x is (N,C,H,W)
        void f(void) {
          for (int i = 0; i < 4; ++i) {
            g(i);
          }

          do {
            h();
          } while (0);
        }

        """)
  }
}

@Suite struct CNameTests {
  @Test(arguments: [
    ("conv1", "conv1"), ("layer1.0.conv1", "layer1_0_conv1"), ("int", "_int"), ("main", "_main"),
    ("0abc", "_0abc"), ("", "_"), ("*/ #include <x>", "____include__x_"), ("a\"b\\c\nd", "a_b_c_d"), ("ünï", "_n_"),
  ])
  func identifiers(name: String, expected: String) {
    let id = CName.identifier(name)
    #expect(id == expected)
    #expect(
      id.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
      })
  }

  @Test func prefixKeepsIdentifiersApart() {
    #expect(CName.identifier("w", prefix: "node_") == "node_w")
    #expect(CName.identifier("0", prefix: "v") == "v0")
  }

  @Test(arguments: ["*/ evil(); /*", "a*/b", "/*", "**//", "line\nbreak", "back\\", "*\u{0}/"])
  func commentsCannotEscape(name: String) {
    let text = CName.comment(name)
    #expect(!text.contains("*/") && !text.contains("/*"))
    #expect(!text.contains("\n") && !text.contains("\\"))
    #expect(text.unicodeScalars.allSatisfy { (" "..."~").contains($0) })
  }
}
