import Foundation

/// The instruction set the generated kernels are written for.
public enum Target: String, Sendable, CaseIterable {
  /// Portable C: plain loops over NCHW, no vector extensions.
  case generic
  /// AVX2 with FMA: 8-channel blocks (NCHW8c), 16 vector registers.
  case avx2
  /// AVX-512 (F, VL and BW): 16-channel blocks (NCHW16c), 32 vector registers.
  case avx512
  /// AVX-512 with VNNI (Ice Lake, Zen 4 and later): the `avx512` kernels, and integer
  /// convolutions that sum four byte products per lane and instruction (`vpdpbusd`).
  case avx512vnni

  /// The best target this machine runs, from the CPU's flags.
  public static func native(cpuFlags: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Target
  {
    guard let flags = cpuFlags?.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("flags") }) else {
      return .generic
    }
    let set = Set(flags.split(separator: " ").map(String.init))
    if set.isSuperset(of: ["avx512f", "avx512vl", "avx512bw", "avx512_vnni", "fma"]) { return .avx512vnni }
    if set.isSuperset(of: ["avx512f", "avx512vl", "avx512bw", "fma"]) { return .avx512 }
    if set.isSuperset(of: ["avx2", "fma"]) { return .avx2 }
    return .generic
  }

  /// The targets a machine whose best is `native` runs: it and those below it.
  public static func runnable(native: Target = .native()) -> [Target] {
    switch native {
    case .generic: [.generic]
    case .avx2: [.generic, .avx2]
    case .avx512: [.generic, .avx2, .avx512]
    case .avx512vnni: [.generic, .avx2, .avx512, .avx512vnni]
    }
  }

  /// Channels per block of the blocked layout; nil for the plain layout only.
  public var block: Int? {
    switch self {
    case .generic: nil
    case .avx2: 8
    case .avx512, .avx512vnni: 16
    }
  }

  /// Accumulator vectors a conv tile may keep in registers (leaving room for the weights
  /// vector and a broadcast).
  var maxTile: Int {
    switch self {
    case .generic: 1
    case .avx2: 12
    case .avx512, .avx512vnni: 28
    }
  }

  /// Whether integer convolutions sum byte quads with `vpdpbusd`; without it they sum bytes
  /// with `vpmaddubsw` where its int16 pairs cannot saturate, else int16 pairs (`vpmaddwd`).
  var hasVNNI: Bool { self == .avx512vnni }

  /// Compiler flags for this target.
  public var flags: [String] {
    switch self {
    case .generic: []
    case .avx2: ["-O3", "-mavx2", "-mfma"]
    case .avx512: ["-O3", "-mavx512f", "-mavx512vl", "-mavx512bw", "-mfma", "-mprefer-vector-width=512"]
    case .avx512vnni:
      ["-O3", "-mavx512f", "-mavx512vl", "-mavx512bw", "-mavx512vnni", "-mfma", "-mprefer-vector-width=512"]
    }
  }
}
