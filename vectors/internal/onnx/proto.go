package onnx

import (
	"fmt"
	"math"
)

// The subset of onnx.proto (github.com/onnx/onnx, onnx/onnx.proto) the
// loader reads. Field numbers are the published ones; fields not listed
// are skipped, as protobuf parsers do, except the few whose presence
// changes the meaning of the model (external data, sparse initializers,
// subgraphs, functions, training information), which are rejected where
// they are decoded.

// modelProto is ModelProto.
type modelProto struct {
	irVersion       int64        // 1
	producerName    string       // 2
	producerVersion string       // 3
	graph           *graphProto  // 7
	opsets          []opsetProto // 8
	functions       int          // 25 (model-local functions: rejected)
	trainingInfo    int          // 20
}

// opsetProto is OperatorSetIdProto.
type opsetProto struct {
	domain  string // 1
	version int64  // 2
}

// graphProto is GraphProto.
type graphProto struct {
	nodes        []nodeProto      // 1
	name         string           // 2
	initializers []tensorProto    // 5
	sparse       int              // 15 (sparse_initializer: rejected)
	inputs       []valueInfoProto // 11
	outputs      []valueInfoProto // 12
	valueInfo    []valueInfoProto // 13
}

// nodeProto is NodeProto.
type nodeProto struct {
	inputs  []string         // 1
	outputs []string         // 2
	name    string           // 3
	opType  string           // 4
	attrs   []attributeProto // 5
	domain  string           // 7
}

// Attribute types (AttributeProto.AttributeType).
const (
	attrUndefined    = 0
	attrFloat        = 1
	attrInt          = 2
	attrString       = 3
	attrTensor       = 4
	attrGraph        = 5
	attrFloats       = 6
	attrInts         = 7
	attrStrings      = 8
	attrTensors      = 9
	attrGraphs       = 10
	attrSparseTensor = 11
	attrSparseTensrs = 12
	attrTypeProto    = 13
	attrTypeProtos   = 14
)

// attributeProto is AttributeProto. Subgraphs, tensor lists, sparse
// tensors and type protos are only noted (the op that would read them is
// unsupported anyway), never decoded.
type attributeProto struct {
	name    string       // 1
	f       float32      // 2
	i       int64        // 3
	s       []byte       // 4
	t       *tensorProto // 5
	floats  []float32    // 7
	ints    []int64      // 8
	strings [][]byte     // 9
	refAttr string       // 21
	typ     int64        // 20
	set     uint32       // bit 1<<t: the value field of attribute type t was present
}

// tensorProto is TensorProto.
type tensorProto struct {
	dims       []int64   // 1
	dataType   int32     // 2
	segment    bool      // 3 (rejected)
	floatData  []float32 // 4
	int32Data  []int64   // 5 (int32 values, varint-encoded)
	strings    int       // 6 (string_data: rejected)
	int64Data  []int64   // 7
	name       string    // 8
	rawData    []byte    // 9
	hasRaw     bool
	doubleData []float64 // 10
	uint64Data []int64   // 11 (uint64 values as their bits)
	external   bool      // 13 external_data present, or 14 data_location = EXTERNAL
}

// valueInfoProto is ValueInfoProto with its TypeProto.Tensor.
type valueInfoProto struct {
	name     string // 1
	hasType  bool   // 2
	tensor   bool   // TypeProto.tensor_type (1) present
	elemType int32  // TypeProto.Tensor.elem_type
	hasShape bool   // TypeProto.Tensor.shape present
	shape    []dimProto
}

// dimProto is TensorShapeProto.Dimension: a value, a symbolic name, or
// neither (unknown).
type dimProto struct {
	value    int64
	hasValue bool
	param    string
}

