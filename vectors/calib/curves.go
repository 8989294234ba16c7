package calib

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
)

// The shipped curves, one per engine: curves/<engine-id>.json.
//
//go:embed curves/*.json
var curveFiles embed.FS

var shipped = sync.OnceValue(func() map[string]Curve {
	ents, err := curveFiles.ReadDir("curves")
	if err != nil {
		panic(fmt.Sprintf("calib: embedded curves: %v", err))
	}
	m := make(map[string]Curve, len(ents))
	for _, e := range ents {
		b, err := curveFiles.ReadFile(path.Join("curves", e.Name()))
		if err != nil {
			panic(fmt.Sprintf("calib: embedded curve %s: %v", e.Name(), err))
		}
		c, err := Parse(b)
		if err != nil {
			panic(fmt.Sprintf("calib: embedded curve %s: %v", e.Name(), err))
		}
		if want := strings.TrimSuffix(e.Name(), ".json"); c.Engine() != want {
			panic(fmt.Sprintf("calib: embedded curve %s is for engine %q", e.Name(), c.Engine()))
		}
		m[c.Engine()] = c
	}
	return m
})

// ForEngine returns the curve shipped for engine id (vectors/calib/curves/
// <id>.json). The caller must check that [Curve.ModelSHA256] is the hash of
// the weights it runs: a curve measures one set of weights.
func ForEngine(id string) (Curve, bool) {
	c, ok := shipped()[id]
	return c, ok
}

// Shipped lists the engines a curve ships for, sorted.
func Shipped() []string {
	m := shipped()
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
