package onnx

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// realModel is the face embedder the fr-feature engine ships: a real
// PyTorch export, the fuzzer's largest seed.
var realModel = filepath.Join("..", "..", "frfeature", "model", "fr_feature.onnx")

// sentinels are the error classes Parse may return (besides an
// *UnsupportedOpError).
var sentinels = []error{ErrFormat, ErrVersion, ErrExternalData, ErrDataType, ErrDuplicateName,
	ErrDanglingInput, ErrCycle, ErrAttribute, ErrShape, ErrLimit}

// FuzzParse: Parse never panics and fails only with one of its error
// classes; a model it accepts runs on zero inputs without an error (the
// load-time checks leave nothing to fail mid-run).
func FuzzParse(f *testing.F) {
	for _, c := range opCases() {
		f.Add(c.model.encode())
	}
	f.Add(baseModel().encode())
	raw, err := os.ReadFile(realModel)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			if m != nil {
				t.Fatal("a model together with an error")
			}
			var u *UnsupportedOpError
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			if !errors.As(err, &u) {
				t.Fatalf("error of no class: %v", err)
			}
			return
		}
		in := map[string]*nn.Tensor{}
		total := 0
		for _, io := range m.Inputs() {
			x := nn.New(io.Shape...)
			total += len(x.Data)
			in[io.Name] = x
		}
		if total > 1<<16 || len(m.Steps()) > 200 {
			return // a big model: loading it was the test
		}
		if _, err := m.Run(in); err != nil {
			t.Fatalf("accepted model fails to run: %v", err)
		}
	})
}