// decodeModel decodes a ModelProto.
func decodeModel(b []byte) (*modelProto, error) {
	m := &modelProto{}
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			m.irVersion, err = f.int64()
		case 2:
			m.producerName, err = f.str()
		case 3:
			m.producerVersion, err = f.str()
		case 7:
			var gb []byte
			if gb, err = f.bytes(); err == nil {
				if m.graph != nil {
					return fmt.Errorf("%w: two graphs", ErrFormat)
				}
				m.graph, err = decodeGraph(gb)
			}
		case 8:
			var ob []byte
			if ob, err = f.bytes(); err == nil {
				var o opsetProto
				o, err = decodeOpset(ob)
				m.opsets = append(m.opsets, o)
			}
		case 20:
			m.trainingInfo++
		case 25:
			m.functions++
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func decodeOpset(b []byte) (opsetProto, error) {
	var o opsetProto
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			o.domain, err = f.str()
		case 2:
			o.version, err = f.int64()
		}
		return err
	})
	return o, err
}

func decodeGraph(b []byte) (*graphProto, error) {
	g := &graphProto{}
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			var nb []byte
			if nb, err = f.bytes(); err == nil {
				var n nodeProto
				n, err = decodeNode(nb)
				g.nodes = append(g.nodes, n)
			}
		case 2:
			g.name, err = f.str()
		case 5:
			var tb []byte
			if tb, err = f.bytes(); err == nil {
				var t tensorProto
				t, err = decodeTensor(tb)
				g.initializers = append(g.initializers, t)
			}
		case 11, 12, 13:
			var vb []byte
			if vb, err = f.bytes(); err == nil {
				var v valueInfoProto
				v, err = decodeValueInfo(vb)
				switch f.num {
				case 11:
					g.inputs = append(g.inputs, v)
				case 12:
					g.outputs = append(g.outputs, v)
				default:
					g.valueInfo = append(g.valueInfo, v)
				}
			}
		case 15:
			g.sparse++
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func decodeNode(b []byte) (nodeProto, error) {
	var n nodeProto
	err := eachField(b, func(f field) error {
		var err error
		var s string
		switch f.num {
		case 1:
			if s, err = f.str(); err == nil {
				n.inputs = append(n.inputs, s)
			}
		case 2:
			if s, err = f.str(); err == nil {
				n.outputs = append(n.outputs, s)
			}
		case 3:
			n.name, err = f.str()
		case 4:
			n.opType, err = f.str()
		case 5:
			var ab []byte
			if ab, err = f.bytes(); err == nil {
				var a attributeProto
				a, err = decodeAttribute(ab)
				n.attrs = append(n.attrs, a)
			}
		case 7:
			n.domain, err = f.str()
		}
		return err
	})
	return n, err
}

func decodeAttribute(b []byte) (attributeProto, error) {
	var a attributeProto
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			a.name, err = f.str()
		case 2:
			a.f, err = f.float32()
			a.set |= 1 << attrFloat
		case 3:
			a.i, err = f.int64()
			a.set |= 1 << attrInt
		case 4:
			a.s, err = f.bytes()
			a.set |= 1 << attrString
		case 5:
			var tb []byte
			if tb, err = f.bytes(); err == nil {
				var t tensorProto
				t, err = decodeTensor(tb)
				a.t = &t
			}
			a.set |= 1 << attrTensor
		case 6:
			a.set |= 1 << attrGraph
		case 7:
			a.floats, err = appendFloats(a.floats, f)
			a.set |= 1 << attrFloats
		case 8:
			a.ints, err = appendVarints(a.ints, f)
			a.set |= 1 << attrInts
		case 9:
			var sb []byte
			if sb, err = f.bytes(); err == nil {
				a.strings = append(a.strings, sb)
			}
			a.set |= 1 << attrStrings
		case 10:
			a.set |= 1 << attrTensors
		case 11:
			a.set |= 1 << attrGraphs
		case 20:
			a.typ, err = f.int64()
		case 21:
			a.refAttr, err = f.str()
		case 22:
			a.set |= 1 << attrSparseTensor
		case 23:
			a.set |= 1 << attrSparseTensrs
		case 14:
			a.set |= 1 << attrTypeProto
		case 15:
			a.set |= 1 << attrTypeProtos
		}
		return err
	})
	return a, err
}

