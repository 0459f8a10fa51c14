import GraphIR

/// The Swift body of one node's plain kernel: the loops of `CKernel`, spelled in Swift.
/// `x` is operand 0, further operands are `in1`, `in2`, ... (`UnsafePointer<Float>`) and the
/// result is `y` (`UnsafeMutablePointer<Float>`), all row-major (NCHW), every shape a literal.
///
/// Index arithmetic is Swift's checked `+` and `*`, except in the innermost loop of the
/// convolution, whose indices stay below the tensor's element count (which shape inference
/// keeps within `Int`), where the wrapping operators spare the checks. (Chains of `&+` and
/// `&*` also take the type checker several times longer than `+` and `*`, which matters in
/// generated code of thousands of lines.)
struct SwiftKernel {
  let node: Node
  let operandTypes: [TensorType]

  /// Emits the body into `w`.
  func emit(_ w: inout CWriter) {
    let y = node.type.shape
    switch node.op {
    case .conv2d(let a): conv2d(a, &w)
    case .batchNorm(let epsilon):
      perChannel(
        &w, "let k = in1[c] / (in4[c] + \(SwiftKernel.literal(epsilon))).squareRoot()",
        "x[i] * k + (in2[c] - in3[c] * k)")
    case .scaleShift: perChannel(&w, nil, "x[i] * in1[c] + in2[c]")
    case .relu: elementwise(&w, "x[i] > 0 ? x[i] : 0")
    case .add: elementwise(&w, "x[i] + in1[i]")
    case .mul: elementwise(&w, "x[i] * in1[i]")
    case .clip(let lo, let hi):
      let (l, h) = (SwiftKernel.literal(lo), SwiftKernel.literal(hi))
      elementwise(&w, "x[i] > \(l) ? (x[i] < \(h) ? x[i] : \(h)) : \(l)")
    case .transpose(let perm): transpose(perm, &w)
    case .maxPool2d(let a): pool(a, average: nil, &w)
    case .avgPool2d(let a, let countIncludePad): pool(a, average: countIncludePad, &w)
    case .globalAvgPool:
      let (planes, size) = (y[0] * y[1], operandTypes[0].shape[2] * operandTypes[0].shape[3])
      w.block("for p in 0..<\(planes)") { w in
        w.line("var sum = 0.0")
        w.line("for i in 0..<\(size) { sum += Double(x[p * \(size) + i]) }")
        w.line("y[p] = Float(sum / \(size).0)")
      }
    case .flatten, .reshape: w.line("y.update(from: x, count: \(node.type.elementCount))")
    case .dense: dense(&w)
    case .softmax(let axis): softmax(axis: axis, &w)
    case .subsample2d(let s):
      let x = operandTypes[0].shape
      w.block("for p in 0..<\(y[0] * y[1])") { w in
        w.block("for i in 0..<\(y[2])") { w in
          w.line(
            "for j in 0..<\(y[3]) { y[(p * \(y[2]) + i) * \(y[3]) + j] = x[(p * \(x[2]) + i * \(s.h)) * \(x[3]) + j * \(s.w)] }"
          )
        }
      }
    case .padChannels(let before, _):
      let (c, size) = (operandTypes[0].shape[1], y[2] * y[3])
      w.line("y.update(repeating: 0, count: \(node.type.elementCount))")
      w.block("for n in 0..<\(y[0])") { w in
        w.line("(y + (n * \(y[1]) + \(before)) * \(size)).update(from: x + n * \(c * size), count: \(c * size))")
      }
    case .pad2d(let p, let value):
      let x = operandTypes[0].shape
      w.line("y.update(repeating: \(SwiftKernel.literal(value)), count: \(node.type.elementCount))")
      w.block("for p in 0..<\(y[0] * y[1])") { w in
        w.block("for i in 0..<\(x[2])") { w in
          w.line(
            "(y + ((p * \(y[2]) + i + \(p.top)) * \(y[3]) + \(p.left))).update(from: x + (p * \(x[2]) + i) * \(x[3]), count: \(x[3]))"
          )
        }
      }
    }
  }

