package onnx

import (
	"fmt"
	"math"
	"slices"

	"github.com/facesign/facesign/vectors/internal/graph"
)

// Convolution, normalisation, dense layers and pooling.

func convOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	a, err := newAttrs(name, n, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides")
	if err != nil {
		return err
	}
	if err := t.arity(name, n, 2, 3); err != nil {
		return err
	}
	x, wv, bv := t.in(n, 0), t.in(n, 1), t.in(n, 2)
	if len(x.shape) != 4 {
		return a.errorf("input of rank %d (only 2-D convolutions, rank 4)", len(x.shape))
	}
	w, err := constFloat(name, wv, "the weights")
	if err != nil {
		return err
	}
	if len(w.shape) != 4 {
		return fmt.Errorf("%w: node %q: weights of shape %v", ErrShape, name, w.shape)
	}
	group, err := a.int("group", 1)
	if err != nil {
		return err
	}
	c, m, kh, kw := x.shape[1], w.shape[0], w.shape[2], w.shape[3]
	if group < 1 || c%group != 0 || m%group != 0 || w.shape[1]*group != c || m == 0 || kh == 0 || kw == 0 {
		return fmt.Errorf("%w: node %q: weights %v for input %v with group %d", ErrShape, name, w.shape, x.shape, group)
	}
	if ks, err := a.ints("kernel_shape"); err != nil {
		return err
	} else if ks != nil && !slices.Equal(ks, []int{kh, kw}) {
		return fmt.Errorf("%w: node %q: kernel_shape %v for weights %v", ErrShape, name, ks, w.shape)
	}
	wd, err := resolveWindow(a, x.shape[2], x.shape[3], kh, kw, false)
	if err != nil {
		return err
	}
	wdata := w.f
	var bias []float32
	if bv != nil {
		b, err := constFloat(name, bv, "the bias")
		if err != nil {
			return err
		}
		if len(b.f) != m {
			return fmt.Errorf("%w: node %q: bias of shape %v for %d channels", ErrShape, name, b.shape, m)
		}
		bias = b.f
	}
	if bn, ok := t.foldBN[i]; ok {
		s, shift, err := t.bnFold(&g.nodes[bn], m)
		if err != nil {
			return err
		}
		per := len(wdata) / m
		folded := make([]float32, len(wdata))
		for o := range m {
			for k := range per {
				folded[o*per+k] = float32(float64(wdata[o*per+k]) * s[o])
			}
		}
		wdata = folded
		bias = foldBias(bias, s, shift)
	}
	var filter []float32
	var fshape []int
	op := "Conv2D"
	switch {
	case group == 1:
		filter, fshape = permute(wdata, w.shape, []int{2, 3, 1, 0}) // OIHW → HWIO
	case group == c && w.shape[1] == 1:
		op = "DepthwiseConv2dNative"
		filter, fshape = permute(wdata, []int{c, m / c, kh, kw}, []int{2, 3, 0, 1}) // → [kh, kw, c, multiplier]
	default:
		return a.errorf("grouped convolution with group %d (only 1 or the %d input channels)", group, c)
	}
	xin, err := t.get(n.inputs[0], x, nhwcLayout)
	if err != nil {
		return err
	}
	node := graph.Node{Name: n.outputs[0], Op: op, Attrs: wd.irAttrs(),
		Inputs: []string{xin, t.constF(n.inputs[1]+"/filter", fshape, filter)}}
	var fused []string
	if bias != nil {
		fused = append(fused, "BiasAdd")
		node.Inputs = append(node.Inputs, t.constF(name+"/bias", []int{m}, bias))
	}
	if t.fuseRelu[i] {
		fused = append(fused, "Relu")
	}
	if len(fused) > 0 {
		node.Op = map[string]string{"Conv2D": "_FusedConv2D", "DepthwiseConv2dNative": "FusedDepthwiseConv2dNative"}[op]
		node.Attrs["fused_ops"] = graph.Strings(fused...)
		node.Attrs["num_args"] = graph.Int(len(node.Inputs) - 2)
	}
	t.computed(n.outputs[0], []int{x.shape[0], m, wd.oh, wd.ow}, nhwcLayout, t.add(node))
	return nil
}

