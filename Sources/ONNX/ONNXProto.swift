/// The parts of ONNX's protobuf messages that resnetc reads (field numbers from onnx.proto).
/// Fields it does not use are skipped; their wire format is still checked.

/// `ModelProto`.
struct OnnxModel {
  var irVersion: Int64 = 0
  var opsets: [(domain: String, version: Int64)] = []
  var producer = ""
  var graph = OnnxGraph()
  var hasGraph = false
}

/// `GraphProto`.
struct OnnxGraph {
  var name = ""
  var nodes: [OnnxNode] = []
  var initializers: [OnnxTensor] = []
  var inputs: [OnnxValueInfo] = []
  var outputs: [OnnxValueInfo] = []
  var hasSparseInitializers = false
}

/// `NodeProto`.
struct OnnxNode {
  var inputs: [String] = []
  var outputs: [String] = []
  var name = ""
  var opType = ""
  var domain = ""
  var attributes: [OnnxAttribute] = []
}

/// `AttributeProto`.
struct OnnxAttribute {
  var name = ""
  var type: Int64 = 0
  var f: Float?
  var i: Int64?
  var s: [UInt8]?
  var t: OnnxTensor?
  var floats: [Float] = []
  var ints: [Int64] = []
  var strings: [[UInt8]] = []
  /// Graphs, sparse tensors, type protos or tensor lists, which no supported op takes.
  var hasOtherValue = false
}

/// `TensorProto`. Raw data stays a range of the model's bytes until it is needed.
struct OnnxTensor {
  var name = ""
  var dims: [Int64] = []
  var dataType: Int64 = 0
  var floatData: [Float] = []
  var int32Data: [Int64] = []
  var int64Data: [Int64] = []
  var doubleData: [Double] = []
  var rawData: Range<Int>?
  var externalData: [(key: String, value: String)] = []
  var dataLocation: Int64 = 0
  var hasSegment = false
}

/// A dimension of a `TensorShapeProto`.
enum OnnxDim: Equatable {
  case value(Int64)
  case param(String)
  case unknown
}

/// `ValueInfoProto` with its tensor type.
struct OnnxValueInfo {
  var name = ""
  /// `TensorProto.DataType` of the elements; nil when the type is not a tensor type.
  var elemType: Int64?
  /// Nil when no shape is given.
  var dims: [OnnxDim]?
}

/// `TensorProto.DataType` values resnetc names in messages.
enum OnnxDataType {
  static let float: Int64 = 1
  static let uint8: Int64 = 2
  static let int8: Int64 = 3
  static let bool: Int64 = 9
  static let int32: Int64 = 6
  static let int64: Int64 = 7
  static let double: Int64 = 11

  static let names: [Int64: String] = [
    1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string", 9: "bool",
    10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128", 16: "bfloat16",
  ]

  static func name(_ type: Int64) -> String { names[type] ?? "type \(type)" }
}

extension OnnxModel {
  init(reading r: inout ProtobufReader) throws(ProtobufError) {
    while let (number, wire) = try r.nextField() {
      switch number {
      case 1:
        irVersion = try r.int64(wire, field: "ModelProto.ir_version")
      case 2:
        producer = try r.string(wire, field: "ModelProto.producer_name")
      case 7:
        var g = try r.message(wire, field: "ModelProto.graph")
        graph = try OnnxGraph(reading: &g)
        hasGraph = true
      case 8:
        var o = try r.message(wire, field: "ModelProto.opset_import")
        var domain = ""
        var version: Int64 = 0
        while let (n, w) = try o.nextField() {
          switch n {
          case 1:
            domain = try o.string(w, field: "OperatorSetIdProto.domain")
          case 2:
            version = try o.int64(w, field: "OperatorSetIdProto.version")
          default: try o.skip(w)
          }
        }
        opsets.append((domain, version))
      default: try r.skip(wire)
      }
    }
  }
}

extension OnnxGraph {
  init(reading r: inout ProtobufReader) throws(ProtobufError) {
    while let (number, wire) = try r.nextField() {
      switch number {
      case 1:
        var m = try r.message(wire, field: "GraphProto.node")
        nodes.append(try OnnxNode(reading: &m))
      case 2:
        name = try r.string(wire, field: "GraphProto.name")
      case 5:
        var m = try r.message(wire, field: "GraphProto.initializer")
        initializers.append(try OnnxTensor(reading: &m))
      case 11, 12:
        var m = try r.message(wire, field: "GraphProto.input/output")
        let info = try OnnxValueInfo(reading: &m)
        if number == 11 { inputs.append(info) } else { outputs.append(info) }
      case 15:
        hasSparseInitializers = true
        try r.skip(wire)
      default: try r.skip(wire)
      }
    }
  }
}