func decodeTensor(b []byte) (tensorProto, error) {
	var t tensorProto
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			t.dims, err = appendVarints(t.dims, f)
		case 2:
			t.dataType, err = f.int32()
		case 3:
			t.segment = true
		case 4:
			t.floatData, err = appendFloats(t.floatData, f)
		case 5:
			t.int32Data, err = appendVarints(t.int32Data, f)
		case 6:
			t.strings++
		case 7:
			t.int64Data, err = appendVarints(t.int64Data, f)
		case 8:
			t.name, err = f.str()
		case 9:
			t.rawData, err = f.bytes()
			t.hasRaw = true
		case 10:
			t.doubleData, err = appendDoubles(t.doubleData, f)
		case 11:
			t.uint64Data, err = appendVarints(t.uint64Data, f)
		case 13:
			t.external = true
		case 14:
			var loc int64
			if loc, err = f.int64(); err == nil && loc != 0 {
				t.external = true
			}
		}
		return err
	})
	return t, err
}

func decodeValueInfo(b []byte) (valueInfoProto, error) {
	var v valueInfoProto
	err := eachField(b, func(f field) error {
		var err error
		switch f.num {
		case 1:
			v.name, err = f.str()
		case 2:
			var tb []byte
			if tb, err = f.bytes(); err == nil {
				v.hasType = true
				err = decodeType(tb, &v)
			}
		}
		return err
	})
	return v, err
}

// decodeType reads a TypeProto: only tensor types are decoded; sequence,
// map and optional types leave v.tensor false.
func decodeType(b []byte, v *valueInfoProto) error {
	return eachField(b, func(f field) error {
		if f.num != 1 {
			return nil
		}
		tb, err := f.bytes()
		if err != nil {
			return err
		}
		v.tensor = true
		return eachField(tb, func(f field) error {
			var err error
			switch f.num {
			case 1:
				v.elemType, err = f.int32()
			case 2:
				var sb []byte
				if sb, err = f.bytes(); err == nil {
					v.hasShape = true
					v.shape, err = decodeShape(sb)
				}
			}
			return err
		})
	})
}

func decodeShape(b []byte) ([]dimProto, error) {
	var dims []dimProto
	err := eachField(b, func(f field) error {
		if f.num != 1 {
			return nil
		}
		db, err := f.bytes()
		if err != nil {
			return err
		}
		var d dimProto
		err = eachField(db, func(f field) error {
			var err error
			switch f.num {
			case 1:
				d.value, err = f.int64()
				d.hasValue = true
			case 2:
				d.param, err = f.str()
			}
			return err
		})
		if err != nil {
			return err
		}
		if len(dims) >= maxRank {
			return fmt.Errorf("%w: shape of rank over %d", ErrLimit, maxRank)
		}
		dims = append(dims, d)
		return nil
	})
	return dims, err
}

// Limits on what a model may declare; they bound allocations before any
// tensor is built.
const (
	// maxRank is the highest tensor rank accepted.
	maxRank = 8
	// maxElements bounds one tensor (the kernels' own bound, 2²⁶).
	maxElements = 1 << 26
	// maxFileSize bounds a model file.
	maxFileSize = 1 << 30
)

// elements returns the number of elements of a tensor with the given
// dimensions, or an [ErrLimit] / [ErrFormat] when a dimension is negative,
// the rank is too high or the product overflows or exceeds maxElements.
func elements(dims []int64) (int, error) {
	if len(dims) > maxRank {
		return 0, fmt.Errorf("%w: rank %d over %d", ErrLimit, len(dims), maxRank)
	}
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("%w: negative dimension in %v", ErrFormat, dims)
		}
		if d > 0 && n > math.MaxInt64/d {
			return 0, fmt.Errorf("%w: dimensions %v overflow", ErrLimit, dims)
		}
		n *= d
		if n > maxElements {
			return 0, fmt.Errorf("%w: dimensions %v: over %d elements", ErrLimit, dims, maxElements)
		}
	}
	return int(n), nil
}