// foldBias returns (bias − mean)·s + beta per channel: shift holds
// −mean·s + beta, so the result is bias·s + shift.
func foldBias(bias []float32, s, shift []float64) []float32 {
	out := make([]float32, len(s))
	for o := range s {
		var b float64
		if bias != nil {
			b = float64(bias[o])
		}
		out[o] = float32(b*s[o] + shift[o])
	}
	return out
}

// bnParams validates a BatchNormalization node (inference mode, constant
// parameters of c values each) and returns its scale, bias, mean,
// variance and epsilon.
func (t *translator) bnParams(n *nodeProto, c int) (scale, bias, mean, variance []float32, eps float32, err error) {
	name := nodeName(n)
	allowed := []string{"epsilon", "momentum"}
	if t.opset < 9 {
		allowed = append(allowed, "spatial")
	}
	if t.opset >= 14 {
		allowed = append(allowed, "training_mode")
	}
	a, err := newAttrs(name, n, allowed...)
	if err != nil {
		return
	}
	if err = t.arity(name, n, 5, 5); err != nil {
		return
	}
	if eps, err = a.float("epsilon", 1e-5); err != nil {
		return
	}
	if !(eps >= 0) {
		err = a.errorf("epsilon %v", eps)
		return
	}
	if sp, e := a.int("spatial", 1); e != nil || sp != 1 {
		err = a.errorf("spatial must be 1")
		return
	}
	if tm, e := a.int("training_mode", 0); e != nil || tm != 0 {
		err = a.errorf("training mode")
		return
	}
	params := make([][]float32, 4)
	for k, what := range []string{"scale", "bias", "mean", "variance"} {
		p, e := constFloat(name, t.in(n, k+1), what)
		if e != nil {
			err = e
			return
		}
		if len(p.shape) != 1 || p.shape[0] != c {
			err = fmt.Errorf("%w: node %q: %s of shape %v for %d channels", ErrShape, name, what, p.shape, c)
			return
		}
		params[k] = p.f
	}
	for k, v := range params[3] {
		if !(float64(v)+float64(eps) > 0) {
			err = a.errorf("variance %v + epsilon at channel %d is not positive", v, k)
			return
		}
	}
	return params[0], params[1], params[2], params[3], eps, nil
}

// bnFold returns the per-channel factor s = scale/sqrt(var+eps) and
// shift = bias − mean·s of a BatchNormalization folded into the weights
// before it (computed in float64).
func (t *translator) bnFold(n *nodeProto, c int) (s, shift []float64, err error) {
	scale, bias, mean, variance, eps, err := t.bnParams(n, c)
	if err != nil {
		return nil, nil, err
	}
	s = make([]float64, c)
	shift = make([]float64, c)
	for k := range c {
		s[k] = float64(scale[k]) / math.Sqrt(float64(variance[k])+float64(eps))
		shift[k] = float64(bias[k]) - float64(mean[k])*s[k]
		if math.IsInf(s[k], 0) || math.IsNaN(s[k]) || math.IsInf(shift[k], 0) || math.IsNaN(shift[k]) {
			return nil, nil, fmt.Errorf("%w: node %q: batch norm factor at channel %d is not finite", ErrAttribute, nodeName(n), k)
		}
	}
	return s, shift, nil
}

func batchNormOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	x := t.in(n, 0)
	if x == nil || len(x.shape) < 2 {
		return fmt.Errorf("%w: node %q: batch norm input needs a channel axis", ErrShape, name)
	}
	c := x.shape[1]
	scale, bias, mean, variance, eps, err := t.bnParams(n, c)
	if err != nil {
		return err
	}
	var layout int
	switch len(x.shape) {
	case 4:
		layout = nhwcLayout
	case 2:
		layout = onnxLayout // [N, C]: the channel is the last axis already
	default:
		return fmt.Errorf("%w: node %q: batch norm of rank %d (only 2 or 4)", ErrAttribute, name, len(x.shape))
	}
	xin, err := t.get(n.inputs[0], x, layout)
	if err != nil {
		return err
	}
	ir := t.add(graph.Node{Name: n.outputs[0], Op: "FusedBatchNorm",
		Attrs: map[string]graph.Attr{"epsilon": graph.Float(eps)},
		Inputs: []string{xin,
			t.constF(name+"/scale", []int{c}, scale), t.constF(name+"/offset", []int{c}, bias),
			t.constF(name+"/mean", []int{c}, mean), t.constF(name+"/variance", []int{c}, variance)}})
	t.computed(n.outputs[0], slices.Clone(x.shape), layout, ir)
	return nil
}

func gemmOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	a, err := newAttrs(name, n, "alpha", "beta", "transA", "transB")
	if err != nil {
		return err
	}
	minIn := 3
	if t.opset >= 11 {
		minIn = 2
	}
	if err := t.arity(name, n, minIn, 3); err != nil {
		return err
	}
	alpha, err1 := a.float("alpha", 1)
	beta, err2 := a.float("beta", 1)
	ta, err3 := a.int("transA", 0)
	tb, err4 := a.int("transB", 0)
	for _, e := range []error{err1, err2, err3, err4} {
		if e != nil {
			return e
		}
	}
	if ta != 0 && ta != 1 || tb != 0 && tb != 1 {
		return a.errorf("transA %d, transB %d", ta, tb)
	}
	av, bv, cv := t.in(n, 0), t.in(n, 1), t.in(n, 2)
	if len(av.shape) != 2 || len(bv.shape) != 2 {
		return fmt.Errorf("%w: node %q: Gemm of %v and %v (rank 2 each)", ErrShape, name, av.shape, bv.shape)
	}
	m, k := av.shape[0], av.shape[1]
	if ta == 1 {
		m, k = k, m
	}
	k2, nn := bv.shape[0], bv.shape[1]
	if tb == 1 {
		k2, nn = nn, k2
	}
	if k != k2 {
		return fmt.Errorf("%w: node %q: Gemm of %v and %v", ErrShape, name, av.shape, bv.shape)
	}
	if cv != nil {
		if out, ok := broadcast([]int{m, nn}, cv.shape); !ok || !slices.Equal(out, []int{m, nn}) {
			return fmt.Errorf("%w: node %q: C of shape %v for output [%d %d]", ErrShape, name, cv.shape, m, nn)
		}
	}
	ain, err := t.get(n.inputs[0], av, onnxLayout)
	if err != nil {
		return err
	}
	node := graph.Node{Name: n.outputs[0], Op: "MatMul", Attrs: map[string]graph.Attr{"transpose_a": graph.Bool(ta == 1), "transpose_b": graph.Bool(false)}}
	if bv.c == nil {
		// Both operands computed: MatMul, then alpha and C as their own ops.
		if _, folding := t.foldBN[i]; folding {
			return a.errorf("batch norm folding into a computed matrix")
		}
		bin, err := t.get(n.inputs[1], bv, onnxLayout)
		if err != nil {
			return err
		}
		node.Attrs["transpose_b"] = graph.Bool(tb == 1)
		node.Inputs = []string{ain, bin}
		out := t.add(node)
		if alpha != 1 {
			out = t.add(graph.Node{Name: name + "/alpha", Op: "Mul", Inputs: []string{out, t.constF(name+"/alpha", []int{}, []float32{alpha})}})
		}
		if cv != nil && beta != 0 {
			cin, err := t.operand(n.inputs[2], cv, 2, onnxLayout)
			if err != nil {
				return err
			}
			if beta != 1 {
				cin = t.add(graph.Node{Name: name + "/beta", Op: "Mul", Inputs: []string{cin, t.constF(name+"/beta", []int{}, []float32{beta})}})
			}
			out = t.add(graph.Node{Name: name + "/c", Op: "Add", Inputs: []string{out, cin}})
		}
		t.computed(n.outputs[0], []int{m, nn}, onnxLayout, out)
		return nil
	}
	b, err := constFloat(name, bv, "B")
	if err != nil {
		return err
	}
	bdata := b.f
	if tb == 1 {
		bdata, _ = permute(bdata, b.shape, []int{1, 0})
	}
	if alpha != 1 {
		scaled := make([]float32, len(bdata))
		for k, v := range bdata {
			scaled[k] = alpha * v
		}
		bdata = scaled
	}
	// C: a bias per column when every row of the broadcast C is equal.
	var bias, cfull []float32
	if cv != nil && beta != 0 {
		c, err := constFloat(name, cv, "C")
		if err != nil {
			return err
		}
		cfull = broadcastTo(c.f, c.shape, []int{m, nn})
		if beta != 1 {
			cfull = slices.Clone(cfull)
			for k := range cfull {
				cfull[k] *= beta
			}
		}
		if m == 1 || len(c.shape) < 2 || c.shape[0] == 1 {
			bias, cfull = cfull[:nn], nil
		}
	}
	if bn, ok := t.foldBN[i]; ok {
		if cfull != nil {
			return a.errorf("batch norm folding with a C of several rows")
		}
		s, shift, err := t.bnFold(&g.nodes[bn], nn)
		if err != nil {
			return err
		}
		folded := make([]float32, len(bdata))
		for r := range k {
			for col := range nn {
				folded[r*nn+col] = float32(float64(bdata[r*nn+col]) * s[col])
			}
		}
		bdata = folded
		bias = foldBias(bias, s, shift)
	}
	node.Inputs = []string{ain, t.constF(n.inputs[1]+"/kn", []int{k, nn}, bdata)}
	if bias != nil {
		node.Op = "_FusedMatMul"
		node.Attrs["fused_ops"] = graph.Strings("BiasAdd")
		node.Attrs["num_args"] = graph.Int(1)
		node.Inputs = append(node.Inputs, t.constF(name+"/bias", []int{nn}, bias))
	}
	out := t.add(node)
	if cfull != nil {
		out = t.add(graph.Node{Name: name + "/c", Op: "Add", Inputs: []string{out, t.constF(name+"/c", []int{m, nn}, cfull)}})
	}
	t.computed(n.outputs[0], []int{m, nn}, onnxLayout, out)
	return nil
}

