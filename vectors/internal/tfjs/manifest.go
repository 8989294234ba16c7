package tfjs

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strconv"

	"github.com/facesign/facesign/vectors/internal/graph"
	"github.com/facesign/facesign/vectors/internal/nn"
)

// modelJSON is the subset of a tfjs graph-model model.json this package
// reads: the converted TensorFlow GraphDef and the weights manifest.
type modelJSON struct {
	Format          string           `json:"format"`
	ModelTopology   *graphDef        `json:"modelTopology"`
	WeightsManifest []weightGroup    `json:"weightsManifest"`
	Signature       *signatureDef    `json:"signature"`
	UserMetadata    *json.RawMessage `json:"userDefinedMetadata"`
}

type graphDef struct {
	Node []nodeDef `json:"node"`
}

type nodeDef struct {
	Name  string               `json:"name"`
	Op    string               `json:"op"`
	Input []string             `json:"input"`
	Attr  map[string]attrValue `json:"attr"`
}

type signatureDef struct {
	Inputs  map[string]tensorInfo `json:"inputs"`
	Outputs map[string]tensorInfo `json:"outputs"`
}

type tensorInfo struct {
	Name string `json:"name"`
}

// attrValue mirrors TensorFlow's AttrValue in its proto3 JSON form: 64-bit
// integers arrive as strings, byte strings as base64.
type attrValue struct {
	S      *string          `json:"s"`
	I      *flexInt         `json:"i"`
	F      *flexFloat       `json:"f"`
	B      *bool            `json:"b"`
	Type   string           `json:"type"`
	Shape  *shapeProto      `json:"shape"`
	List   *attrList        `json:"list"`
	Tensor *json.RawMessage `json:"tensor"`
}

// typed converts a's value into the executor's typed attribute: strings
// and string lists are base64-decoded, an empty list is an empty integer
// list. Type, shape and tensor attributes are not op attributes here
// (the converter reads shape and tensor itself) and report ok = false.
func (a attrValue) typed() (v graph.Attr, ok bool, err error) {
	switch {
	case a.S != nil:
		b, err := base64.StdEncoding.DecodeString(*a.S)
		if err != nil {
			return v, false, err
		}
		return graph.String(string(b)), true, nil
	case a.I != nil:
		return graph.Int(int(*a.I)), true, nil
	case a.F != nil:
		return graph.Float(float32(*a.F)), true, nil
	case a.B != nil:
		return graph.Bool(*a.B), true, nil
	case a.List != nil:
		l := a.List
		switch {
		case len(l.S) > 0:
			out := make([]string, len(l.S))
			for i, s := range l.S {
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return v, false, err
				}
				out[i] = string(b)
			}
			return graph.Strings(out...), true, nil
		case len(l.F) > 0:
			out := make([]float32, len(l.F))
			for i, f := range l.F {
				out[i] = float32(f)
			}
			return graph.Floats(out...), true, nil
		}
		out := make([]int, len(l.I))
		for i, x := range l.I {
			out[i] = int(x)
		}
		return graph.Ints(out...), true, nil
	}
	return v, false, nil
}

type attrList struct {
	S []string    `json:"s"`
	I []flexInt   `json:"i"`
	F []flexFloat `json:"f"`
}

type shapeProto struct {
	Dim []struct {
		Size flexInt `json:"size"`
	} `json:"dim"`
	UnknownRank bool `json:"unknownRank"`
}

// flexInt accepts a JSON number or a decimal string.
type flexInt int64

func (v *flexInt) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("integer %s: %w", b, err)
	}
	*v = flexInt(n)
	return nil
}

// flexFloat accepts a JSON number or a string ("NaN", "Infinity", digits).
type flexFloat float64

func (v *flexFloat) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("number %s: %w", b, err)
	}
	*v = flexFloat(n)
	return nil
}

type weightGroup struct {
	Paths   []string     `json:"paths"`
	Weights []weightSpec `json:"weights"`
}

type weightSpec struct {
	Name         string        `json:"name"`
	Shape        []int         `json:"shape"`
	Dtype        string        `json:"dtype"`
	Quantization *quantization `json:"quantization"`
}

type quantization struct {
	Dtype string   `json:"dtype"`
	Scale *float64 `json:"scale"`
	Min   *float64 `json:"min"`
}

// maxInlineElements bounds a constant written inline in the graph, whose
// size costs the file nothing (one value may fill any shape).
const maxInlineElements = 1 << 16

// maxWeightBytes bounds the weight data read for one model.
const maxWeightBytes = 1 << 30

// loadWeights reads every group's shard files from fsys (paths relative to
// dir) and decodes each weight the way tfjs's decodeWeights does.
func loadWeights(fsys fs.FS, dir string, groups []weightGroup) (map[string]graph.Value, error) {
	out := make(map[string]graph.Value)
	total := 0
	for gi, g := range groups {
		var buf []byte
		for _, p := range g.Paths {
			if !fs.ValidPath(path.Join(dir, p)) || path.IsAbs(p) {
				return nil, fmt.Errorf("%w: weight path %q", ErrFormat, p)
			}
			b, err := fs.ReadFile(fsys, path.Join(dir, p))
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrWeights, err)
			}
			total += len(b)
			if total > maxWeightBytes {
				return nil, fmt.Errorf("%w: more than %d bytes of weights", ErrWeights, maxWeightBytes)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, w := range g.Weights {
			v, n, err := decodeWeight(w, buf[off:])
			if err != nil {
				return nil, fmt.Errorf("%w: group %d weight %q: %w", ErrWeights, gi, w.Name, err)
			}
			if _, dup := out[w.Name]; dup {
				return nil, fmt.Errorf("%w: weight %q listed twice", ErrFormat, w.Name)
			}
			out[w.Name] = v
			off += n
		}
		if off != len(buf) {
			return nil, fmt.Errorf("%w: group %d has %d bytes, manifest describes %d", ErrWeights, gi, len(buf), off)
		}
	}
	return out, nil
}

