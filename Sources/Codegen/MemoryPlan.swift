import GraphIR

/// Where each value of a graph lives while the compiled program runs.
///
/// Graph inputs and outputs live in the caller's buffers; every other value gets a byte
/// offset in one arena, 64-byte aligned, from its lifetime: it is allocated when its node
/// runs and freed after its last reader, and freed space is reused (best fit). A node's
/// output never shares space with its own operands, so kernels need not work in place.
public struct MemoryPlan: Equatable, Sendable {
  /// A value's home.
  public enum Location: Equatable, Sendable {
    /// The caller's input buffer `i`.
    case input(Int)
    /// The caller's output buffer `i`.
    case output(Int)
    /// Bytes at `offset` in the arena.
    case arena(offset: Int)
  }

  /// Alignment of every arena block, in bytes (a cache line; an AVX-512 vector).
  public static let alignment = 64

  /// Each value buffer's location.
  public var locations: [Buffer: Location]
  /// The arena's size: the most bytes live at once, after alignment and fragmentation.
  public var arenaBytes: Int

  /// Plans `graph` (verified), one plain buffer per value.
  public init(graph: Graph) {
    self.init(
      inputs: graph.inputs.map { .value($0.name) }, outputs: graph.outputs.map { .value($0) },
      steps: graph.nodes.map { node in
        (
          .value(node.name), node.type.elementCount * node.type.dtype.byteSize,
          node.operands.compactMap { $0.isConstant ? nil : .value($0.name) }
        )
      })
  }

  /// Plans buffers written by `steps` in order (each writes `output`, of `bytes`, and reads
  /// `reads`); `inputs` and `outputs` are the caller's buffers.
  public init(inputs: [Buffer], outputs: [Buffer], steps: [(output: Buffer, bytes: Int, reads: [Buffer])]) {
    locations = [:]
    for (i, input) in inputs.enumerated() { locations[input] = .input(i) }
    for (i, output) in outputs.enumerated() where locations[output] == nil { locations[output] = .output(i) }
    var lastUse: [Buffer: Int] = [:]
    for (index, step) in steps.enumerated() {
      for name in step.reads { lastUse[name] = index }
    }
    var free: [(offset: Int, size: Int)] = []
    var end = 0
    var blocks: [Buffer: (offset: Int, size: Int)] = [:]
    for (index, step) in steps.enumerated() {
      if locations[step.output] == nil {
        let size = MemoryPlan.aligned(step.bytes)
        let offset: Int
        if let best = free.indices.filter({ free[$0].size >= size }).min(by: { free[$0].size < free[$1].size }) {
          offset = free[best].offset
          if free[best].size == size {
            free.remove(at: best)
          } else {
            free[best] = (offset + size, free[best].size - size)
          }
        } else {
          offset = end
          end += size
        }
        blocks[step.output] = (offset, size)
        locations[step.output] = .arena(offset: offset)
      }
      // Buffers read for the last time here are free for the next step.
      for name in Set(step.reads) where lastUse[name] == index {
        guard let block = blocks.removeValue(forKey: name) else { continue }
        free.append(block)
        free = MemoryPlan.merged(free)
      }
      // A buffer nobody reads is free at once.
      if lastUse[step.output] == nil, let block = blocks.removeValue(forKey: step.output) {
        free.append(block)
        free = MemoryPlan.merged(free)
      }
    }
    arenaBytes = end
  }

  /// `bytes` rounded up to the alignment.
  public static func aligned(_ bytes: Int) -> Int {
    (bytes + alignment - 1) / alignment * alignment
  }

  /// Free blocks sorted by offset with neighbours joined.
  static func merged(_ blocks: [(offset: Int, size: Int)]) -> [(offset: Int, size: Int)] {
    var result: [(offset: Int, size: Int)] = []
    for block in blocks.sorted(by: { $0.offset < $1.offset }) {
      if let last = result.last, last.offset + last.size == block.offset {
        result[result.count - 1].size += block.size
      } else {
        result.append(block)
      }
    }
    return result
  }
}
