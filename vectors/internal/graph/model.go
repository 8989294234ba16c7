package graph

import (
	"fmt"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// runFunc executes one node on its input values.
type runFunc func(in []Value) (Value, error)

type step struct {
	name string
	op   string
	in   []int // value slots of the inputs
	out  int   // value slot of the result
	run  runFunc
	free []int // slots whose last use is this step
	// into, when set, runs the step writing its result into the tensor of
	// one of the inputs listed in dying (indices into in: inputs whose
	// slot no later step reads), when Run finds that tensor unshared.
	into  intoFunc
	dying []int
}

// Model is a compiled, validated graph. It is immutable after [Compile]
// and safe for concurrent use by multiple goroutines.
type Model struct {
	steps  []step
	consts []Value // slot → constant (zero value for computed slots)
	// noReuse makes Run allocate every result (the plain twin of the
	// in-place runs, for tests).
	noReuse  bool
	reuses   atomic.Int64 // results written into a dying input, for tests
	releases atomic.Int64 // dead results whose memory went back to nn, for tests
	inputs   []IO
	inSlot   []int
	outputs  []IO
	outSlot  []int
}

// Compile validates g and compiles it into a [Model]: every node must have
// a unique name, read only nodes of the graph, and the graph must be
// acyclic ([ErrFormat]); every op must be supported ([*UnsupportedOpError])
// with valid attributes and input count ([ErrFormat]); every Const must
// hold a well-formed [Value]. Compile does not modify g; the model shares
// g's constant tensors, which the caller must not modify afterwards.
func Compile(g *Graph) (*Model, error) {
	if g == nil || len(g.Nodes) == 0 {
		return nil, fmt.Errorf("%w: no nodes", ErrFormat)
	}
	// The fusions rewrite nodes: work on a shallow copy (attribute maps
	// are cloned before they are changed).
	defs := slices.Clone(g.Nodes)
	slot := make(map[string]int, len(defs))
	for i, d := range defs {
		if d.Name == "" {
			return nil, fmt.Errorf("%w: node %d has no name", ErrFormat, i)
		}
		if _, dup := slot[d.Name]; dup {
			return nil, fmt.Errorf("%w: node %q defined twice", ErrFormat, d.Name)
		}
		slot[d.Name] = i
	}
	m := &Model{consts: make([]Value, len(defs))}
	// Data inputs per node, and consumer counts for finding outputs.
	ins := make([][]int, len(defs))
	consumers := make([]int, len(defs))
	for i, d := range defs {
		for _, name := range d.Inputs {
			j, ok := slot[name]
			if !ok {
				return nil, fmt.Errorf("%w: node %q reads unknown node %q", ErrFormat, d.Name, name)
			}
			ins[i] = append(ins[i], j)
			consumers[j]++
		}
	}
	// Topological order (Kahn), stable in node order.
	order := make([]int, 0, len(defs))
	indeg := make([]int, len(defs))
	users := make([][]int, len(defs))
	for i := range defs {
		for _, j := range ins[i] {
			indeg[i]++
			users[j] = append(users[j], i)
		}
	}
	var queue []int
	for i := range defs {
		if indeg[i] == 0 {
			queue = append(queue, i)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		order = append(order, i)
		for _, u := range users[i] {
			if indeg[u]--; indeg[u] == 0 {
				queue = append(queue, u)
			}
		}
	}
	if len(order) != len(defs) {
		return nil, fmt.Errorf("%w: the graph has a cycle", ErrFormat)
	}
	// Declared outputs: they count as read (so no fusion swallows them)
	// and fix which nodes must run.
	var outs []int
	for _, name := range g.Outputs {
		j, ok := slot[name]
		if !ok {
			return nil, fmt.Errorf("%w: unknown output %q", ErrFormat, name)
		}
		if defs[j].Op == "Placeholder" || defs[j].Op == "Const" {
			return nil, fmt.Errorf("%w: output %q is not computed", ErrFormat, name)
		}
		if slices.Contains(outs, j) {
			return nil, fmt.Errorf("%w: output %q listed twice", ErrFormat, name)
		}
		outs = append(outs, j)
		consumers[j]++
	}
	elided := fusePads(defs, ins, consumers)
	fusePReLUs(defs, ins, consumers, elided)
	fuseAbsPReLUs(defs, ins, consumers, elided)
	fuseConvPReLUs(defs, ins, consumers, elided)
	fusedNodes := fuseAddActivations(defs, ins, consumers, elided)
	needed := make([]bool, len(defs))
	if outs != nil {
		stack := slices.Clone(outs)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if needed[i] {
				continue
			}
			needed[i] = true
			stack = append(stack, ins[i]...)
		}
	}
	lastUse := make([]int, len(defs))
	for i := range lastUse {
		lastUse[i] = -1
	}
	for _, i := range order {
		d := &defs[i]
		if elided[i] {
			continue
		}
		switch d.Op {
		case "Const":
			if !d.Value.valid() {
				return nil, fmt.Errorf("%w: constant %q has no well-formed value", ErrFormat, d.Name)
			}
			if len(ins[i]) != 0 {
				return nil, fmt.Errorf("%w: constant %q has inputs", ErrFormat, d.Name)
			}
			m.consts[i] = d.Value
		case "Placeholder":
			if len(ins[i]) != 0 {
				return nil, fmt.Errorf("%w: placeholder %q has inputs", ErrFormat, d.Name)
			}
			if d.Shape != nil {
				for _, n := range d.Shape {
					if n < -1 {
						return nil, fmt.Errorf("%w: placeholder %q has shape %v", ErrFormat, d.Name, d.Shape)
					}
				}
			}
			m.inputs = append(m.inputs, IO{Name: d.Name, Shape: slices.Clone(d.Shape)})
			m.inSlot = append(m.inSlot, i)
		default:
			c, ok := ops[d.Op]
			if fusedNodes[i] {
				c, ok = fusedOps[d.Op]
			}
			if !ok {
				return nil, &UnsupportedOpError{Node: d.Name, Op: d.Op}
			}
			a := &attrs{n: d}
			run, err := c(a, len(ins[i]))
			if err == nil {
				err = a.err
			}
			if err != nil {
				return nil, fmt.Errorf("%w: node %q (%s): %w", ErrFormat, d.Name, d.Op, err)
			}
			if outs != nil && !needed[i] {
				continue
			}
			for _, j := range ins[i] {
				lastUse[j] = len(m.steps)
			}
			st := step{name: d.Name, op: d.Op, in: ins[i], out: i, run: run}
			if fusedNodes[i] {
				st.into = intoOps[d.Op]
			}
			m.steps = append(m.steps, st)
			if outs == nil && consumers[i] == 0 {
				m.outputs = append(m.outputs, IO{Name: d.Name})
				m.outSlot = append(m.outSlot, i)
			}
		}
	}
	for _, j := range outs {
		m.outputs = append(m.outputs, IO{Name: defs[j].Name})
		m.outSlot = append(m.outSlot, j)
	}
	if len(m.inputs) == 0 || len(m.outputs) == 0 {
		return nil, fmt.Errorf("%w: %d inputs and %d outputs", ErrFormat, len(m.inputs), len(m.outputs))
	}
	isInput := make([]bool, len(defs))
	for _, i := range m.inSlot {
		isInput[i] = true
	}
	for i, j := range lastUse {
		if j >= 0 && m.consts[i].Float == nil && m.consts[i].Int == nil && !slices.Contains(m.outSlot, i) {
			m.steps[j].free = append(m.steps[j].free, i)
		}
	}
	for si := range m.steps {
		st := &m.steps[si]
		if st.into == nil {
			continue
		}
		for k, j := range st.in {
			// A computed value this step reads last: never a constant,
			// a caller's input or an output.
			if k < 2 && lastUse[j] == si && slices.Contains(st.free, j) && !isInput[j] {
				st.dying = append(st.dying, k)
			}
		}
	}
	return m, nil
}

// Inputs lists the model's inputs (its Placeholder nodes, in node order).
func (m *Model) Inputs() []IO { return cloneIO(m.inputs) }

// Outputs lists the model's outputs: [Graph.Outputs] when the graph named
// them, else the computed nodes no other node reads. Their shapes are
// known only after a run and are reported as nil.
func (m *Model) Outputs() []IO { return cloneIO(m.outputs) }

// Steps lists the nodes Run executes, in execution order, with the op
// each runs as after the load-time fusions.
func (m *Model) Steps() []Step {
	out := make([]Step, len(m.steps))
	for i, s := range m.steps {
		out[i] = Step{Name: s.name, Op: s.op}
	}
	return out
}

func cloneIO(s []IO) []IO {
	out := make([]IO, len(s))
	for i, io := range s {
		out[i] = IO{Name: io.Name, Shape: slices.Clone(io.Shape)}
	}
	return out
}

// Run executes the graph on inputs (keyed by input name; every input is
// required and must match its declared shape, -1 dimensions matching any
// size) and returns every output keyed by name. Inputs are not modified.
// Run is safe to call from several goroutines at once.
func (m *Model) Run(inputs map[string]*nn.Tensor) (map[string]*nn.Tensor, error) {
	vals := make([]Value, len(m.consts))
	copy(vals, m.consts)
	for name := range inputs {
		if !slices.ContainsFunc(m.inputs, func(io IO) bool { return io.Name == name }) {
			return nil, fmt.Errorf("%w: unknown input %q", ErrInput, name)
		}
	}
	for k, io := range m.inputs {
		t, ok := inputs[io.Name]
		if !ok || t == nil {
			return nil, fmt.Errorf("%w: missing input %q", ErrInput, io.Name)
		}
		if n, err := nn.CheckShape(t.Shape); err != nil || n != len(t.Data) {
			return nil, fmt.Errorf("%w: input %q: %d values for shape %v", ErrInput, io.Name, len(t.Data), t.Shape)
		}
		if io.Shape != nil {
			ok := len(t.Shape) == len(io.Shape)
			for d := 0; ok && d < len(io.Shape); d++ {
				ok = io.Shape[d] < 0 || io.Shape[d] == t.Shape[d]
			}
			if !ok {
				return nil, fmt.Errorf("%w: input %q has shape %v, want %v", ErrInput, io.Name, t.Shape, io.Shape)
			}
		}
		vals[m.inSlot[k]] = Value{Float: t}
	}
	args := make([]Value, 0, 8)
	for _, s := range m.steps {
		args = args[:0]
		for _, j := range s.in {
			args = append(args, vals[j])
		}
		var v Value
		var err error
		if dst := m.reusable(s, vals, inputs); dst != nil {
			m.reuses.Add(1)
			v, err = s.into(args, dst)
		} else {
			v, err = s.run(args)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: node %q (%s): %w", ErrExec, s.name, s.op, err)
		}
		vals[s.out] = v
		for _, j := range s.free {
			t := vals[j].Float
			vals[j] = Value{}
			if t != nil && !m.noReuse && !shared(t, -1, vals, inputs) {
				m.releases.Add(1)
				nn.Release(t)
			}
		}
	}
	out := make(map[string]*nn.Tensor, len(m.outputs))
	for k, io := range m.outputs {
		v := vals[m.outSlot[k]]
		if v.Float == nil {
			return nil, fmt.Errorf("%w: output %q is not a float tensor", ErrExec, io.Name)
		}
		out[io.Name] = v.Float
	}
	return out, nil
}

// Memory. A result no later step reads goes back to [nn.Release] for the
// next [nn.New] of its length, and a fused add-and-activate step writes
// into a dying input; both only when no other value — constants, live
// results, views (Reshape, Squeeze and Identity share their input's
// memory), the caller's inputs and the outputs — overlaps that memory.

// reusable returns the tensor step s may write its result into: the
// tensor of one of its dying inputs whose memory no other value holds —
// no other slot's value (constants, live results, views made by Reshape,
// Squeeze or Identity, which share their data) and no caller's input
// overlaps it. nil: allocate.
func (m *Model) reusable(s step, vals []Value, inputs map[string]*nn.Tensor) *nn.Tensor {
	if m.noReuse || s.into == nil {
		return nil
	}
	for _, k := range s.dying {
		j := s.in[k]
		if t := vals[j].Float; t != nil && len(t.Data) > 0 && !shared(t, j, vals, inputs) {
			return t
		}
	}
	return nil
}

// shared reports whether any value but slot skip's, or any caller's
// input, overlaps t's memory.
func shared(t *nn.Tensor, skip int, vals []Value, inputs map[string]*nn.Tensor) bool {
	for i, v := range vals {
		if i != skip && v.Float != nil && overlap(v.Float.Data, t.Data) {
			return true
		}
	}
	for _, in := range inputs {
		if in != nil && overlap(in.Data, t.Data) {
			return true
		}
	}
	return false
}

// overlap reports whether a and b share any element.
func overlap(a, b []float32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(unsafe.SliceData(a))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return a0 < b0+4*uintptr(len(b)) && b0 < a0+4*uintptr(len(a))
}
