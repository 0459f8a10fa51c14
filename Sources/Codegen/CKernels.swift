import GraphIR

/// The C body of one node's kernel: plain loops with every shape a literal. `x` is operand
/// 0, further operands are `in1`, `in2`, ... and the result is `y`, all `float` arrays in
/// row-major (NCHW) order. Indices are `long`, so no product of dimensions overflows.
struct CKernel {
  let node: Node
  let operandTypes: [TensorType]

  /// Emits the body into `w`.
  func emit(_ w: inout CWriter) {
    let y = node.type.shape
    switch node.op {
    case .conv2d(let a): conv2d(a, &w)
    case .batchNorm(let epsilon):
      perChannel(
        &w, "const float k = in1[c] / sqrtf(in4[c] + \(literal(epsilon)));", "x[i] * k + (in2[c] - in3[c] * k)")
    case .scaleShift: perChannel(&w, nil, "x[i] * in1[c] + in2[c]")
    case .relu: elementwise(&w, "x[i] > 0.0f ? x[i] : 0.0f")
    case .add: elementwise(&w, "x[i] + in1[i]")
    case .mul: elementwise(&w, "x[i] * in1[i]")
    case .clip(let lo, let hi):
      elementwise(&w, "x[i] > \(literal(lo)) ? (x[i] < \(literal(hi)) ? x[i] : \(literal(hi))) : \(literal(lo))")
    case .transpose(let perm): transpose(perm, &w)
    case .maxPool2d(let a): pool(a, average: nil, &w)
    case .avgPool2d(let a, let countIncludePad): pool(a, average: countIncludePad, &w)
    case .globalAvgPool:
      let (planes, size) = (y[0] * y[1], operandTypes[0].shape[2] * operandTypes[0].shape[3])
      w.block("for (long p = 0; p < \(planes)L; ++p)") { w in
        w.line("double sum = 0.0;")
        w.line("for (long i = 0; i < \(size)L; ++i) sum += x[p * \(size)L + i];")
        w.line("y[p] = (float)(sum / \(size).0);")
      }
    case .flatten, .reshape: w.line("memcpy(y, x, sizeof(float) * \(node.type.elementCount)L);")
    case .dense: dense(&w)
    case .softmax(let axis): softmax(axis: axis, &w)
    case .subsample2d(let s):
      let x = operandTypes[0].shape
      w.block("for (long p = 0; p < \(y[0] * y[1])L; ++p)") { w in
        w.block("for (long i = 0; i < \(y[2])L; ++i)") { w in
          w.line(
            "for (long j = 0; j < \(y[3])L; ++j) y[(p * \(y[2])L + i) * \(y[3])L + j] = x[(p * \(x[2])L + i * \(s.h)L) * \(x[3])L + j * \(s.w)L];"
          )
        }
      }
    case .padChannels(let before, _):
      let (c, size) = (operandTypes[0].shape[1], y[2] * y[3])
      w.line("memset(y, 0, sizeof(float) * \(node.type.elementCount)L);")
      w.block("for (long n = 0; n < \(y[0])L; ++n)") { w in
        w.line(
          "memcpy(y + (n * \(y[1])L + \(before)L) * \(size)L, x + n * \(c * size)L, sizeof(float) * \(c * size)L);")
      }
    case .pad2d(let p, let value):
      let x = operandTypes[0].shape
      w.line("for (long i = 0; i < \(node.type.elementCount)L; ++i) y[i] = \(literal(value));")
      w.block("for (long p = 0; p < \(y[0] * y[1])L; ++p)") { w in
        w.block("for (long i = 0; i < \(x[2])L; ++i)") { w in
          w.line(
            "memcpy(y + (p * \(y[2])L + i + \(p.top)L) * \(y[3])L + \(p.left)L, x + (p * \(x[2])L + i) * \(x[3])L, sizeof(float) * \(x[3])L);"
          )
        }
      }
    }
  }

  /// `y` = `x` with axes permuted: one loop per output axis, the input index summed from
  /// each axis's input stride.
  func transpose(_ perm: [Int], _ w: inout CWriter) {
    let strides = CKernel.permutedStrides(operandTypes[0].shape, perm)
    let y = node.type.shape
    w.line("long o = 0;")
    func loop(_ axis: Int, _ w: inout CWriter) {
      guard axis < y.count else {
        let source = strides.indices.map { "i\($0) * \(strides[$0])L" }.joined(separator: " + ")
        w.line("y[o++] = x[\(source)];")
        return
      }
      w.block("for (long i\(axis) = 0; i\(axis) < \(y[axis])L; ++i\(axis))") { w in loop(axis + 1, &w) }
    }
    loop(0, &w)
  }