func matMulOp(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
	if _, err := newAttrs(name, n); err != nil {
		return err
	}
	if err := t.arity(name, n, 2, 2); err != nil {
		return err
	}
	av, bv := t.in(n, 0), t.in(n, 1)
	if len(av.shape) != 2 || len(bv.shape) != 2 || av.shape[1] != bv.shape[0] {
		return fmt.Errorf("%w: node %q: MatMul of %v and %v (only rank 2)", ErrShape, name, av.shape, bv.shape)
	}
	ain, err := t.get(n.inputs[0], av, onnxLayout)
	if err != nil {
		return err
	}
	bin, err := t.get(n.inputs[1], bv, onnxLayout)
	if err != nil {
		return err
	}
	ir := t.add(graph.Node{Name: n.outputs[0], Op: "MatMul", Inputs: []string{ain, bin}})
	t.computed(n.outputs[0], []int{av.shape[0], bv.shape[1]}, onnxLayout, ir)
	return nil
}

func globalPoolOp(op string) handler {
	return func(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
		if _, err := newAttrs(name, n); err != nil {
			return err
		}
		if err := t.arity(name, n, 1, 1); err != nil {
			return err
		}
		x := t.in(n, 0)
		if len(x.shape) != 4 {
			return fmt.Errorf("%w: node %q: global pooling of rank %d (only 4)", ErrAttribute, name, len(x.shape))
		}
		xin, err := t.get(n.inputs[0], x, nhwcLayout)
		if err != nil {
			return err
		}
		ir := t.add(graph.Node{Name: n.outputs[0], Op: op, Attrs: map[string]graph.Attr{"keep_dims": graph.Bool(true)},
			Inputs: []string{xin, t.constI(n.outputs[0]+"/axes", 1, 2)}})
		t.computed(n.outputs[0], []int{x.shape[0], x.shape[1], 1, 1}, nhwcLayout, ir)
		return nil
	}
}

