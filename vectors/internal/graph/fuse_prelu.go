package graph

import (
	"maps"
	"math"
	"slices"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// fuseAbsPReLUs recognises PReLU spelled out as relu(x) + c·(x − |x|) —
// how TensorFlow 1 graphs wrote it (c = α/2) and how TOCO-converted TFLite
// models still carry it — and turns the Add into one Prelu(x, 2c) node; the
// Relu, Abs, Sub and Mul no longer run. For every x the two forms give the
// same float: for x ≥ 0, x − |x| = 0 and x + c·0 = x; for x < 0,
// x − |x| = 2x exactly and 0 + c·2x rounds the same real product as
// (2c)·x (doubling is exact). Slopes whose double would overflow are left
// alone. The constant c must have no other reader, since its node now
// holds 2c. It rewrites defs and ins in place and adds the elided nodes
// to elided.
func fuseAbsPReLUs(defs []Node, ins [][]int, consumers []int, elided map[int]bool) {
	single := func(j int, op string) bool { return defs[j].Op == op && consumers[j] == 1 && !elided[j] }
	for i := range defs {
		if (defs[i].Op != "Add" && defs[i].Op != "AddV2") || len(ins[i]) != 2 || elided[i] {
			continue
		}
		for _, order := range [2][2]int{{0, 1}, {1, 0}} {
			relu, mul := ins[i][order[0]], ins[i][order[1]]
			if relu == mul || !single(relu, "Relu") || !single(mul, "Mul") || len(ins[relu]) != 1 || len(ins[mul]) != 2 {
				continue
			}
			x := ins[relu][0]
			var c, sub int
			switch a, b := ins[mul][0], ins[mul][1]; {
			case single(a, "Sub"):
				c, sub = b, a
			case single(b, "Sub"):
				c, sub = a, b
			default:
				continue
			}
			if len(ins[sub]) != 2 || ins[sub][0] != x {
				continue
			}
			abs := ins[sub][1]
			if !single(abs, "Abs") || len(ins[abs]) != 1 || ins[abs][0] != x {
				continue
			}
			cv := defs[c].Value.Float
			if !isConst(defs, c) || consumers[c] != 1 || cv == nil || slices.ContainsFunc(cv.Data, tooBig) {
				continue
			}
			doubled := &nn.Tensor{Shape: slices.Clone(cv.Shape), Data: make([]float32, len(cv.Data))}
			for k, v := range cv.Data {
				doubled.Data[k] = 2 * v
			}
			defs[c].Value = Value{Float: doubled}
			defs[i].Op = "Prelu"
			defs[i].Attrs = nil
			ins[i] = []int{x, c}
			// x was read by the Relu, the Sub and the Abs; now once by the
			// Prelu.
			consumers[x] -= 2
			for _, j := range []int{relu, mul, sub, abs} {
				elided[j] = true
				consumers[j] = 0
			}
			break
		}
	}
}

func finite(v float32) bool { return !math.IsInf(float64(v), 0) && !math.IsNaN(float64(v)) }

func tooBig(v float32) bool { return !finite(v) || math.Abs(float64(v)) > math.MaxFloat32/2 }

// fuseConvPReLUs folds a Prelu with one slope per channel into the
// convolution it reads, when the Prelu is that convolution's only reader
// and the convolution applies no activation of its own: the convolution
// adds the bias and applies the PReLU in the same pass over its output.
// The result is the same float (the slope times the biased sum). The
// Prelu node takes the convolution's op, attributes and inputs (plus the
// slopes), so it keeps its name; the convolution no longer runs.
func fuseConvPReLUs(defs []Node, ins [][]int, consumers []int, elided map[int]bool) {
	for i := range defs {
		if defs[i].Op != "Prelu" || len(ins[i]) != 2 || elided[i] {
			continue
		}
		c, s := ins[i][0], ins[i][1]
		if consumers[c] != 1 || elided[c] || !isConst(defs, s) || defs[s].Value.Float == nil {
			continue
		}
		var fused string
		switch defs[c].Op {
		case "Conv2D", "_FusedConv2D":
			fused = "_FusedConv2D"
		case "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative":
			fused = "FusedDepthwiseConv2dNative"
		default:
			continue
		}
		if len(ins[c]) < 2 || !isConst(defs, ins[c][1]) || defs[ins[c][1]].Value.Float == nil {
			continue
		}
		w := defs[ins[c][1]].Value.Float.Shape
		if len(w) != 4 {
			continue
		}
		channels := w[3]
		if fused == "FusedDepthwiseConv2dNative" {
			channels = w[2] * w[3]
		}
		slopes := defs[s].Value.Float
		if len(slopes.Data) != channels || !perChannel(slopes.Shape, 4) {
			continue
		}
		a := &attrs{n: &defs[c]}
		ops := a.strs("fused_ops")
		if a.err != nil || !(len(ops) == 0 || (len(ops) == 1 && ops[0] == "BiasAdd")) {
			continue
		}
		if len(ins[c]) != 2+len(ops) {
			continue
		}
		attr := maps.Clone(defs[c].Attrs)
		if attr == nil {
			attr = map[string]Attr{}
		}
		attr["fused_ops"] = Strings(append(slices.Clone(ops), "Prelu")...)
		attr["num_args"] = Int(len(ops) + 1)
		defs[i].Op = fused
		defs[i].Attrs = attr
		ins[i] = append(slices.Clone(ins[c]), s)
		elided[c] = true
		consumers[c] = 0
	}
}
