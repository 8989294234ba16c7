package tflite

// batchToRewrite returns the fixed batch N > 1 the model's inputs declare
// when the graph allows running it with a batch of 1 instead, else 0.
// Converters often freeze the batch they were run with (MobileFaceNet
// declares [2, 112, 112, 3]); one face at a time needs 1. The rewrite is
// allowed when the batch flows through the graph untouched:
//
//   - every input and every computed tensor has the leading dimension N
//     (so no operator merges, splits or reduces the batch);
//   - no operator acts along axis 0: reductions, concatenations,
//     paddings, transpositions and squeezes leave it alone;
//   - an elementwise operand that is a constant has a smaller rank than
//     the result or a leading dimension of 1 (so it holds nothing per
//     batch entry).
//
// Then the inputs take a leading 1 and every reshape a leading 1 in its
// target shape; nothing else in the graph names the batch.
func batchToRewrite(f *file) int {
	n := 0
	for _, k := range f.inputs {
		s := f.tensors[k].shape
		if len(s) == 0 || s[0] <= 1 || (n != 0 && s[0] != n) {
			return 0
		}
		n = s[0]
	}
	isConst := func(k int32) bool {
		ft := f.tensors[k]
		return ft.buffer < len(f.buffers) && len(f.buffers[ft.buffer]) > 0
	}
	leadsN := func(k int32) bool {
		s := f.tensors[k].shape
		return len(s) > 0 && s[0] == n
	}
	// Constants read through a DEQUANTIZE are constants too.
	deq := map[int32]bool{}
	for _, op := range f.ops {
		if op.code == opDequantize && len(op.inputs) == 1 && len(op.outputs) == 1 && op.inputs[0] >= 0 && isConst(op.inputs[0]) {
			deq[op.outputs[0]] = true
		}
	}
	constant := func(k int32) bool { return isConst(k) || deq[k] }
	for _, op := range f.ops {
		if op.code == opDequantize {
			continue
		}
		if len(op.inputs) == 0 || len(op.outputs) == 0 || op.inputs[0] < 0 {
			return 0 // malformed: translate reports it
		}
		for _, k := range op.outputs {
			if !leadsN(k) {
				return 0
			}
		}
		// Which inputs carry data (the rest are weights, shapes, axes).
		data := op.inputs
		switch op.code {
		case opConv2D, opDepthwiseConv2D, opFullyConnected, opReshape, opPad, opPadV2, opMean, opSum,
			opReduceMax, opTranspose, opResizeBilinear, opPrelu:
			data = op.inputs[:min(1, len(op.inputs))]
		}
		for _, k := range data {
			if k < 0 {
				continue
			}
			if constant(k) {
				s := f.tensors[k].shape
				if len(s) >= len(f.tensors[op.outputs[0]].shape) && s[0] != 1 {
					return 0
				}
				continue
			}
			if !leadsN(k) {
				return 0
			}
		}
		if actsOnBatch(f, op, constant) {
			return 0
		}
	}
	return n
}

// actsOnBatch reports whether op names axis 0 in its options or constant
// operands (or reads them from a tensor we cannot see at load).
func actsOnBatch(f *file, op fileOp, constant func(int32) bool) bool {
	constInts := func(i int) ([]int, bool) {
		if i >= len(op.inputs) || op.inputs[i] < 0 || !constant(op.inputs[i]) {
			return nil, false
		}
		ft := f.tensors[op.inputs[i]]
		v, err := decodeConst(ft, f.buffers[ft.buffer])
		if err != nil || v.Int == nil {
			return nil, false
		}
		out := make([]int, len(v.Int.Data))
		for j, x := range v.Int.Data {
			out[j] = int(x)
		}
		return out, true
	}
	rank := len(f.tensors[op.outputs[0]].shape)
	axis0 := func(a int, r int) bool { return a == 0 || a == -r }
	switch op.code {
	case opMean, opSum, opReduceMax:
		axes, ok := constInts(1)
		if !ok {
			return true
		}
		r := len(f.tensors[op.inputs[0]].shape)
		for _, a := range axes {
			if axis0(a, r) {
				return true
			}
		}
	case opConcatenation:
		a, err := op.opts.i32(0, 0)
		return err != nil || axis0(int(a), rank)
	case opPad, opPadV2:
		p, ok := constInts(1)
		return !ok || len(p) < 2 || p[0] != 0 || p[1] != 0
	case opTranspose:
		p, ok := constInts(1)
		return !ok || len(p) == 0 || p[0] != 0
	case opSqueeze:
		dims, err := op.opts.ints(0)
		if err != nil || len(dims) == 0 {
			return true
		}
		r := len(f.tensors[op.inputs[0]].shape)
		for _, d := range dims {
			if axis0(int(d), r) {
				return true
			}
		}
	case opSoftmax, opL2Normalization:
		return rank < 2
	}
	return false
}
