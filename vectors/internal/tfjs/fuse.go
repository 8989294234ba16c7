package tfjs

import (
	"encoding/base64"
	"maps"
)

// fusePads folds a zero Pad of the spatial axes into the convolution that
// is its only reader: the convolution gets explicit padding and reads the
// Pad's input directly. Converted models (MXNet and PyTorch exports
// especially) pad explicitly before VALID convolutions; folding saves a
// full copy of the feature map per layer and gives identical numbers, since
// the padded positions are zeros either way. It rewrites defs and ins in
// place and returns the Pad nodes that no longer run.
func fusePads(defs []nodeDef, ins [][]int, consumers []int, weights map[string]value) map[int]bool {
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
		pads, ok := weights[defs[ins[j][1]].Name]
		if !ok || defs[ins[j][1]].Op != "Const" || pads.i == nil || len(pads.i.data) != 8 {
			continue
		}
		q := pads.i.data
		if q[0] != 0 || q[1] != 0 || q[6] != 0 || q[7] != 0 || q[2] < 0 || q[3] < 0 || q[4] < 0 || q[5] < 0 {
			continue
		}
		mode, err := attrString(d, "padding", "")
		if err != nil {
			continue
		}
		var e []int
		switch mode {
		case "VALID":
			e = make([]int, 8)
		case "EXPLICIT":
			if e = attrInts(d, "explicit_paddings"); len(e) != 8 {
				continue
			}
		default:
			continue
		}
		explicit := []flexInt{0, 0, flexInt(e[2]) + flexInt(q[2]), flexInt(e[3]) + flexInt(q[3]), flexInt(e[4]) + flexInt(q[4]), flexInt(e[5]) + flexInt(q[5]), 0, 0}
		padding := base64.StdEncoding.EncodeToString([]byte("EXPLICIT"))
		attr := maps.Clone(d.Attr)
		if attr == nil {
			attr = map[string]attrValue{}
		}
		attr["padding"] = attrValue{S: &padding}
		attr["explicit_paddings"] = attrValue{List: &attrList{I: explicit}}
		d.Attr = attr
		ins[i] = append([]int{ins[j][0]}, ins[i][1:]...)
		elided[j] = true
		consumers[j] = 0
	}
	return elided
}
