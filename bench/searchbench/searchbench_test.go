package searchbench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/facesign/facesign/vectors"
)

// readNPY parses the subset of .npy that WriteData writes.
func readNPY(t *testing.T, b []byte) (rows, dim int, data []float32) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x93NUMPY\x01\x00")) {
		t.Fatalf("bad magic %q", b[:8])
	}
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	if (10+hl)%64 != 0 {
		t.Fatalf("header not padded to 64 bytes: %d", 10+hl)
	}
	h := string(b[10 : 10+hl])
	m := regexp.MustCompile(`^\{'descr': '<f4', 'fortran_order': False, 'shape': \((\d+), (\d+)\), \} *\n$`).FindStringSubmatch(h)
	if m == nil {
		t.Fatalf("bad header %q", h)
	}
	rows, _ = strconv.Atoi(m[1])
	dim, _ = strconv.Atoi(m[2])
	body := b[10+hl:]
	if len(body) != rows*dim*4 {
		t.Fatalf("body %d bytes, want %d", len(body), rows*dim*4)
	}
	for i := 0; i < len(body); i += 4 {
		data = append(data, math.Float32frombits(binary.LittleEndian.Uint32(body[i:])))
	}
	return rows, dim, data
}

func TestWriteDataMatchesVectors(t *testing.T) {
	var base, qs bytes.Buffer
	if err := WriteData(&base, &qs, 70, 12, 3, 9); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		buf  *bytes.Buffer
		n    int
		seed uint64
	}{{&base, 70, 9}, {&qs, 3, 10}} {
		rows, dim, data := readNPY(t, c.buf.Bytes())
		if rows != c.n || dim != 12 {
			t.Fatalf("shape (%d, %d)", rows, dim)
		}
		want := slices.Concat(Vectors(c.n, 12, c.seed)...)
		if !slices.Equal(data, want) {
			t.Fatal("npy rows differ from Vectors")
		}
	}
	// Rows do not depend on how many are generated.
	if !slices.Equal(Vectors(5, 12, 9)[4], Vectors(70, 12, 9)[4]) {
		t.Fatal("row 4 depends on n")
	}
}

func TestRun(t *testing.T) {
	for _, typ := range []vectors.GalleryType{vectors.GalleryFloat32, vectors.GalleryInt8} {
		for _, q := range []int{1, 5} {
			r, err := Run(Config{N: 3000, Dim: 32, Type: typ, Queries: q, Threads: 2, K: 3, Reps: 2, Seed: 4})
			if err != nil {
				t.Fatal(err)
			}
			if r.N != 3000 || r.Queries != q || r.Type != typ.String() || len(r.Top1) != q ||
				r.MsPerQuery <= 0 || r.GBPerS <= 0 || r.ReadGBPerS <= 0 || r.ComparisonsPerS <= 0 ||
				r.CPUMsPerPass < 0 || r.CPUMsRead < 0 || math.IsNaN(r.CPUMsPerPass) {
				t.Fatalf("implausible result %+v", r)
			}
			// The reported top-1 is the brute-force best of the same data.
			gal, qs := Vectors(3000, 32, 4), Vectors(q, 32, 5)
			for j, qv := range qs {
				best, bs := -1, math.Inf(-1)
				for i, v := range gal {
					var s float64
					for d := range v {
						s += float64(v[d]) * float64(qv[d])
					}
					if s > bs {
						best, bs = i, s
					}
				}
				if int(r.Top1[j]) != best {
					t.Fatalf("%v query %d: top-1 %d, brute force %d", typ, j, r.Top1[j], best)
				}
			}
		}
	}
}

func TestRunBadConfig(t *testing.T) {
	good := Config{N: 10, Dim: 4, Queries: 1, K: 1, Reps: 1}
	for _, mut := range []func(*Config){
		func(c *Config) { c.N = 0 },
		func(c *Config) { c.Dim = 0 },
		func(c *Config) { c.Dim = 5000 },
		func(c *Config) { c.Queries = 0 },
		func(c *Config) { c.Threads = -1 },
		func(c *Config) { c.K = 0 },
		func(c *Config) { c.Reps = 0 },
	} {
		c := good
		mut(&c)
		if _, err := Run(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
}