  /// `y` = `x` with axes permuted, as `CKernel.transpose`.
  func transpose(_ perm: [Int], _ w: inout CWriter) {
    let strides = CKernel.permutedStrides(operandTypes[0].shape, perm)
    let y = node.type.shape
    w.line("var o = 0")
    func loop(_ axis: Int, _ w: inout CWriter) {
      guard axis < y.count else {
        let source = strides.indices.map { "i\($0) * \(strides[$0])" }.joined(separator: " + ")
        w.line("y[o] = x[\(source)]")
        w.line("o += 1")
        return
      }
      w.block("for i\(axis) in 0..<\(y[axis])") { w in loop(axis + 1, &w) }
    }
    loop(0, &w)
  }

  /// A Float expression that reads back exactly.
  static func literal(_ v: Float) -> String {
    if v.isNaN { return "Float.nan" }
    if v.isInfinite { return v < 0 ? "-Float.infinity" : "Float.infinity" }
    return "Float(\(v))"
  }

  /// `y[i] = expr` over every element.
  func elementwise(_ w: inout CWriter, _ expression: String) {
    w.line("for i in 0..<\(node.type.elementCount) { y[i] = \(expression) }")
  }

  /// `y[i] = expr` with `c` the channel of element i (x is (N,C,...)).
  func perChannel(_ w: inout CWriter, _ setup: String?, _ expression: String) {
    let shape = node.type.shape
    let inner = shape[2...].reduce(1, *)
    w.block("for n in 0..<\(shape[0])") { w in
      w.block("for c in 0..<\(shape[1])") { w in
        if let setup { w.line(setup) }
        w.line("let base = (n * \(shape[1]) + c) * \(inner)")
        w.line("for i in base..<base + \(inner) { y[i] = \(expression) }")
      }
    }
  }

