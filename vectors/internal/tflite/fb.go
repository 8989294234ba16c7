package tflite

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// The FlatBuffers reader. The Go FlatBuffers runtime reads a buffer
// without checking offsets and panics on a malformed one (by design: see
// google/flatbuffers#4750), so this package reads the wire format itself
// with every offset, length and alignment checked, and turns a bad buffer
// into an error wrapping ErrFormat. The format, as facts:
//
//   - All integers are little-endian. The buffer starts with a uoffset
//     (uint32) to the root table; bytes 4..8 may hold a file identifier.
//   - A table starts with an soffset (int32): the vtable is at
//     table − soffset. A vtable is a list of uint16: its own size in
//     bytes, the table's inline size, then one entry per field id, the
//     field's offset from the table start (0 = absent, use the default).
//   - A reference field (table, vector, string) holds a uoffset relative
//     to the field's own position. A vector is a uint32 length followed
//     by its elements (references for a vector of tables); a string is a
//     byte vector followed by a NUL.
//   - A union is two fields: its type (ubyte, 0 = none) at field id n and
//     a reference to the table at n+1.

var errFB = errors.New("bad flatbuffer")

// fbuf is a FlatBuffers buffer.
type fbuf []byte

func (b fbuf) u32(pos int) (uint32, error) {
	if pos < 0 || pos > len(b)-4 {
		return 0, fmt.Errorf("%w: uint32 at %d outside %d bytes", errFB, pos, len(b))
	}
	return binary.LittleEndian.Uint32(b[pos:]), nil
}

// ref follows the uoffset stored at pos.
func (b fbuf) ref(pos int) (int, error) {
	u, err := b.u32(pos)
	if err != nil {
		return 0, err
	}
	t := int64(pos) + int64(u)
	if t >= int64(len(b)) {
		return 0, fmt.Errorf("%w: reference at %d points outside the buffer", errFB, pos)
	}
	return int(t), nil
}

// table is one table of a buffer.
type table struct {
	b     fbuf
	pos   int // table start
	vt    int // vtable start
	nvt   int // number of field entries in the vtable
	size  int // inline size of the table
	valid bool
}

func (b fbuf) table(pos int) (table, error) {
	u, err := b.u32(pos)
	if err != nil {
		return table{}, err
	}
	vt := int64(pos) - int64(int32(u))
	if vt < 0 || vt%2 != 0 || vt > int64(len(b))-4 {
		return table{}, fmt.Errorf("%w: vtable of table %d at %d", errFB, pos, vt)
	}
	v := int(vt)
	vsize := int(binary.LittleEndian.Uint16(b[v:]))
	tsize := int(binary.LittleEndian.Uint16(b[v+2:]))
	if vsize < 4 || vsize%2 != 0 || v+vsize > len(b) || tsize < 4 || pos+tsize > len(b) {
		return table{}, fmt.Errorf("%w: vtable of table %d has sizes %d/%d", errFB, pos, vsize, tsize)
	}
	return table{b: b, pos: pos, vt: v, nvt: (vsize - 4) / 2, size: tsize, valid: true}, nil
}

// field returns the absolute position of field id with width bytes, or 0
// when the field is absent.
func (t table) field(id, width int) (int, error) {
	if !t.valid || id >= t.nvt {
		return 0, nil
	}
	off := int(binary.LittleEndian.Uint16(t.b[t.vt+4+2*id:]))
	if off == 0 {
		return 0, nil
	}
	if off < 4 || off+width > t.size {
		return 0, fmt.Errorf("%w: field %d at offset %d of a %d-byte table", errFB, id, off, t.size)
	}
	return t.pos + off, nil
}

// maxField returns the highest present field id, or -1.
func (t table) maxField() int {
	for id := t.nvt - 1; id >= 0; id-- {
		if binary.LittleEndian.Uint16(t.b[t.vt+4+2*id:]) != 0 {
			return id
		}
	}
	return -1
}

func (t table) u8(id int, def uint8) (uint8, error) {
	p, err := t.field(id, 1)
	if err != nil || p == 0 {
		return def, err
	}
	return t.b[p], nil
}

func (t table) boolean(id int) (bool, error) {
	v, err := t.u8(id, 0)
	return v != 0, err
}

func (t table) i32(id int, def int32) (int32, error) {
	p, err := t.field(id, 4)
	if err != nil || p == 0 {
		return def, err
	}
	return int32(binary.LittleEndian.Uint32(t.b[p:])), nil
}

func (t table) u32(id int, def uint32) (uint32, error) {
	v, err := t.i32(id, int32(def))
	return uint32(v), err
}

func (t table) u64(id int) (uint64, error) {
	p, err := t.field(id, 8)
	if err != nil || p == 0 {
		return 0, err
	}
	return binary.LittleEndian.Uint64(t.b[p:]), nil
}

func (t table) f32(id int, def float32) (float32, error) {
	p, err := t.field(id, 4)
	if err != nil || p == 0 {
		return def, err
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(t.b[p:])), nil
}

// vector returns the start of a vector field's elements and its length;
// n = 0 when the field is absent. elem is the element size, checked
// against the buffer.
func (t table) vector(id, elem int) (start, n int, err error) {
	p, err := t.field(id, 4)
	if err != nil || p == 0 {
		return 0, 0, err
	}
	v, err := t.b.ref(p)
	if err != nil {
		return 0, 0, err
	}
	l, err := t.b.u32(v)
	if err != nil {
		return 0, 0, err
	}
	start = v + 4
	if int64(l)*int64(elem) > int64(len(t.b)-start) {
		return 0, 0, fmt.Errorf("%w: vector of %d×%d bytes at %d overruns the buffer", errFB, l, elem, v)
	}
	return start, int(l), nil
}

func (t table) bytes(id int) ([]byte, error) {
	s, n, err := t.vector(id, 1)
	if err != nil || n == 0 {
		return nil, err
	}
	return t.b[s : s+n], nil
}

func (t table) str(id int) (string, error) {
	b, err := t.bytes(id)
	return string(b), err
}

func (t table) ints(id int) ([]int32, error) {
	s, n, err := t.vector(id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.b[s+4*i:]))
	}
	return out, nil
}

func (t table) int64s(id int) ([]int64, error) {
	s, n, err := t.vector(id, 8)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(binary.LittleEndian.Uint64(t.b[s+8*i:]))
	}
	return out, nil
}

func (t table) floats(id int) ([]float32, error) {
	s, n, err := t.vector(id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.b[s+4*i:]))
	}
	return out, nil
}

// tables returns the tables of a vector-of-tables field.
func (t table) tables(id int) ([]table, error) {
	s, n, err := t.vector(id, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]table, n)
	for i := range out {
		p, err := t.b.ref(s + 4*i)
		if err != nil {
			return nil, err
		}
		if out[i], err = t.b.table(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// child returns the table of a table field; ok = false when absent.
func (t table) child(id int) (table, bool, error) {
	p, err := t.field(id, 4)
	if err != nil || p == 0 {
		return table{}, false, err
	}
	q, err := t.b.ref(p)
	if err != nil {
		return table{}, false, err
	}
	c, err := t.b.table(q)
	return c, err == nil, err
}

// root returns the buffer's root table.
func (b fbuf) root() (table, error) {
	p, err := b.ref(0)
	if err != nil {
		return table{}, err
	}
	return b.table(p)
}
