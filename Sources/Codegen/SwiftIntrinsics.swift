/// The Swift program's `vmax`/`vmin`, conversions and integer multiply-adds through x86
/// intrinsics, which Swift reaches in clang's `_Builtin_intrinsics.intel` module (the
/// functions of `immintrin.h`; the few that are macros there, such as `_mm256_round_ps`, it
/// cannot name).
/// They are the C program's helpers (`CProgram`) instruction for instruction, so both
/// backends run the same `vpmaddwd`, `vpdpbusd`, `vpmaddubsw`, `cvtps2dq` and packs; the
/// portable versions (`SwiftProgram.portableHelpers`) shift and mask lanes instead and ran
/// ResNet-18 int8 at 5.3x the C program's time (Zen 4, VNNI, 2 threads).
///
/// Only a program built with the target's flags (`SwiftCompiler.flags(for:)`) may call
/// them: each intrinsic needs its instruction set enabled where it is inlined.
enum SwiftIntrinsics {
  /// The import the kernel files add.
  static let module = "import _Builtin_intrinsics.intel\n"

  /// The helpers for vectors of `b` lanes (8: AVX2, 256-bit; 16: AVX-512), with `vnni`
  /// where the target has `vpdpbusd`.
  static func helpers(block b: Int, vnni: Bool) -> String {
    let bits = b == 16 ? 512 : 256
    let m = "_mm\(bits)"
    // With VNNI one `vpdpbusd`; without, `vpmaddubsw` adds pairs in int16, saturating (the
    // compiler uses it only for weights whose pairs cannot), then `vpmaddwd` by ones the two.
    let dot =
      vnni
      ? "vi(_mm512_dpbusd_epi32(mi(acc), mi(a), mi(b)))"
      : "acc &+ vi(\(m)_madd_epi16(\(m)_maddubs_epi16(mi(a), mi(b)), \(m)_set1_epi16(1)))"
    let roundedBytes =
      b == 16
      ? """
        let i = _mm512_max_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(v), _mm512_set1_epi32(Int32(plus))), _mm512_setzero_si512())
        UnsafeMutableRawPointer(p + offset).storeBytes(of: _mm512_cvtusepi32_epi8(i), as: __m128i.self)
      """
      : "  storePacked(_mm256_add_epi32(_mm256_cvtps_epi32(v), _mm256_set1_epi32(Int32(plus))), p, offset)"
    // Whole numbers as bytes or int16: AVX-512 truncates each lane (vpmovdb, vpmovdw); AVX2
    // packs, saturating, which is the same for lanes within the type, the only ones stored.
    let bytes =
      b == 16
      ? "UnsafeMutableRawPointer(p + offset).storeBytes(of: _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(v)), as: __m128i.self)"
      : "storePacked(_mm256_cvttps_epi32(v), p, offset)"
    let shorts =
      b == 16
      ? "UnsafeMutableRawPointer(p + offset).storeBytes(of: _mm512_cvtepi32_epi16(_mm512_cvttps_epi32(v)), as: __m256i.self)"
      : """
      let i = _mm256_cvttps_epi32(v)
        UnsafeMutableRawPointer(p + offset).storeBytes(of: _mm_packs_epi32(i.lowHalf, i.highHalf), as: __m128i.self)
      """
    let loadBytes =
      b == 16
      ? "_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(UnsafeRawPointer(p + offset).loadUnaligned(as: __m128i.self)))"
      : "_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(SIMD2<Int64>(UnsafeRawPointer(p + offset).loadUnaligned(as: Int64.self), 0)))"
    // AVX2 has no vpmovdb: its byte stores pack, saturating.
    let packed =
      b == 16
      ? ""
      : """

      /// The lanes of `i` packed into bytes at `p + offset`, saturating (`vpackssdw`, `vpackuswb`).
      @inline(__always) private func storePacked(_ i: __m256i, _ p: UnsafeMutablePointer<UInt8>, _ offset: Int) {
        let w = _mm_packs_epi32(i.lowHalf, i.highHalf)
        UnsafeMutableRawPointer(p + offset).storeBytes(of: _mm_packus_epi16(w, w).x, as: Int64.self)
      }
      """
    return """
      private typealias MI = __m\(bits)i\(packed)

      /// Lane by lane `a` where `a > b` (`a < b`), else `b`: `vmaxps` (`vminps`) returns its
      /// second operand unless the first compares greater (less), NaN included. (Swift's
      /// `replacing(with:where:)` took the int8 max pool twice the C program's time.)
      @inline(__always) private func vmax(_ a: VF, _ b: VF) -> VF { \(m)_max_ps(a, b) }
      @inline(__always) private func vmin(_ a: VF, _ b: VF) -> VF { \(m)_min_ps(a, b) }

      @inline(__always) private func mi<T>(_ v: T) -> MI { unsafeBitCast(v, to: MI.self) }
      @inline(__always) private func vi(_ v: MI) -> VI { unsafeBitCast(v, to: VI.self) }

      /// The whole-number lanes of `v` (each within its type) stored as bytes at `p + offset`.
      @inline(__always) private func vstoreBytes(_ v: VF, _ p: UnsafeMutablePointer<UInt8>, _ offset: Int) {
        \(bytes)
      }

      /// `v`'s lanes rounded half to even (`cvtps2dq`), plus the whole number `plus`, clamped
      /// to 0...255 and stored as bytes (`Stmt.saturatingByteStore`), as the C program's
      /// `store_bytes_rounded`.
      @inline(__always) private func vstoreBytesRounded(
        _ v: VF, _ plus: Float, _ p: UnsafeMutablePointer<UInt8>, _ offset: Int
      ) {
      \(roundedBytes)
      }

      /// `n` unsigned bytes at `s`, each less the whole number `minus`, as int16 at `t`
      /// (`vpmovzxbw` and `vpsubw`, 16 at a time).
      @inline(__always) private func widenBytes(
        _ t: UnsafeMutablePointer<Int16>, _ s: UnsafePointer<UInt8>, _ n: Int, _ minus: Float
      ) {
        let z = Int16(minus)
        let zv = _mm256_set1_epi16(z)
        var i = 0
        while i + 16 <= n {
          let wide = _mm256_cvtepu8_epi16(UnsafeRawPointer(s + i).loadUnaligned(as: __m128i.self))
          UnsafeMutableRawPointer(t + i).storeBytes(of: _mm256_sub_epi16(wide, zv), as: __m256i.self)
          i += 16
        }
        while i < n {
          t[i] = Int16(s[i]) &- z
          i += 1
        }
      }

      /// Every quad of `blocks` blocks of `pixels` pixels of `b` bytes at `x`
      /// (`Stmt.splitBytePairs`): over the blocks as one run of bytes, 128 at a time,
      /// `vpmaddubsw` by ones sums their pairs and one compare of the largest sums finds
      /// whether any passes the bound; only then are its 32 quads split one by one.
      private func splitBytePairs(
        _ x: UnsafeMutablePointer<UInt8>, _ counts: UnsafeMutablePointer<Int32>, _ entries: UnsafeMutablePointer<Int32>,
        _ pixels: Int, _ blocks: Int, _ b: Int, _ bound: Int
      ) {
        counts.update(repeating: 0, count: pixels)
        let ones = _mm256_set1_epi8(1)
        let limit = _mm256_set1_epi16(Int16(bound))
        let n = blocks * pixels * b
        @inline(__always) func sums(_ o: Int) -> __m256i {
          _mm256_maddubs_epi16(UnsafeRawPointer(x + o).loadUnaligned(as: __m256i.self), ones)
        }
        var i = 0
        while i + 128 <= n {
          let m = _mm256_max_epi16(_mm256_max_epi16(sums(i), sums(i + 32)), _mm256_max_epi16(sums(i + 64), sums(i + 96)))
          let over = _mm256_cmpgt_epi16(m, limit)
          if _mm256_testz_si256(over, over) == 0 {
            for j in stride(from: i, to: i + 128, by: 4) { splitQuad(x, j, pixels, b, bound, counts, entries) }
          }
          i += 128
        }
        while i < n {
          splitQuad(x, i, pixels, b, bound, counts, entries)
          i += 4
        }
      }

      @inline(__always) private func vloadBytes(_ p: UnsafePointer<UInt8>, _ offset: Int) -> VF {
        \(loadBytes)
      }

      /// The whole-number lanes of `v` (each within int16) stored as int16 at `p + offset`.
      @inline(__always) private func vstoreShorts(_ v: VF, _ p: UnsafeMutablePointer<Int16>, _ offset: Int) {
        \(shorts)
      }

      /// The integers of `v` as floats (`cvtdq2ps`).
      @inline(__always) private func vfloat(_ v: VI) -> VF { \(m)_cvtepi32_ps(mi(v)) }

      /// A whole number as a byte or int16 (`cvttss2si`, toward zero, as C's casts; within the
      /// type), without the range checks of Swift's conversions.
      @inline(__always) private func byteOf(_ v: Float) -> UInt8 {
        UInt8(truncatingIfNeeded: _mm_cvttss_si32(_mm_set_ss(v)))
      }
      @inline(__always) private func int16Of(_ v: Float) -> Int16 {
        Int16(truncatingIfNeeded: _mm_cvttss_si32(_mm_set_ss(v)))
      }

      /// The whole-number lanes of `v` (each within ±2^24) as integers (`cvttps2dq`).
      @inline(__always) private func vint(_ v: VF) -> VI { vi(\(m)_cvttps_epi32(v)) }

      /// `acc` plus, in each lane, the sum of the products of its quad's unsigned bytes of `a`
      /// and signed bytes of `b`.
      @inline(__always) private func vdpbusd(_ acc: VI, _ a: VQ, _ b: VQ) -> VI { \(dot) }

      /// `acc` plus, in each lane, the sum of the products of its pairs of `a` and `b`
      /// (`vpmaddwd`: exact, no operand is -32768).
      @inline(__always) private func vmadd(_ acc: VI, _ a: VS, _ b: VS) -> VI {
        acc &+ vi(\(m)_madd_epi16(mi(a), mi(b)))
      }

      """
  }
}