  /// Direct convolution, as `CKernel.conv2d`: accumulate every (input channel, tap) over
  /// the output positions whose input position is inside the image, then the epilogue.
  func conv2d(_ a: Conv2dAttributes, _ w: inout CWriter) {
    let x = operandTypes[0].shape, wt = operandTypes[1].shape, y = node.type.shape
    let (c, h, wd, k, r, s, p, q) = (x[1], x[2], x[3], wt[0], wt[2], wt[3], y[2], y[3])
    let cpg = c / a.groups, kpg = k / a.groups
    let hasBias = node.operands.count == (a.epilogue.addsResidual ? 4 : 3)
    let residual = a.epilogue.addsResidual ? "in\(node.operands.count - 1)" : nil
    let (sh, sw) = (a.stride.h, a.stride.w)
    w.block("for n in 0..<\(y[0])") { w in
      w.block("for k in 0..<\(k)") { w in
        w.line("let g = k / \(kpg)")
        w.line("let yk = y + (n * \(k) + k) * \(p * q)")
        w.line("for i in 0..<\(p * q) { yk[i] = \(hasBias ? "in2[k]" : "0") }")
        w.block("for c in 0..<\(cpg)") { w in
          w.line("let xc = x + (n * \(c) + g * \(cpg) + c) * \(h * wd)")
          w.line("let wc = in1 + (k * \(cpg) + c) * \(r * s)")
          w.block("for r in 0..<\(r)") { w in
            w.line("let ro = r * \(a.dilation.h) - \(a.padding.top)")
            w.line("let p0 = ro >= 0 ? 0 : (\(sh - 1) - ro) / \(sh)")
            w.line("let p1 = min(\(h - 1) - ro < 0 ? 0 : (\(h - 1) - ro) / \(sh) + 1, \(p))")
            w.block("for s in 0..<\(s)") { w in
              w.line("let so = s * \(a.dilation.w) - \(a.padding.left)")
              w.line("let q0 = so >= 0 ? 0 : (\(sw - 1) - so) / \(sw)")
              w.line("let q1 = min(\(wd - 1) - so < 0 ? 0 : (\(wd - 1) - so) / \(sw) + 1, \(q))")
              w.line("let wv = wc[r * \(s) + s]")
              w.line("if p0 >= p1 || q0 >= q1 { continue }")
              w.block("for p in p0..<p1") { w in
                w.line("let row = (p * \(sh) + ro) * \(wd) + so")
                w.line("for q in q0..<q1 { yk[p &* \(q) &+ q] += wv * xc[row &+ q &* \(sw)] }")
              }
            }
          }
        }
        switch a.epilogue {
        case .none: break
        case .relu: w.line("for i in 0..<\(p * q) { yk[i] = yk[i] > 0 ? yk[i] : 0 }")
        case .add: w.line("for i in 0..<\(p * q) { yk[i] += \(residual!)[(n * \(k) + k) * \(p * q) + i] }")
        case .addReLU:
          w.block("for i in 0..<\(p * q)") { w in
            w.line("let v = yk[i] + \(residual!)[(n * \(k) + k) * \(p * q) + i]")
            w.line("yk[i] = v > 0 ? v : 0")
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
    w.block("for pl in 0..<\(y[0] * y[1])") { w in
      w.block("for p in 0..<\(y[2])") { w in
        w.block("for q in 0..<\(y[3])") { w in
          w.line(average == nil ? "var acc = -Float.infinity" : "var acc: Float = 0")
          if let countIncludePad = average { w.line(countIncludePad ? "var inside = 0" : "var valid = 0") }
          w.block("for r in 0..<\(a.kernel.h)") { w in
            w.line("let ih = p * \(a.stride.h) - \(a.padding.top) + r * \(a.dilation.h)")
            w.block("for s in 0..<\(a.kernel.w)") { w in
              w.line("let iw = q * \(a.stride.w) - \(a.padding.left) + s * \(a.dilation.w)")
              if average == true {
                w.line(
                  "if ih >= -\(a.padding.top) && ih < \(h + a.padding.bottom) && iw >= -\(a.padding.left) && iw < \(wd + a.padding.right) { inside += 1 }"
                )
              }
              w.line("if ih < 0 || ih >= \(h) || iw < 0 || iw >= \(wd) { continue }")
              w.line("let v = x[(pl * \(h) + ih) * \(wd) + iw]")
              w.line(average == nil ? "if v > acc { acc = v }" : "acc += v")
              if average == false { w.line("valid += 1") }
            }
          }
          let index = "(pl * \(y[2]) + p) * \(y[3]) + q"
          switch average {
          case nil: w.line("y[\(index)] = acc")
          case true?: w.line("y[\(index)] = acc / Float(inside > 0 ? inside : 1)")
          case false?: w.line("y[\(index)] = valid == 0 ? 0 : acc / Float(valid)")
          }
        }
      }
    }
  }

  /// `y = x·wᵀ + b`; x is (N,I), w is (O,I).
  func dense(_ w: inout CWriter) {
    let (n, inputs, outputs) = (node.type.shape[0], operandTypes[0].shape[1], node.type.shape[1])
    w.block("for n in 0..<\(n)") { w in
      w.block("for o in 0..<\(outputs)") { w in
        w.line("var acc: Float = \(node.operands.count == 3 ? "in2[o]" : "0")")
        w.line("for i in 0..<\(inputs) { acc += x[n * \(inputs) + i] * in1[o * \(inputs) + i] }")
        w.line("y[n * \(outputs) + o] = acc")
      }
    }
  }

  /// Softmax along `axis`, subtracting the maximum first.
  func softmax(axis: Int, _ w: inout CWriter) {
    let shape = node.type.shape
    let (outer, extent, inner) = (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    w.block("for o in 0..<\(outer)") { w in
      w.block("for i in 0..<\(inner)") { w in
        w.line("let xs = x + (o * \(extent * inner) + i)")
        w.line("let ys = y + (o * \(extent * inner) + i)")
        w.line("var m = xs[0]")
        w.line("for j in 1..<\(max(extent, 1)) where xs[j * \(inner)] > m { m = xs[j * \(inner)] }")
        w.line("var sum = 0.0")
        w.block("for j in 0..<\(extent)") { w in
          w.line("ys[j * \(inner)] = expf(xs[j * \(inner)] - m)")
          w.line("sum += Double(ys[j * \(inner)])")
        }
        w.line("for j in 0..<\(extent) { ys[j * \(inner)] = Float(Double(ys[j * \(inner)]) / sum) }")
      }
    }
  }
}
