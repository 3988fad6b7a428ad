// GENERATED FILE: do not edit. Made by models/onnx/generate-schema.ts from models/onnx/onnx.proto.
// The ONNX schema subset as a protobufjs JSON descriptor, with TypeScript shapes of its messages.

export const onnxDescriptor = {
  "nested": {
    "onnx": {
      "nested": {
        "ModelProto": {
          "edition": "proto2",
          "fields": {
            "irVersion": {
              "type": "int64",
              "id": 1,
              "protoName": "ir_version"
            },
            "opsetImport": {
              "rule": "repeated",
              "type": "OperatorSetIdProto",
              "id": 8,
              "protoName": "opset_import"
            },
            "producerName": {
              "type": "string",
              "id": 2,
              "protoName": "producer_name"
            },
            "producerVersion": {
              "type": "string",
              "id": 3,
              "protoName": "producer_version"
            },
            "domain": {
              "type": "string",
              "id": 4
            },
            "modelVersion": {
              "type": "int64",
              "id": 5,
              "protoName": "model_version"
            },
            "docString": {
              "type": "string",
              "id": 6,
              "protoName": "doc_string"
            },
            "graph": {
              "type": "GraphProto",
              "id": 7
            },
            "metadataProps": {
              "rule": "repeated",
              "type": "StringStringEntryProto",
              "id": 14,
              "protoName": "metadata_props"
            }
          }
        },
        "StringStringEntryProto": {
          "edition": "proto2",
          "fields": {
            "key": {
              "type": "string",
              "id": 1
            },
            "value": {
              "type": "string",
              "id": 2
            }
          }
        },
        "OperatorSetIdProto": {
          "edition": "proto2",
          "fields": {
            "domain": {
              "type": "string",
              "id": 1
            },
            "version": {
              "type": "int64",
              "id": 2
            }
          }
        },
        "GraphProto": {
          "edition": "proto2",
          "fields": {
            "node": {
              "rule": "repeated",
              "type": "NodeProto",
              "id": 1
            },
            "name": {
              "type": "string",
              "id": 2
            },
            "initializer": {
              "rule": "repeated",
              "type": "TensorProto",
              "id": 5
            },
            "docString": {
              "type": "string",
              "id": 10,
              "protoName": "doc_string"
            },
            "input": {
              "rule": "repeated",
              "type": "ValueInfoProto",
              "id": 11
            },
            "output": {
              "rule": "repeated",
              "type": "ValueInfoProto",
              "id": 12
            },
            "valueInfo": {
              "rule": "repeated",
              "type": "ValueInfoProto",
              "id": 13,
              "protoName": "value_info"
            }
          }
        },
        "NodeProto": {
          "edition": "proto2",
          "fields": {
            "input": {
              "rule": "repeated",
              "type": "string",
              "id": 1
            },
            "output": {
              "rule": "repeated",
              "type": "string",
              "id": 2
            },
            "name": {
              "type": "string",
              "id": 3
            },
            "opType": {
              "type": "string",
              "id": 4,
              "protoName": "op_type"
            },
            "domain": {
              "type": "string",
              "id": 7
            },
            "attribute": {
              "rule": "repeated",
              "type": "AttributeProto",
              "id": 5
            },
            "docString": {
              "type": "string",
              "id": 6,
              "protoName": "doc_string"
            }
          }
        },
        "AttributeProto": {
          "edition": "proto2",
          "fields": {
            "name": {
              "type": "string",
              "id": 1
            },
            "refAttrName": {
              "type": "string",
              "id": 21,
              "protoName": "ref_attr_name"
            },
            "docString": {
              "type": "string",
              "id": 13,
              "protoName": "doc_string"
            },
            "type": {
              "type": "AttributeType",
              "id": 20
            },
            "f": {
              "type": "float",
              "id": 2
            },
            "i": {
              "type": "int64",
              "id": 3
            },
            "s": {
              "type": "bytes",
              "id": 4
            },
            "t": {
              "type": "TensorProto",
              "id": 5
            },
            "g": {
              "type": "GraphProto",
              "id": 6
            },
            "floats": {
              "rule": "repeated",
              "type": "float",
              "id": 7
            },
            "ints": {
              "rule": "repeated",
              "type": "int64",
              "id": 8
            },
            "strings": {
              "rule": "repeated",
              "type": "bytes",
              "id": 9
            },
            "tensors": {
              "rule": "repeated",
              "type": "TensorProto",
              "id": 10
            },
            "graphs": {
              "rule": "repeated",
              "type": "GraphProto",
              "id": 11
            }
          },
          "nested": {
            "AttributeType": {
              "values": {
                "UNDEFINED": 0,
                "FLOAT": 1,
                "INT": 2,
                "STRING": 3,
                "TENSOR": 4,
                "GRAPH": 5,
                "FLOATS": 6,
                "INTS": 7,
                "STRINGS": 8,
                "TENSORS": 9,
                "GRAPHS": 10,
                "SPARSE_TENSOR": 11,
                "SPARSE_TENSORS": 12,
                "TYPE_PROTO": 13,
                "TYPE_PROTOS": 14
              }
            }
          }
        },
        "ValueInfoProto": {
          "edition": "proto2",
          "fields": {
            "name": {
              "type": "string",
              "id": 1
            },
            "type": {
              "type": "TypeProto",
              "id": 2
            },
            "docString": {
              "type": "string",
              "id": 3,
              "protoName": "doc_string"
            }
          }
        },
        "TensorProto": {
          "edition": "proto2",
          "fields": {
            "dims": {
              "rule": "repeated",
              "type": "int64",
              "id": 1
            },
            "dataType": {
              "type": "int32",
              "id": 2,
              "protoName": "data_type"
            },
            "floatData": {
              "rule": "repeated",
              "type": "float",
              "id": 4,
              "protoName": "float_data",
              "options": {
                "packed": true
              }
            },
            "int32Data": {
              "rule": "repeated",
              "type": "int32",
              "id": 5,
              "protoName": "int32_data",
              "options": {
                "packed": true
              }
            },
            "stringData": {
              "rule": "repeated",
              "type": "bytes",
              "id": 6,
              "protoName": "string_data"
            },
            "int64Data": {
              "rule": "repeated",
              "type": "int64",
              "id": 7,
              "protoName": "int64_data",
              "options": {
                "packed": true
              }
            },
            "name": {
              "type": "string",
              "id": 8
            },
            "docString": {
              "type": "string",
              "id": 12,
              "protoName": "doc_string"
            },
            "rawData": {
              "type": "bytes",
              "id": 9,
              "protoName": "raw_data"
            },
            "externalData": {
              "rule": "repeated",
              "type": "StringStringEntryProto",
              "id": 13,
              "protoName": "external_data"
            },
            "dataLocation": {
              "type": "DataLocation",
              "id": 14,
              "protoName": "data_location"
            },
            "doubleData": {
              "rule": "repeated",
              "type": "double",
              "id": 10,
              "protoName": "double_data",
              "options": {
                "packed": true
              }
            },
            "uint64Data": {
              "rule": "repeated",
              "type": "uint64",
              "id": 11,
              "protoName": "uint64_data",
              "options": {
                "packed": true
              }
            }
          },
          "nested": {
            "DataType": {
              "values": {
                "UNDEFINED": 0,
                "FLOAT": 1,
                "UINT8": 2,
                "INT8": 3,
                "UINT16": 4,
                "INT16": 5,
                "INT32": 6,
                "INT64": 7,
                "STRING": 8,
                "BOOL": 9,
                "FLOAT16": 10,
                "DOUBLE": 11,
                "UINT32": 12,
                "UINT64": 13,
                "COMPLEX64": 14,
                "COMPLEX128": 15,
                "BFLOAT16": 16
              }
            },
            "DataLocation": {
              "values": {
                "DEFAULT": 0,
                "EXTERNAL": 1
              }
            }
          }
        },
        "TensorShapeProto": {
          "edition": "proto2",
          "fields": {
            "dim": {
              "rule": "repeated",
              "type": "Dimension",
              "id": 1
            }
          },
          "nested": {
            "Dimension": {
              "oneofs": {
                "value": {
                  "oneof": [
                    "dimValue",
                    "dimParam"
                  ]
                }
              },
              "fields": {
                "dimValue": {
                  "type": "int64",
                  "id": 1,
                  "protoName": "dim_value"
                },
                "dimParam": {
                  "type": "string",
                  "id": 2,
                  "protoName": "dim_param"
                },
                "denotation": {
                  "type": "string",
                  "id": 3
                }
              }
            }
          }
        },
        "TypeProto": {
          "edition": "proto2",
          "oneofs": {
            "value": {
              "oneof": [
                "tensorType"
              ]
            }
          },
          "fields": {
            "tensorType": {
              "type": "Tensor",
              "id": 1,
              "protoName": "tensor_type"
            },
            "denotation": {
              "type": "string",
              "id": 6
            }
          },
          "nested": {
            "Tensor": {
              "fields": {
                "elemType": {
                  "type": "int32",
                  "id": 1,
                  "protoName": "elem_type"
                },
                "shape": {
                  "type": "TensorShapeProto",
                  "id": 2
                }
              }
            }
          }
        }
      }
    }
  }
} as const;