// decodeWeight decodes one weight from the front of b and returns how many
// bytes it used.
func decodeWeight(w weightSpec, b []byte) (graph.Value, int, error) {
	n, err := nn.CheckShape(w.Shape)
	if err != nil {
		return graph.Value{}, 0, err
	}
	if w.Dtype != "float32" && w.Dtype != "int32" {
		return graph.Value{}, 0, fmt.Errorf("unsupported dtype %q", w.Dtype)
	}
	// elems holds the decoded numbers in float64 before the final rounding
	// to the weight's dtype, exactly as the JavaScript arithmetic does.
	var get func(i int) float64
	size := 4
	if q := w.Quantization; q != nil {
		switch q.Dtype {
		case "uint8", "uint16":
			if q.Scale == nil || q.Min == nil {
				return graph.Value{}, 0, fmt.Errorf("%s quantization without scale and min", q.Dtype)
			}
			scale, lo := *q.Scale, *q.Min
			if q.Dtype == "uint8" {
				size = 1
				get = func(i int) float64 { return float64(b[i])*scale + lo }
			} else {
				size = 2
				get = func(i int) float64 { return float64(binary.LittleEndian.Uint16(b[2*i:]))*scale + lo }
			}
		case "float16":
			if w.Dtype != "float32" {
				return graph.Value{}, 0, fmt.Errorf("float16 quantization of %s", w.Dtype)
			}
			size = 2
			get = func(i int) float64 { return float64(halfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))) }
		default:
			return graph.Value{}, 0, fmt.Errorf("unsupported quantization %q", q.Dtype)
		}
	} else if w.Dtype == "float32" {
		get = func(i int) float64 { return float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))) }
	} else {
		get = func(i int) float64 { return float64(int32(binary.LittleEndian.Uint32(b[4*i:]))) }
	}
	if n > len(b)/size {
		return graph.Value{}, 0, fmt.Errorf("needs %d bytes, %d left", n*size, len(b))
	}
	if w.Dtype == "int32" {
		t := &graph.IntTensor{Shape: append([]int(nil), w.Shape...), Data: make([]int32, n)}
		for i := range t.Data {
			f := get(i)
			if w.Quantization != nil {
				f = math.Round(f)
			}
			t.Data[i] = int32(f)
		}
		return graph.Value{Int: t}, n * size, nil
	}
	t := nn.New(w.Shape...)
	for i := range t.Data {
		t.Data[i] = float32(get(i))
	}
	return graph.Value{Float: t}, n * size, nil
}

// halfToFloat32 converts an IEEE 754 binary16 value exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant · 2⁻²⁴
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 0x1f:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// constTensor decodes a Const node's value carried inline in its attr
// (small scalars some converters leave in the graph instead of the
// manifest).
func constTensor(raw json.RawMessage) (graph.Value, error) {
	var t struct {
		Dtype       string     `json:"dtype"`
		TensorShape shapeProto `json:"tensorShape"`
		FloatVal    []flexFloat
		IntVal      []flexInt
		Content     string `json:"tensorContent"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return graph.Value{}, err
	}
	shape := make([]int, len(t.TensorShape.Dim))
	for i, d := range t.TensorShape.Dim {
		shape[i] = int(d.Size)
	}
	n, err := nn.CheckShape(shape)
	if err != nil {
		return graph.Value{}, err
	}
	if n > maxInlineElements {
		return graph.Value{}, fmt.Errorf("inline constant of %d elements", n)
	}
	content, err := base64.StdEncoding.DecodeString(t.Content)
	if err != nil {
		return graph.Value{}, err
	}
	switch t.Dtype {
	case "DT_FLOAT":
		out := nn.New(shape...)
		for i := range out.Data {
			switch {
			case len(content) >= 4*n:
				out.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(content[4*i:]))
			case len(t.FloatVal) > 0:
				out.Data[i] = float32(t.FloatVal[min(i, len(t.FloatVal)-1)])
			}
		}
		return graph.Value{Float: out}, nil
	case "DT_INT32":
		out := &graph.IntTensor{Shape: shape, Data: make([]int32, n)}
		for i := range out.Data {
			switch {
			case len(content) >= 4*n:
				out.Data[i] = int32(binary.LittleEndian.Uint32(content[4*i:]))
			case len(t.IntVal) > 0:
				out.Data[i] = int32(t.IntVal[min(i, len(t.IntVal)-1)])
			}
		}
		return graph.Value{Int: out}, nil
	}
	return graph.Value{}, fmt.Errorf("inline constant of type %s", t.Dtype)
}
