package graph

import "maps"

// isConst reports whether node j is a Const holding a value.
func isConst(defs []Node, j int) bool { return defs[j].Op == "Const" }

// fusePads folds a zero Pad of the spatial axes into the convolution that
// is its only reader: the convolution gets explicit padding and reads the
// Pad's input directly. Converted models (MXNet and PyTorch exports
// especially) pad explicitly before VALID convolutions; folding saves a
// full copy of the feature map per layer and gives identical numbers, since
// the padded positions are zeros either way. It rewrites defs and ins in
// place and returns the Pad nodes that no longer run.
func fusePads(defs []Node, ins [][]int, consumers []int) map[int]bool {
	elided := map[int]bool{}
	for i := range defs {
		d := &defs[i]
		switch d.Op {
		case "Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative":
		default:
			continue
		}
		if len(ins[i]) == 0 {
			continue
		}
		j := ins[i][0]
		p := &defs[j]
		if p.Op != "Pad" || consumers[j] != 1 || len(ins[j]) != 2 {
			continue
		}
		pj := ins[j][1]
		pads := defs[pj].Value
		if !isConst(defs, pj) || pads.Int == nil || len(pads.Int.Data) != 8 {
			continue
		}
		q := pads.Int.Data
		if q[0] != 0 || q[1] != 0 || q[6] != 0 || q[7] != 0 || q[2] < 0 || q[3] < 0 || q[4] < 0 || q[5] < 0 {
			continue
		}
		a := &attrs{n: d}
		mode := a.str("padding", "")
		var e []int
		switch mode {
		case "VALID":
			e = make([]int, 8)
		case "EXPLICIT":
			if e = a.ints("explicit_paddings"); len(e) != 8 {
				continue
			}
		default:
			continue
		}
		if a.err != nil {
			continue
		}
		attr := maps.Clone(d.Attrs)
		if attr == nil {
			attr = map[string]Attr{}
		}
		attr["padding"] = String("EXPLICIT")
		attr["explicit_paddings"] = Ints(0, 0, e[2]+int(q[2]), e[3]+int(q[3]), e[4]+int(q[4]), e[5]+int(q[5]), 0, 0)
		d.Attrs = attr
		ins[i] = append([]int{ins[j][0]}, ins[i][1:]...)
		elided[j] = true
		consumers[j] = 0
	}
	return elided
}

// fusePReLUs recognises PReLU spelled out as max(0, x) + γ·min(0, x) — how
// MXNet exports reach tfjs — and turns the Add into one Prelu(x, γ) node;
// the Maximum, Minimum and Mul no longer run. For every x the two forms
// give the same float: 0 + γ·x = γ·x and x + γ·0 = x. It rewrites defs and
// ins in place and adds the elided nodes to elided.
func fusePReLUs(defs []Node, ins [][]int, consumers []int, elided map[int]bool) {
	isZero := func(j int) bool {
		v := defs[j].Value
		return isConst(defs, j) && v.Float != nil && len(v.Float.Data) == 1 && v.Float.Data[0] == 0
	}
	// other returns the input of the two-input node j that is not a zero
	// scalar constant, or -1.
	other := func(j int) int {
		if len(ins[j]) != 2 {
			return -1
		}
		switch a, b := ins[j][0], ins[j][1]; {
		case isZero(a) && !isZero(b):
			return b
		case isZero(b) && !isZero(a):
			return a
		}
		return -1
	}
	single := func(j int, op string) bool { return defs[j].Op == op && consumers[j] == 1 && !elided[j] }
	for i := range defs {
		if (defs[i].Op != "Add" && defs[i].Op != "AddV2") || len(ins[i]) != 2 {
			continue
		}
		for _, order := range [2][2]int{{0, 1}, {1, 0}} {
			mx, mul := ins[i][order[0]], ins[i][order[1]]
			if !single(mx, "Maximum") || !single(mul, "Mul") || len(ins[mul]) != 2 {
				continue
			}
			x := other(mx)
			if x < 0 {
				continue
			}
			var mn, gamma int
			switch a, b := ins[mul][0], ins[mul][1]; {
			case single(a, "Minimum"):
				mn, gamma = a, b
			case single(b, "Minimum"):
				mn, gamma = b, a
			default:
				continue
			}
			if !isConst(defs, gamma) || defs[gamma].Value.Float == nil || other(mn) != x {
				continue
			}
			defs[i].Op = "Prelu"
			defs[i].Attrs = nil
			ins[i] = []int{x, gamma}
			for _, j := range []int{mx, mn, mul} {
				elided[j] = true
				consumers[j] = 0
			}
			break
		}
	}
}

// Names of the fused residual ops that fuseAddActivations creates; they
// are compiled from fusedOps, only for the nodes the fusion rewrote.
const (
	opAddRelu  = "facesign.AddRelu"
	opAddRelu6 = "facesign.AddRelu6"
	opAddPrelu = "facesign.AddPrelu"
)

// fuseAddActivations turns an Add whose only reader is a Relu, Relu6 or
// Prelu into one node that adds and activates in one pass — the residual
// blocks of BlazeFace and FaceMesh end this way. The activation node takes
// the Add's inputs (and the Prelu's slopes) and the Add no longer runs.
// The result is the same float: the activation of the rounded sum. It
// rewrites defs and ins in place, adds the elided nodes to elided and
// returns the rewritten nodes.
func fuseAddActivations(defs []Node, ins [][]int, consumers []int, elided map[int]bool) map[int]bool {
	fusedNodes := map[int]bool{}
	for i := range defs {
		var fused string
		switch defs[i].Op {
		case "Relu":
			fused = opAddRelu
		case "Relu6":
			fused = opAddRelu6
		case "Prelu":
			fused = opAddPrelu
		default:
			continue
		}
		if elided[i] || len(ins[i]) == 0 || (fused == opAddPrelu) != (len(ins[i]) == 2) || (fused != opAddPrelu && len(ins[i]) != 1) {
			continue
		}
		j := ins[i][0]
		if (defs[j].Op != "Add" && defs[j].Op != "AddV2") || consumers[j] != 1 || elided[j] || len(ins[j]) != 2 {
			continue
		}
		defs[i].Op = fused
		ins[i] = append([]int{ins[j][0], ins[j][1]}, ins[i][1:]...)
		elided[j] = true
		consumers[j] = 0
		fusedNodes[i] = true
	}
	return fusedNodes
}