/**
 * A model: a graph plus the facts a runtime needs to run it (IR version, operator sets) and free-form
 * metadata.
 */
export interface ModelProto {
  irVersion?: number;
  opsetImport?: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntryProto[];
}

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  /**
   * Empty string means the default ONNX domain ("ai.onnx").
   */
  domain?: string;
  version?: number;
}

/**
 * Nodes in topological order, the constant tensors they read (initializers), and the typed inputs and
 * outputs of the graph.
 */
export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  docString?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  valueInfo?: ValueInfoProto[];
}

/**
 * One operator call: tensors are referred to by name.
 */
export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: AttributeProto[];
  docString?: string;
}

/**
 * A named operator attribute; `type` says which one of the value fields holds it.
 */
export interface AttributeProto {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
}

export const AttributeProto_AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  docString?: string;
}

/**
 * A dense tensor. Its values live in exactly one place: raw_data (little-endian bytes), the typed field
 * that matches data_type, or an external file named in external_data (data_location = EXTERNAL).
 */
export interface TensorProto {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: number[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntryProto[];
  dataLocation?: number;
  doubleData?: number[];
  uint64Data?: number[];
}

export const TensorProto_DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

export const TensorProto_DataLocation = {
  DEFAULT: 0,
  EXTERNAL: 1,
} as const;

export interface TensorShapeProto {
  dim?: TensorShapeProto_Dimension[];
}

/**
 * A dimension is a number, a symbolic name (e.g. "batch"), or neither (unknown).
 */
export interface TensorShapeProto_Dimension {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

/**
 * Only tensor types are used here; the other kinds of the official oneof (sequence 4, map 5, sparse
 * tensor 8, optional 9) decode as unknown fields.
 */
export interface TypeProto {
  tensorType?: TypeProto_Tensor;
  denotation?: string;
}

export interface TypeProto_Tensor {
  elemType?: number;
  shape?: TensorShapeProto;
}
