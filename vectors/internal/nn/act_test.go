package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestActivationKernelMatchesGo runs the vector activation kernel (ReLU and
// per-channel PReLU, with and without bias) against the plain Go loop on
// rows of every length from 8 to 70 — whole vectors and every tail — with
// NaN, ±Inf and ±0 among the values: the results must be bit-identical.
func TestActivationKernelMatchesGo(t *testing.T) { atEachLevel(t, testActivationKernelMatchesGo) }

func testActivationKernelMatchesGo(t *testing.T) {
	if !hasPackedGEMM {
		t.Skipf("no vector kernel on this CPU or build (%s); the Go loop is the only path", "purego, generic level, or no AVX2+FMA")
	}
	r := rand.New(rand.NewPCG(41, 42))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	for n := 8; n <= 70; n++ {
		for _, kind := range []ActKind{ReLU, PReLU} {
			for _, withBias := range []bool{false, true} {
				row := randSlice(r, n)
				for _, v := range special {
					row[r.IntN(n)] = v
				}
				act := Activation{Kind: kind}
				if kind == PReLU {
					act.Slopes = randSlice(r, n)
				}
				var bias []float32
				if withBias {
					bias = randSlice(r, n)
				}
				want := append([]float32(nil), row...)
				act.applyRowGo(want, bias)
				got := append([]float32(nil), row...)
				if !act.vectorRow(got, bias) {
					t.Fatalf("%v on %d values: the kernel declined", kind, n)
				}
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: [%d] = %v (%#x), want %v (%#x); input %v", fmt.Sprintf("kind %d n %d bias %v", kind, n, withBias),
							i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]), row[i])
					}
				}
			}
		}
	}
	// What the kernel does not do, it leaves to the Go loop.
	for _, a := range []Activation{{Kind: PReLU, Slopes: []float32{0.25}}, {Kind: Sigmoid}, {Kind: ReLU6}, {Kind: LeakyReLU, Alpha: 0.1}, {Kind: Linear}} {
		if a.vectorRow(make([]float32, 16), nil) {
			t.Errorf("kernel took activation %+v", a)
		}
	}
}

// BenchmarkActivation compares the kernel with the Go loop on a feature-map
// row of 128 channels with about half its values negative.
func BenchmarkActivation(b *testing.B) {
	r := rand.New(rand.NewPCG(43, 44))
	const n = 128
	src, bias := randSlice(r, n*64), randSlice(r, n)
	act := Activation{Kind: PReLU, Slopes: randSlice(r, n)}
	row := make([]float32, len(src))
	for _, path := range []string{"go", "kernel"} {
		if path == "kernel" && !hasPackedGEMM {
			continue
		}
		b.Run(path, func(b *testing.B) {
			b.SetBytes(int64(4 * len(src)))
			for b.Loop() {
				copy(row, src)
				for i := 0; i < len(row); i += n {
					if path == "go" {
						act.applyRowGo(row[i:i+n], bias)
					} else {
						act.applyRow(row[i:i+n], bias)
					}
				}
			}
		})
	}
}