extension OnnxNode {
  init(reading r: inout ProtobufReader) throws(ProtobufError) {
    while let (number, wire) = try r.nextField() {
      switch number {
      case 1, 2, 3, 4, 7:
        let text = try r.string(wire, field: "NodeProto field \(number)")
        switch number {
        case 1: inputs.append(text)
        case 2: outputs.append(text)
        case 3: name = text
        case 4: opType = text
        default: domain = text
        }
      case 5:
        var m = try r.message(wire, field: "NodeProto.attribute")
        attributes.append(try OnnxAttribute(reading: &m))
      default: try r.skip(wire)
      }
    }
  }
}

extension OnnxAttribute {
  init(reading r: inout ProtobufReader) throws(ProtobufError) {
    while let (number, wire) = try r.nextField() {
      switch number {
      case 1:
        name = try r.string(wire, field: "AttributeProto.name")
      case 20:
        type = try r.int64(wire, field: "AttributeProto.type")
      case 2:
        try r.expect(wire, is: .fixed32, field: "AttributeProto.f")
        f = Float(bitPattern: try r.fixed32())
      case 3:
        i = try r.int64(wire, field: "AttributeProto.i")
      case 4:
        try r.expect(wire, is: .lengthDelimited, field: "AttributeProto.s")
        s = try r.bytesField()
      case 5:
        var m = try r.message(wire, field: "AttributeProto.t")
        t = try OnnxTensor(reading: &m)
      case 7: try r.appendFloats(wire, to: &floats)
      case 8: try r.appendVarints(wire, to: &ints)
      case 9:
        try r.expect(wire, is: .lengthDelimited, field: "AttributeProto.strings")
        strings.append(try r.bytesField())
      case 6, 10, 11, 14, 15, 22, 23:
        hasOtherValue = true
        try r.skip(wire)
      default: try r.skip(wire)
      }
    }
  }
}

extension OnnxTensor {
  init(reading r: inout ProtobufReader) throws(ProtobufError) {
    while let (number, wire) = try r.nextField() {
      switch number {
      case 1: try r.appendVarints(wire, to: &dims)
      case 2:
        dataType = try r.int64(wire, field: "TensorProto.data_type")
      case 3:
        hasSegment = true
        try r.skip(wire)
      case 4: try r.appendFloats(wire, to: &floatData)
      case 5: try r.appendVarints(wire, to: &int32Data)
      case 7: try r.appendVarints(wire, to: &int64Data)
      case 8:
        name = try r.string(wire, field: "TensorProto.name")
      case 9:
        try r.expect(wire, is: .lengthDelimited, field: "TensorProto.raw_data")
        rawData = try r.lengthDelimited()
      case 10: try r.appendDoubles(wire, to: &doubleData)
      case 13:
        var m = try r.message(wire, field: "TensorProto.external_data")
        var key = "", value = ""
        while let (n, w) = try m.nextField() {
          switch n {
          case 1, 2:
            if n == 1 { key = try m.string(w, field: "StringStringEntryProto") } else { value = try m.string() }
          default: try m.skip(w)
          }
        }
        externalData.append((key, value))
      case 14:
        dataLocation = try r.int64(wire, field: "TensorProto.data_location")
      default: try r.skip(wire)
      }
    }
  }
}

extension OnnxValueInfo {
  init(reading r: inout ProtobufReader) throws(ProtobufError) {
    while let (number, wire) = try r.nextField() {
      switch number {
      case 1:
        name = try r.string(wire, field: "ValueInfoProto.name")
      case 2:
        var type = try r.message(wire, field: "ValueInfoProto.type")
        while let (n, w) = try type.nextField() {
          guard n == 1 else {
            try type.skip(w)
            continue
          }
          var tensor = try type.message(w, field: "TypeProto.tensor_type")
          try readTensorType(&tensor)
        }
      default: try r.skip(wire)
      }
    }
  }

  /// `TypeProto.Tensor`: element type and shape.
  private mutating func readTensorType(_ r: inout ProtobufReader) throws(ProtobufError) {
    elemType = 0
    while let (n, w) = try r.nextField() {
      switch n {
      case 1:
        elemType = try r.int64(w, field: "TypeProto.Tensor.elem_type")
      case 2:
        var shape = try r.message(w, field: "TypeProto.Tensor.shape")
        var dims: [OnnxDim] = []
        while let (sn, sw) = try shape.nextField() {
          guard sn == 1 else {
            try shape.skip(sw)
            continue
          }
          var d = try shape.message(sw, field: "TensorShapeProto.dim")
          var dim = OnnxDim.unknown
          while let (dn, dw) = try d.nextField() {
            switch dn {
            case 1:
              dim = .value(try d.int64(dw, field: "Dimension.dim_value"))
            case 2:
              dim = .param(try d.string(dw, field: "Dimension.dim_param"))
            default: try d.skip(dw)
            }
          }
          dims.append(dim)
        }
        self.dims = dims
      default: try r.skip(w)
      }
    }
  }
}
