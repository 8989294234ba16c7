package tflite

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/facesign/facesign/vectors/internal/graph"
)

// Load reads the TFLite model name from fsys and compiles it (see [Read]).
func Load(fsys fs.FS, name string) (*Model, error) {
	raw, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return Read(raw)
}

// Read decodes a TFLite model (see [Decode]) and compiles it for the
// executor. The model does not keep data.
func Read(data []byte) (*Model, error) {
	g, err := Decode(data)
	if err != nil {
		return nil, err
	}
	m, err := graph.Compile(g)
	if err != nil {
		if _, ok := errors.AsType[*UnsupportedOpError](err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return m, nil
}

// Decode reads a TFLite FlatBuffer and translates its main subgraph into
// the executor's graph, validating every operator, option, tensor type
// and shape (see the package documentation). The graph shares no memory
// with data.
func Decode(data []byte) (*graph.Graph, error) {
	f, err := readFile(data)
	if err != nil {
		return nil, err
	}
	return translate(f)
}
