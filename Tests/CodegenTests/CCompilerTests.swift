import Testing

@testable import Codegen

@Suite struct CCompilerTests {
  @Test func locatesByCCThenClangThenCC() throws {
    let found = try CCompiler.locate(environment: ["PATH": "/usr/bin:/bin:/opt/swift/usr/bin"])
    #expect(found.path.hasSuffix("/clang") || found.path.hasSuffix("/cc"))
    #expect(try CCompiler.locate(environment: ["PATH": "/usr/bin", "CC": "cc"]).path == "/usr/bin/cc")
    #expect(throws: CCompilerError.notFound("CC is 'no-such-cc', which is not an executable on PATH")) {
      try CCompiler.locate(environment: ["PATH": "/usr/bin", "CC": "no-such-cc"])
    }
    #expect(throws: CCompilerError.notFound("no C compiler found: install clang or cc, or set CC")) {
      try CCompiler.locate(environment: ["PATH": "/nonexistent"])
    }
  }

  @Test func failuresShowTheCompilersOutput() throws {
    let dir = try scratchDirectory()
    try "int main(void) { return undefined_name; }\n".write(toFile: dir + "/bad.c", atomically: true, encoding: .utf8)
    do {
      try compiler().compile(sources: [dir + "/bad.c"], output: dir + "/bad", shared: false)
      Issue.record("a broken file compiled")
    } catch let error as CCompilerError {
      #expect(error.description.contains("undefined_name"))
      #expect(error.description.hasPrefix("the C compiler failed (exit status 1): "))
    }
  }
}
