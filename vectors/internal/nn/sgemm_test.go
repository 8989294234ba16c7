package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// refGemm is the textbook triple loop with float64 accumulation.
func refGemm(m, n, k int, a, b []float32) []float32 {
	c := make([]float32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				s += float64(a[i*k+l]) * float64(b[l*n+j])
			}
			c[i*n+j] = float32(s)
		}
	}
	return c
}

func TestGemmPathsMatchReference(t *testing.T) { atEachLevel(t, testGemmPathsMatchReference) }

func testGemmPathsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	sizes := [][3]int{{1, 1, 1}, {6, 16, 1}, {7, 17, 3}, {5, 15, 257}, {13, 33, 300}, {64, 64, 64}, {100, 3, 27}, {3, 100, 520}}
	for i := 0; i < 30; i++ {
		sizes = append(sizes, [3]int{1 + r.IntN(80), 1 + r.IntN(80), 1 + r.IntN(600)})
	}
	for _, s := range sizes {
		m, n, k := s[0], s[1], s[2]
		a, b := randSlice(r, m*k), randSlice(r, k*n)
		want := &Tensor{Shape: []int{m, n}, Data: refGemm(m, n, k, a, b)}
		t.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(t *testing.T) {
			got := New(m, n)
			gemmGonum(m, n, k, a, b, got.Data)
			assertClose(t, got, want, 1e-4)
			if !hasPackedGEMM {
				return
			}
			got = New(m, n)
			for i := range got.Data {
				got.Data[i] = 42 // the packed path must overwrite, not accumulate
			}
			gemmPacked(m, n, k, a, b, got.Data)
			assertClose(t, got, want, 1e-4)
		})
	}
}

func BenchmarkGemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range [][3]int{{1225, 32, 288}, {289, 64, 576}, {3136, 128, 64}} {
		m, n, k := s[0], s[1], s[2]
		a, bb, c := randSlice(r, m*k), randSlice(r, k*n), make([]float32, m*n)
		b.Run(fmt.Sprintf("gonum/%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				gemmGonum(m, n, k, a, bb, c)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
		})
		if hasPackedGEMM {
			b.Run(fmt.Sprintf("packed/%dx%dx%d", m, n, k), func(b *testing.B) {
				for b.Loop() {
					gemmPacked(m, n, k, a, bb, c)
				}
				b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
			})
		}
	}
}

func TestMulAddMatchesScalar(t *testing.T) { atEachLevel(t, testMulAddMatchesScalar) }

func testMulAddMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	for n := 0; n < 70; n++ {
		dst, a, b := randSlice(r, n), randSlice(r, n), randSlice(r, n)
		want := make([]float32, n)
		for i := range want {
			want[i] = float32(float64(dst[i]) + float64(a[i])*float64(b[i]))
		}
		mulAdd(dst, a, b)
		for i := range want {
			if d := dst[i] - want[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("n=%d element %d: %v, want %v", n, i, dst[i], want[i])
			}
		}
	}
}
