package tflite

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// fileTensor is a Tensor table as read from the file.
type fileTensor struct {
	name   string
	shape  []int
	sig    []int // shape_signature: -1 for a dimension known only at run time
	typ    uint8
	buffer int
	scale  []float32
	zero   []int64
	qdim   int
}

// fileOp is an Operator table as read from the file.
type fileOp struct {
	code    int32
	version int32
	inputs  []int32
	outputs []int32
	optType uint8
	opts    table // valid only when present
}

// file is the part of a TFLite model this package reads: the main
// subgraph and the buffers.
type file struct {
	version     uint32
	description string
	tensors     []fileTensor
	inputs      []int32
	outputs     []int32
	ops         []fileOp
	buffers     [][]byte
}

// Limits on what one model may declare, so a malformed file cannot make
// the loader allocate without bound.
const (
	maxFileBytes = 1 << 28 // 256 MiB
	maxTensors   = 1 << 16
	maxOps       = 1 << 16
	maxRank      = 8
)

func fieldErr(what string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrFormat, what, err)
}

// readFile reads the FlatBuffers structure of raw, checking every offset
// and the fields it does not support.
func readFile(raw []byte) (*file, error) {
	if len(raw) > maxFileBytes {
		return nil, fmt.Errorf("%w: %d bytes, over the %d-byte limit", ErrFormat, len(raw), maxFileBytes)
	}
	if len(raw) < 8 {
		return nil, fmt.Errorf("%w: %d bytes", ErrFormat, len(raw))
	}
	if !bytes.Equal(raw[4:8], []byte("TFL3")) {
		return nil, fmt.Errorf("%w: file identifier %q, want \"TFL3\"", ErrFormat, raw[4:8])
	}
	b := fbuf(raw)
	root, err := b.root()
	if err != nil {
		return nil, fieldErr("model", err)
	}
	f := &file{}
	if f.version, err = root.u32(fModelVersion, 0); err != nil {
		return nil, fieldErr("model version", err)
	}
	if f.version != 3 {
		return nil, fmt.Errorf("%w: schema version %d, want 3", ErrUnsupported, f.version)
	}
	if f.description, err = root.str(fModelDescription); err != nil {
		return nil, fieldErr("description", err)
	}
	// Operator codes.
	codes, err := root.tables(fModelOperatorCodes)
	if err != nil {
		return nil, fieldErr("operator codes", err)
	}
	type opcode struct{ code, version int32 }
	opcodes := make([]opcode, len(codes))
	for i, c := range codes {
		dep, err1 := c.u8(fOpcodeDeprecatedBuiltin, 0)
		ext, err2 := c.i32(fOpcodeBuiltin, 0)
		ver, err3 := c.i32(fOpcodeVersion, 1)
		custom, err4 := c.str(fOpcodeCustom)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return nil, fieldErr(fmt.Sprintf("operator code %d", i), err)
		}
		code := max(int32(int8(dep)), ext)
		if custom != "" || code == 32 {
			return nil, &UnsupportedOpError{Op: "CUSTOM " + custom}
		}
		opcodes[i] = opcode{code, ver}
	}
	// Buffers.
	bufs, err := root.tables(fModelBuffers)
	if err != nil {
		return nil, fieldErr("buffers", err)
	}
	f.buffers = make([][]byte, len(bufs))
	for i, t := range bufs {
		off, err1 := t.u64(fBufferOffset)
		size, err2 := t.u64(fBufferSize)
		data, err3 := t.bytes(fBufferData)
		if err := firstErr(err1, err2, err3); err != nil {
			return nil, fieldErr(fmt.Sprintf("buffer %d", i), err)
		}
		if off > 1 || size > 0 {
			return nil, fmt.Errorf("%w: buffer %d stored outside the flatbuffer (models over 2 GB)", ErrUnsupported, i)
		}
		f.buffers[i] = data
	}
	// The main subgraph.
	subs, err := root.tables(fModelSubgraphs)
	if err != nil {
		return nil, fieldErr("subgraphs", err)
	}
	if len(subs) != 1 {
		return nil, fmt.Errorf("%w: %d subgraphs, want 1", ErrUnsupported, len(subs))
	}
	sg := subs[0]
	tensors, err := sg.tables(fSubgraphTensors)
	if err != nil {
		return nil, fieldErr("tensors", err)
	}
	if len(tensors) > maxTensors {
		return nil, fmt.Errorf("%w: %d tensors", ErrFormat, len(tensors))
	}
	f.tensors = make([]fileTensor, len(tensors))
	for i, t := range tensors {
		if f.tensors[i], err = readTensor(t, len(f.buffers)); err != nil {
			return nil, fmt.Errorf("tensor %d: %w", i, err)
		}
	}
	if f.inputs, err = sg.ints(fSubgraphInputs); err != nil {
		return nil, fieldErr("subgraph inputs", err)
	}
	if f.outputs, err = sg.ints(fSubgraphOutputs); err != nil {
		return nil, fieldErr("subgraph outputs", err)
	}
	for _, list := range [][]int32{f.inputs, f.outputs} {
		for _, k := range list {
			if k < 0 || int(k) >= len(f.tensors) {
				return nil, fmt.Errorf("%w: subgraph names tensor %d of %d", ErrFormat, k, len(f.tensors))
			}
		}
	}
	ops, err := sg.tables(fSubgraphOperators)
	if err != nil {
		return nil, fieldErr("operators", err)
	}
	if len(ops) > maxOps {
		return nil, fmt.Errorf("%w: %d operators", ErrFormat, len(ops))
	}
	f.ops = make([]fileOp, len(ops))
	for i, t := range ops {
		op, err := readOp(t, len(f.tensors))
		if err != nil {
			return nil, fmt.Errorf("operator %d: %w", i, err)
		}
		idx, err := t.u32(fOpOpcodeIndex, 0)
		if err != nil {
			return nil, fieldErr(fmt.Sprintf("operator %d", i), err)
		}
		if int64(idx) >= int64(len(opcodes)) {
			return nil, fmt.Errorf("%w: operator %d has opcode index %d of %d", ErrFormat, i, idx, len(opcodes))
		}
		op.code, op.version = opcodes[idx].code, opcodes[idx].version
		f.ops[i] = op
	}
	return f, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func readShape(t table, id int) ([]int, error) {
	s, err := t.ints(id)
	if err != nil {
		return nil, err
	}
	if len(s) > maxRank {
		return nil, fmt.Errorf("rank %d", len(s))
	}
	out := make([]int, len(s))
	for i, d := range s {
		out[i] = int(d)
	}
	return out, nil
}