  /// The input stride of each output axis of a transpose of `shape` by `perm`.
  static func permutedStrides(_ shape: [Int], _ perm: [Int]) -> [Int] {
    var strides = Array(repeating: 1, count: shape.count)
    for axis in stride(from: shape.count - 2, through: 0, by: -1) {
      strides[axis] = strides[axis + 1] * shape[axis + 1]
    }
    return perm.map { strides[$0] }
  }

  /// A float literal that reads back exactly.
  func literal(_ v: Float) -> String {
    if v.isNaN { return "NAN" }
    if v.isInfinite { return v < 0 ? "-INFINITY" : "INFINITY" }
    return "\(v)f"
  }

  /// `y[i] = expr` over every element.
  func elementwise(_ w: inout CWriter, _ expression: String) {
    w.line("for (long i = 0; i < \(node.type.elementCount)L; ++i) y[i] = \(expression);")
  }

  /// `y[i] = expr` with `c` the channel of element i (x is (N,C,...)).
  func perChannel(_ w: inout CWriter, _ setup: String?, _ expression: String) {
    let shape = node.type.shape
    let inner = shape[2...].reduce(1, *)
    w.block("for (long n = 0; n < \(shape[0])L; ++n)") { w in
      w.block("for (long c = 0; c < \(shape[1])L; ++c)") { w in
        if let setup { w.line(setup) }
        w.line("const long base = (n * \(shape[1])L + c) * \(inner)L;")
        w.line("for (long i = base; i < base + \(inner)L; ++i) y[i] = \(expression);")
      }
    }
  }

  /// Direct convolution: for each output plane, accumulate every (input channel, tap) over
  /// the output positions whose input position is inside the image, then apply the epilogue.
  func conv2d(_ a: Conv2dAttributes, _ w: inout CWriter) {
    let x = operandTypes[0].shape, wt = operandTypes[1].shape, y = node.type.shape
    let (c, h, wd, k, r, s, p, q) = (x[1], x[2], x[3], wt[0], wt[2], wt[3], y[2], y[3])
    let cpg = c / a.groups, kpg = k / a.groups
    let hasBias = node.operands.count == (a.epilogue.addsResidual ? 4 : 3)
    let residual = a.epilogue.addsResidual ? "in\(node.operands.count - 1)" : nil
    w.block("for (long n = 0; n < \(y[0])L; ++n)") { w in
      w.block("for (long k = 0; k < \(k)L; ++k)") { w in
        w.line("const long g = k / \(kpg)L;")
        w.line("float *yk = y + (n * \(k)L + k) * \(p * q)L;")
        w.line("for (long i = 0; i < \(p * q)L; ++i) yk[i] = \(hasBias ? "in2[k]" : "0.0f");")
        w.block("for (long c = 0; c < \(cpg)L; ++c)") { w in
          w.line("const float *xc = x + (n * \(c)L + g * \(cpg)L + c) * \(h * wd)L;")
          w.line("const float *wc = in1 + (k * \(cpg)L + c) * \(r * s)L;")
          w.block("for (long r = 0; r < \(r)L; ++r)") { w in
            w.line("const long ro = r * \(a.dilation.h)L - \(a.padding.top)L;")
            w.line("const long p0 = ro >= 0 ? 0 : (-ro + \(a.stride.h - 1)L) / \(a.stride.h)L;")
            w.line("long p1 = \(h - 1)L - ro < 0 ? 0 : (\(h - 1)L - ro) / \(a.stride.h)L + 1;")
            w.line("if (p1 > \(p)L) p1 = \(p)L;")
            w.block("for (long s = 0; s < \(s)L; ++s)") { w in
              w.line("const long so = s * \(a.dilation.w)L - \(a.padding.left)L;")
              w.line("const long q0 = so >= 0 ? 0 : (-so + \(a.stride.w - 1)L) / \(a.stride.w)L;")
              w.line("long q1 = \(wd - 1)L - so < 0 ? 0 : (\(wd - 1)L - so) / \(a.stride.w)L + 1;")
              w.line("if (q1 > \(q)L) q1 = \(q)L;")
              w.line("const float wv = wc[r * \(s)L + s];")
              w.block("for (long p = p0; p < p1; ++p)") { w in
                w.line("const long row = (p * \(a.stride.h)L + ro) * \(wd)L + so;")
                w.line("for (long q = q0; q < q1; ++q) yk[p * \(q)L + q] += wv * xc[row + q * \(a.stride.w)L];")
              }
            }
          }
        }
        switch a.epilogue {
        case .none: break
        case .relu: w.line("for (long i = 0; i < \(p * q)L; ++i) yk[i] = yk[i] > 0.0f ? yk[i] : 0.0f;")
        case .add:
          w.line("for (long i = 0; i < \(p * q)L; ++i) yk[i] += \(residual!)[(n * \(k)L + k) * \(p * q)L + i];")
        case .addReLU:
          w.block("for (long i = 0; i < \(p * q)L; ++i)") { w in
            w.line("const float v = yk[i] + \(residual!)[(n * \(k)L + k) * \(p * q)L + i];")
            w.line("yk[i] = v > 0.0f ? v : 0.0f;")
          }
        }
      }
    }
  }