// poolOp translates MaxPool and AveragePool (2-D). Padding maps onto the
// executor exactly: none → VALID; SAME-style padding → SAME (TensorFlow's
// SAME excludes padded positions, as MaxPool and AveragePool with
// count_include_pad 0 do); other padding becomes a Pad node (−∞ for
// MaxPool, 0 for AveragePool with count_include_pad 1) before a VALID
// pool. AveragePool excluding uneven padding is not supported.
func poolOp(isMax bool) handler {
	return func(t *translator, i int, name string, n *nodeProto, g *graphProto) error {
		allowed := []string{"auto_pad", "kernel_shape", "pads", "strides"}
		if t.opset >= 10 {
			allowed = append(allowed, "ceil_mode")
		}
		if isMax {
			allowed = append(allowed, "storage_order")
			if t.opset >= 10 {
				allowed = append(allowed, "dilations")
			}
		} else {
			allowed = append(allowed, "count_include_pad")
			if t.opset >= 19 {
				allowed = append(allowed, "dilations")
			}
		}
		a, err := newAttrs(name, n, allowed...)
		if err != nil {
			return err
		}
		if err := t.arity(name, n, 1, 1); err != nil {
			return err
		}
		x := t.in(n, 0)
		if len(x.shape) != 4 {
			return a.errorf("input of rank %d (only 2-D pooling, rank 4)", len(x.shape))
		}
		ks, err := a.ints("kernel_shape")
		if err != nil {
			return err
		}
		if len(ks) != 2 || ks[0] < 1 || ks[1] < 1 {
			return a.errorf("kernel_shape %v", ks)
		}
		ceil, err1 := a.int("ceil_mode", 0)
		order, err2 := a.int("storage_order", 0)
		include, err3 := a.int("count_include_pad", 0)
		for _, e := range []error{err1, err2, err3} {
			if e != nil {
				return e
			}
		}
		if ceil != 0 && ceil != 1 || order != 0 && order != 1 || include != 0 && include != 1 {
			return a.errorf("ceil_mode %d, storage_order %d, count_include_pad %d", ceil, order, include)
		}
		wd, err := resolveWindow(a, x.shape[2], x.shape[3], ks[0], ks[1], ceil == 1)
		if err != nil {
			return err
		}
		xin, err := t.get(n.inputs[0], x, nhwcLayout)
		if err != nil {
			return err
		}
		attrs := map[string]graph.Attr{
			"ksize":     graph.Ints(1, ks[0], ks[1], 1),
			"strides":   graph.Ints(1, wd.sh, wd.sw, 1),
			"dilations": graph.Ints(1, wd.dh, wd.dw, 1),
			"padding":   graph.String("VALID"),
		}
		padded := wd.pt != 0 || wd.pb != 0 || wd.pl != 0 || wd.pr != 0
		same := sameWindow(x.shape[2], ks[0], wd.sh, wd.dh, wd.pt, wd.pb, wd.oh) && sameWindow(x.shape[3], ks[1], wd.sw, wd.dw, wd.pl, wd.pr, wd.ow)
		switch {
		case !padded:
		case same && (isMax || include == 0):
			attrs["padding"] = graph.String("SAME")
		case isMax || include == 1:
			fill := float32(0)
			if isMax {
				fill = float32(math.Inf(-1))
			}
			pads := t.add(graph.Node{Name: n.outputs[0] + "/pads", Op: "Const", Value: graph.Value{Int: &graph.IntTensor{
				Shape: []int{4, 2}, Data: []int32{0, 0, int32(wd.pt), int32(wd.pb), int32(wd.pl), int32(wd.pr), 0, 0}}}})
			xin = t.add(graph.Node{Name: n.outputs[0] + "/pad", Op: "PadV2", Inputs: []string{xin, pads, t.constF(n.outputs[0]+"/fill", []int{}, []float32{fill})}})
		default:
			return a.errorf("average pooling that excludes padding %v other than SAME's", []int{wd.pt, wd.pl, wd.pb, wd.pr})
		}
		op := "AvgPool"
		if isMax {
			op = "MaxPool"
		}
		ir := t.add(graph.Node{Name: n.outputs[0], Op: op, Attrs: attrs, Inputs: []string{xin}})
		t.computed(n.outputs[0], []int{x.shape[0], x.shape[1], wd.oh, wd.ow}, nhwcLayout, ir)
		return nil
	}
}

// sameWindow reports whether explicit padding equals what TensorFlow's
// SAME gives for this axis (out = ceil(in/stride), the odd pixel after).
func sameWindow(in, k, s, d, before, after, out int) bool {
	o := (in + s - 1) / s
	total := max((o-1)*s+(k-1)*d+1-in, 0)
	return o == out && before == total/2 && after == total-total/2
}
