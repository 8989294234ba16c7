package graph

import "fmt"

// attrs reads a node's attributes for an op compiler. A present attribute
// of another kind than asked for is an error, remembered in err (the
// first one wins) so a compiler can read everything and check once.
type attrs struct {
	n   *Node
	err error
}

func (a *attrs) get(key string, kind AttrKind) (Attr, bool) {
	v, ok := a.n.Attrs[key]
	if !ok {
		return v, false
	}
	if v.Kind != kind && !(isList(kind) && v.emptyList()) {
		if a.err == nil {
			a.err = fmt.Errorf("attr %s: kind %d, want %d", key, v.Kind, kind)
		}
		return Attr{}, false
	}
	return v, true
}

func isList(k AttrKind) bool { return k == KindInts || k == KindFloats || k == KindStrings }

func (a *attrs) str(key, def string) string {
	if v, ok := a.get(key, KindString); ok {
		return v.Str
	}
	return def
}

// ints returns an integer list, or nil when the attribute is absent.
func (a *attrs) ints(key string) []int {
	if v, ok := a.get(key, KindInts); ok {
		if v.Ints == nil {
			return []int{}
		}
		return v.Ints
	}
	return nil
}

func (a *attrs) strs(key string) []string {
	if v, ok := a.get(key, KindStrings); ok {
		return v.Strings
	}
	return nil
}

func (a *attrs) integer(key string, def int) int {
	if v, ok := a.get(key, KindInt); ok {
		return v.Int
	}
	return def
}

func (a *attrs) boolean(key string) bool {
	v, ok := a.get(key, KindBool)
	return ok && v.Bool
}

func (a *attrs) float(key string, def float32) float32 {
	if v, ok := a.get(key, KindFloat); ok {
		return v.Float
	}
	return def
}
