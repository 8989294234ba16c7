package tflite

import (
	"encoding/binary"
	"math"
	"slices"
)

// A FlatBuffers writer for the tests: it lays out every object after the
// references to it (uoffsets must point forward), each vtable just before
// its table. Field values: uint8, bool, int32, uint32, uint64, float32,
// string, []byte, []int32, []int64, []float32, *fbt and []*fbt.

// fbt is a table under construction: field id → value.
type fbt map[int]any

type fbw struct{ b []byte }

func (w *fbw) align(n int) {
	for len(w.b)%n != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *fbw) patch(slot, target int) {
	binary.LittleEndian.PutUint32(w.b[slot:], uint32(target-slot))
}

// finish returns the buffer for root table t with file identifier id.
func finish(t fbt, id string) []byte {
	w := &fbw{b: make([]byte, 8)}
	copy(w.b[4:], id)
	w.patch(0, w.table(t))
	return w.b
}

func (w *fbw) table(t fbt) int {
	ids := slices.Sorted(func(yield func(int) bool) {
		for k := range t {
			if !yield(k) {
				return
			}
		}
	})
	nf := 0
	if len(ids) > 0 {
		nf = ids[len(ids)-1] + 1
	}
	// Inline layout: soffset, then fields in id order, each aligned.
	offs := make([]int, nf)
	size := 4
	for _, id := range ids {
		n := inlineSize(t[id])
		for size%n != 0 {
			size++
		}
		offs[id] = size
		size += n
	}
	w.align(2)
	vt := len(w.b)
	w.b = binary.LittleEndian.AppendUint16(w.b, uint16(4+2*nf))
	w.b = binary.LittleEndian.AppendUint16(w.b, uint16(size))
	for _, o := range offs {
		w.b = binary.LittleEndian.AppendUint16(w.b, uint16(o))
	}
	w.align(8)
	pos := len(w.b)
	w.b = append(w.b, make([]byte, size)...)
	binary.LittleEndian.PutUint32(w.b[pos:], uint32(int32(pos-vt)))
	type ref struct {
		slot int
		v    any
	}
	var refs []ref
	for _, id := range ids {
		p := pos + offs[id]
		switch v := t[id].(type) {
		case uint8:
			w.b[p] = v
		case bool:
			if v {
				w.b[p] = 1
			}
		case int32:
			binary.LittleEndian.PutUint32(w.b[p:], uint32(v))
		case uint32:
			binary.LittleEndian.PutUint32(w.b[p:], v)
		case uint64:
			binary.LittleEndian.PutUint64(w.b[p:], v)
		case float32:
			binary.LittleEndian.PutUint32(w.b[p:], math.Float32bits(v))
		default:
			refs = append(refs, ref{p, v})
		}
	}
	for _, r := range refs {
		w.patch(r.slot, w.object(r.v))
	}
	return pos
}

func inlineSize(v any) int {
	switch v.(type) {
	case uint8, bool:
		return 1
	case uint64:
		return 8
	}
	return 4
}

// object writes a referenced object and returns its position.
func (w *fbw) object(v any) int {
	vector := func(n, elem int, put func(i int, b []byte)) int {
		w.align(4)
		for elem == 8 && len(w.b)%8 != 4 {
			w.b = append(w.b, 0)
		}
		pos := len(w.b)
		w.b = binary.LittleEndian.AppendUint32(w.b, uint32(n))
		start := len(w.b)
		w.b = append(w.b, make([]byte, n*elem)...)
		for i := 0; i < n; i++ {
			put(i, w.b[start+i*elem:])
		}
		return pos
	}
	switch v := v.(type) {
	case *fbt:
		return w.table(*v)
	case string:
		p := vector(len(v), 1, func(i int, b []byte) { b[0] = v[i] })
		w.b = append(w.b, 0)
		return p
	case []byte:
		return vector(len(v), 1, func(i int, b []byte) { b[0] = v[i] })
	case []int32:
		return vector(len(v), 4, func(i int, b []byte) { binary.LittleEndian.PutUint32(b, uint32(v[i])) })
	case []int64:
		return vector(len(v), 8, func(i int, b []byte) { binary.LittleEndian.PutUint64(b, uint64(v[i])) })
	case []float32:
		return vector(len(v), 4, func(i int, b []byte) { binary.LittleEndian.PutUint32(b, math.Float32bits(v[i])) })
	case []*fbt:
		pos := vector(len(v), 4, func(int, []byte) {})
		for i, t := range v {
			w.patch(pos+4+4*i, w.table(*t))
		}
		return pos
	}
	panic("fbwrite: unsupported value")
}