func readTensor(t table, nbuf int) (fileTensor, error) {
	var ft fileTensor
	var err error
	if ft.shape, err = readShape(t, fTensorShape); err != nil {
		return ft, fieldErr("shape", err)
	}
	for _, d := range ft.shape {
		if d < 0 {
			return ft, fmt.Errorf("%w: shape %v", ErrFormat, ft.shape)
		}
	}
	if _, err := nn.CheckShape(ft.shape); err != nil {
		return ft, fmt.Errorf("%w: shape %v: %w", ErrFormat, ft.shape, err)
	}
	if ft.sig, err = readShape(t, fTensorShapeSignature); err != nil {
		return ft, fieldErr("shape signature", err)
	}
	if len(ft.sig) > 0 {
		ok := len(ft.sig) == len(ft.shape)
		for i := 0; ok && i < len(ft.sig); i++ {
			ok = ft.sig[i] == ft.shape[i] || ft.sig[i] == -1
		}
		if !ok {
			return ft, fmt.Errorf("%w: shape signature %v for shape %v", ErrFormat, ft.sig, ft.shape)
		}
	}
	typ, err1 := t.u8(fTensorType, 0)
	buf, err2 := t.u32(fTensorBuffer, 0)
	name, err3 := t.str(fTensorName)
	variable, err4 := t.boolean(fTensorIsVariable)
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return ft, fieldErr("tensor", err)
	}
	ft.typ, ft.name = typ, name
	if int64(buf) >= int64(nbuf) && !(buf == 0 && nbuf == 0) {
		return ft, fmt.Errorf("%w: tensor %q has buffer %d of %d", ErrFormat, name, buf, nbuf)
	}
	ft.buffer = int(buf)
	if variable {
		return ft, fmt.Errorf("%w: tensor %q is a variable", ErrUnsupported, name)
	}
	for _, id := range []int{fTensorSparsity, fTensorVariant} {
		if p, err := t.field(id, 4); err != nil || p != 0 {
			return ft, fmt.Errorf("%w: tensor %q is sparse or a variant", ErrUnsupported, name)
		}
	}
	q, ok, err := t.child(fTensorQuantization)
	if err != nil {
		return ft, fieldErr("quantization", err)
	}
	if ok {
		details, err1 := q.u8(fQuantDetails, 0)
		scale, err2 := q.floats(fQuantScale)
		zero, err3 := q.int64s(fQuantZeroPoint)
		dim, err4 := q.i32(fQuantDimension, 0)
		if err := firstErr(err1, err2, err3, err4); err != nil {
			return ft, fieldErr("quantization", err)
		}
		if details != 0 {
			return ft, fmt.Errorf("%w: tensor %q has custom quantization", ErrUnsupported, name)
		}
		ft.scale, ft.zero, ft.qdim = scale, zero, int(dim)
	}
	return ft, nil
}

func readOp(t table, ntensors int) (fileOp, error) {
	var op fileOp
	var err error
	if op.inputs, err = t.ints(fOpInputs); err != nil {
		return op, fieldErr("inputs", err)
	}
	if op.outputs, err = t.ints(fOpOutputs); err != nil {
		return op, fieldErr("outputs", err)
	}
	for _, k := range slices.Concat(op.inputs, op.outputs) {
		if k < -1 || int(k) >= ntensors {
			return op, fmt.Errorf("%w: tensor index %d of %d", ErrFormat, k, ntensors)
		}
	}
	for _, k := range op.outputs {
		if k < 0 {
			return op, fmt.Errorf("%w: optional output", ErrFormat)
		}
	}
	if op.optType, err = t.u8(fOpOptionsType, 0); err != nil {
		return op, fieldErr("options type", err)
	}
	opts, ok, err := t.child(fOpOptions)
	if err != nil {
		return op, fieldErr("options", err)
	}
	if ok != (op.optType != optNone) {
		return op, fmt.Errorf("%w: options type %d with options present = %v", ErrFormat, op.optType, ok)
	}
	op.opts = opts
	for _, id := range []int{fOpCustomOptions, fOpIntermediates} {
		if _, n, err := t.vector(id, 1); err != nil || n != 0 {
			return op, fmt.Errorf("%w: custom options or intermediates", ErrUnsupported)
		}
	}
	mut, err := t.bytes(fOpMutatingVariables)
	if err != nil || slices.Contains(mut, 1) {
		return op, fmt.Errorf("%w: mutating variable inputs", ErrUnsupported)
	}
	o1, err1 := t.u64(fOpLargeCustomOffset)
	o2, err2 := t.u64(fOpLargeCustomSize)
	t2, err3 := t.u8(fOpOptions2Type, 0)
	if err := firstErr(err1, err2, err3); err != nil || o1 != 0 || o2 != 0 || t2 != 0 {
		return op, fmt.Errorf("%w: large custom options or builtin_options_2", ErrUnsupported)
	}
	return op, nil
}