  /// Max pooling (`average` nil; padding never wins) or average pooling (the divisor counts
  /// padded positions inside the padded map when `average` is true).
  func pool(_ a: Pool2dAttributes, average: Bool?, _ w: inout CWriter) {
    let x = operandTypes[0].shape, y = node.type.shape
    let (h, wd) = (x[2], x[3])
    w.block("for (long pl = 0; pl < \(y[0] * y[1])L; ++pl)") { w in
      w.block("for (long p = 0; p < \(y[2])L; ++p)") { w in
        w.block("for (long q = 0; q < \(y[3])L; ++q)") { w in
          w.line(average == nil ? "float acc = -INFINITY;" : "float acc = 0.0f;")
          if let countIncludePad = average { w.line(countIncludePad ? "long inside = 0;" : "long valid = 0;") }
          w.block("for (long r = 0; r < \(a.kernel.h)L; ++r)") { w in
            w.line("const long ih = p * \(a.stride.h)L - \(a.padding.top)L + r * \(a.dilation.h)L;")
            w.block("for (long s = 0; s < \(a.kernel.w)L; ++s)") { w in
              w.line("const long iw = q * \(a.stride.w)L - \(a.padding.left)L + s * \(a.dilation.w)L;")
              if average == true {
                w.line(
                  "if (ih >= -\(a.padding.top)L && ih < \(h + a.padding.bottom)L && iw >= -\(a.padding.left)L && iw < \(wd + a.padding.right)L) ++inside;"
                )
              }
              w.line("if (ih < 0 || ih >= \(h)L || iw < 0 || iw >= \(wd)L) continue;")
              w.line("const float v = x[(pl * \(h)L + ih) * \(wd)L + iw];")
              w.line(average == nil ? "if (v > acc) acc = v;" : "acc += v;")
              if average == false { w.line("++valid;") }
            }
          }
          let index = "(pl * \(y[2])L + p) * \(y[3])L + q"
          switch average {
          case nil: w.line("y[\(index)] = acc;")
          case true?: w.line("y[\(index)] = acc / (float)(inside > 0 ? inside : 1);")
          case false?: w.line("y[\(index)] = valid == 0 ? 0.0f : acc / (float)valid;")
          }
        }
      }
    }
  }

  /// `y = x·wᵀ + b`; x is (N,I), w is (O,I).
  func dense(_ w: inout CWriter) {
    let (n, inputs, outputs) = (node.type.shape[0], operandTypes[0].shape[1], node.type.shape[1])
    w.block("for (long n = 0; n < \(n)L; ++n)") { w in
      w.block("for (long o = 0; o < \(outputs)L; ++o)") { w in
        w.line("float acc = \(node.operands.count == 3 ? "in2[o]" : "0.0f");")
        w.line("for (long i = 0; i < \(inputs)L; ++i) acc += x[n * \(inputs)L + i] * in1[o * \(inputs)L + i];")
        w.line("y[n * \(outputs)L + o] = acc;")
      }
    }
  }

  /// Softmax along `axis`, subtracting the maximum first.
  func softmax(axis: Int, _ w: inout CWriter) {
    let shape = node.type.shape
    let (outer, extent, inner) = (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    w.block("for (long o = 0; o < \(outer)L; ++o)") { w in
      w.block("for (long i = 0; i < \(inner)L; ++i)") { w in
        w.line("const float *xs = x + o * \(extent * inner)L + i;")
        w.line("float *ys = y + o * \(extent * inner)L + i;")
        w.line("float m = xs[0];")
        w.line("for (long j = 1; j < \(extent)L; ++j) if (xs[j * \(inner)L] > m) m = xs[j * \(inner)L];")
        w.line("double sum = 0.0;")
        w.block("for (long j = 0; j < \(extent)L; ++j)") { w in
          w.line("ys[j * \(inner)L] = expf(xs[j * \(inner)L] - m);")
          w.line("sum += ys[j * \(inner)L];")
        }
        w.line("for (long j = 0; j < \(extent)L; ++j) ys[j * \(inner)L] = (float)(ys[j * \(inner)L] / sum);")
      }
    }
  }
}
