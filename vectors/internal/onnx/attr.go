package onnx

import (
	"fmt"
	"math"
)

// attrs holds one node's attributes by name, checked against the names
// its op defines.
type attrs struct {
	node string
	op   string
	m    map[string]*attributeProto
}

// newAttrs indexes a node's attributes: every name must be one the op
// defines (allowed), appear once and carry a value of one type.
func newAttrs(node string, n *nodeProto, allowed ...string) (*attrs, error) {
	a := &attrs{node: node, op: n.opType, m: make(map[string]*attributeProto, len(n.attrs))}
	for k := range n.attrs {
		p := &n.attrs[k]
		if p.refAttr != "" {
			return nil, fmt.Errorf("%w: node %q: attribute %q refers to a function attribute", ErrFormat, node, p.name)
		}
		if _, dup := a.m[p.name]; dup {
			return nil, fmt.Errorf("%w: node %q: attribute %q given twice", ErrAttribute, node, p.name)
		}
		known := false
		for _, s := range allowed {
			known = known || s == p.name
		}
		if !known {
			return nil, fmt.Errorf("%w: node %q (%s): unknown or unsupported attribute %q", ErrAttribute, node, n.opType, p.name)
		}
		t, err := attrType(p)
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", node, err)
		}
		p.typ = t
		a.m[p.name] = p
	}
	return a, nil
}

// attrType returns an attribute's type: its type field (which must agree
// with the value field present; a list may be empty), or, for IR version
// 1 files without it, the one value field present.
func attrType(p *attributeProto) (int64, error) {
	if p.typ != attrUndefined {
		if p.typ < attrFloat || p.typ > attrTypeProtos {
			return 0, fmt.Errorf("%w: attribute %q has type %d", ErrFormat, p.name, p.typ)
		}
		other := p.set &^ (1 << p.typ)
		if other != 0 {
			return 0, fmt.Errorf("%w: attribute %q of type %d carries other value fields", ErrFormat, p.name, p.typ)
		}
		scalar := p.typ <= attrGraph || p.typ == attrSparseTensor || p.typ == attrTypeProto
		if scalar && p.set == 0 {
			return 0, fmt.Errorf("%w: attribute %q of type %d has no value", ErrFormat, p.name, p.typ)
		}
		return p.typ, nil
	}
	var found int64
	for t := int64(attrFloat); t <= attrTypeProtos; t++ {
		if p.set&(1<<t) != 0 {
			if found != 0 {
				return 0, fmt.Errorf("%w: attribute %q has several value fields", ErrFormat, p.name)
			}
			found = t
		}
	}
	if found == 0 {
		return 0, fmt.Errorf("%w: attribute %q has no type and no value", ErrFormat, p.name)
	}
	return found, nil
}

func (a *attrs) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: node %q (%s): %s", ErrAttribute, a.node, a.op, fmt.Sprintf(format, args...))
}

func (a *attrs) get(name string, typ int64) (*attributeProto, error) {
	p, ok := a.m[name]
	if !ok {
		return nil, nil
	}
	if p.typ != typ {
		return nil, a.errorf("attribute %s has type %d, want %d", name, p.typ, typ)
	}
	return p, nil
}

func (a *attrs) has(name string) bool { _, ok := a.m[name]; return ok }

// int returns an integer attribute, or def when absent; it must fit an int.
func (a *attrs) int(name string, def int) (int, error) {
	p, err := a.get(name, attrInt)
	if err != nil || p == nil {
		return def, err
	}
	if p.i < math.MinInt32 || p.i > math.MaxInt32 {
		return 0, a.errorf("attribute %s = %d out of range", name, p.i)
	}
	return int(p.i), nil
}

// ints returns an integer-list attribute, or nil when absent.
func (a *attrs) ints(name string) ([]int, error) {
	p, err := a.get(name, attrInts)
	if err != nil || p == nil {
		return nil, err
	}
	out := make([]int, len(p.ints))
	for k, v := range p.ints {
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, a.errorf("attribute %s: %d out of range", name, v)
		}
		out[k] = int(v)
	}
	return out, nil
}

func (a *attrs) float(name string, def float32) (float32, error) {
	p, err := a.get(name, attrFloat)
	if err != nil || p == nil {
		return def, err
	}
	return p.f, nil
}

func (a *attrs) floats(name string) ([]float32, error) {
	p, err := a.get(name, attrFloats)
	if err != nil || p == nil {
		return nil, err
	}
	return p.floats, nil
}

func (a *attrs) str(name, def string) (string, error) {
	p, err := a.get(name, attrString)
	if err != nil || p == nil {
		return def, err
	}
	return string(p.s), nil
}

func (a *attrs) tensor(name string) (*tensorProto, error) {
	p, err := a.get(name, attrTensor)
	if err != nil || p == nil {
		return nil, err
	}
	return p.t, nil
}
