package onnx

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/facesign/facesign/internal/nodetest"
	"github.com/facesign/facesign/vectors/internal/nn"
)

// peerDir is the onnxruntime-node peer (make node-deps installs it).
var peerDir = filepath.Join("testdata", "node")

// writeFloats stores data as little-endian float32 in a new file in dir.
func writeFloats(t testing.TB, dir, name string, data []float32) string {
	t.Helper()
	b := make([]byte, 4*len(data))
	for k, v := range data {
		binary.LittleEndian.PutUint32(b[4*k:], math.Float32bits(v))
	}
	f := filepath.Join(dir, name)
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

type ortFeed struct {
	Dims []int  `json:"dims"`
	File string `json:"file"`
}

type ortCase struct {
	Model string             `json:"model"`
	Feeds map[string]ortFeed `json:"feeds"`
}

type ortResult struct {
	Outputs map[string]struct {
		Dims []int     `json:"dims"`
		Data []float32 `json:"data"`
	} `json:"outputs"`
}

// TestConformanceOps runs every small op model through the loader and
// through onnxruntime-node on the same inputs and compares every output
// element: |go − ort| ≤ 1e-5 + 1e-5·|ort| (float32 rounding of sums in
// another order).
func TestConformanceOps(t *testing.T) {
	peer := nodetest.Require(t, peerDir, "onnxruntime-node")
	cases := opCases()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	req := struct {
		Threads int       `json:"threads"`
		Cases   []ortCase `json:"cases"`
	}{Threads: 1}
	for k, c := range cases {
		mf := filepath.Join(dir, fmt.Sprintf("m%d.onnx", k))
		if err := os.WriteFile(mf, c.model.encode(), 0o600); err != nil {
			t.Fatal(err)
		}
		oc := ortCase{Model: mf, Feeds: map[string]ortFeed{}}
		for name, f := range c.feeds {
			dims, data := f.dims, f.data
			if c.ortBatch > 1 {
				dims = slices.Clone(dims)
				dims[0] = c.ortBatch
				data = append(slices.Clone(data), randn(r, (c.ortBatch-1)*len(data), 1)...)
			}
			oc.Feeds[name] = ortFeed{Dims: dims, File: writeFloats(t, dir, fmt.Sprintf("m%d-%s.f32", k, name), data)}
		}
		req.Cases = append(req.Cases, oc)
	}
	var res struct {
		Version string      `json:"ort_version"`
		Results []ortResult `json:"results"`
	}
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(peer.Run(t, in, "ort.cjs", "run"), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != len(cases) {
		t.Fatalf("%d results for %d cases", len(res.Results), len(cases))
	}
	t.Logf("onnxruntime-node %s", res.Version)
	for k, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse(c.model.encode())
			if err != nil {
				t.Fatal(err)
			}
			feeds := map[string]*nn.Tensor{}
			for name, f := range c.feeds {
				feeds[name] = &nn.Tensor{Shape: f.dims, Data: f.data}
			}
			got, err := m.Run(feeds)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range res.Results[k].Outputs {
				y := got[name]
				if y == nil {
					t.Fatalf("output %q missing", name)
				}
				wantDims := slices.Clone(want.Dims)
				ref := want.Data
				if c.ortBatch > 1 {
					wantDims[0] = 1
					ref = ref[:len(ref)/c.ortBatch]
				}
				if !slices.Equal(y.Shape, wantDims) {
					t.Fatalf("output %q: shape %v, onnxruntime %v", name, y.Shape, wantDims)
				}
				worst := 0.0
				for i, v := range ref {
					d := math.Abs(float64(y.Data[i]) - float64(v))
					if d > 1e-5+1e-5*math.Abs(float64(v)) {
						t.Fatalf("output %q[%d] = %v, onnxruntime %v", name, i, y.Data[i], v)
					}
					worst = max(worst, d)
				}
				t.Logf("%s: %d values, max |go − ort| %.3g; steps %v", name, len(ref), worst, m.Steps())
			}
		})
	}
}
