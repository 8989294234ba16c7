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

// TestAddActivation holds the fused residual add-and-activate to its Go
// twin (add in float32, then applyRowGo) bit for bit, at each kernel
// level that has a vector kernel (the generic level declines): ReLU, PReLU with one slope and with one per channel, the result
// written over x, over y or into its own slice, with NaN, ±Inf and ±0
// among the values; and it declines what it does not do, touching nothing.
func TestAddActivation(t *testing.T) { atEachLevel(t, testAddActivation) }

func testAddActivation(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	if !hasPackedGEMM {
		x, y := randSlice(r, 64), randSlice(r, 64)
		keep := append([]float32(nil), x...)
		if AddActivation(x, x, y, Activation{Kind: ReLU}) {
			t.Fatal("no vector kernel at this level, yet AddActivation took ReLU")
		}
		assertBits(t, x, keep, len(x), allRows)
		return
	}
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	for _, channels := range []int{1, 3, 8, 16, 24, 64, 130} {
		n := channels * 37
		for _, act := range []Activation{{Kind: ReLU}, {Kind: PReLU, Slopes: randSlice(r, 1)}, {Kind: PReLU, Slopes: randSlice(r, channels)}} {
			for _, into := range []string{"x", "y", "own"} {
				x, y := randSlice(r, n), randSlice(r, n)
				for _, v := range special {
					x[r.IntN(n)], y[r.IntN(n)] = v, v
				}
				want := make([]float32, n)
				for i := range want {
					want[i] = x[i] + y[i]
				}
				for i := 0; i < n; i += channels {
					act.applyRowGo(want[i:i+channels], nil)
				}
				dst := make([]float32, n)
				switch into {
				case "x":
					dst = x
				case "y":
					dst = y
				}
				if !AddActivation(dst, x, y, act) {
					t.Fatalf("%d channels, kind %d, %d slopes: declined", channels, act.Kind, len(act.Slopes))
				}
				assertBits(t, dst, want, n, allRows)
			}
		}
	}
	x, y := randSlice(r, 48), randSlice(r, 48)
	keep := append([]float32(nil), x...)
	for _, c := range []struct {
		act  Activation
		x, y []float32
	}{
		{Activation{Kind: ReLU6}, x, y},
		{Activation{Kind: Sigmoid}, x, y},
		{Activation{Kind: PReLU, Slopes: randSlice(r, 5)}, x, y}, // 48 is not a multiple of 5
		{Activation{Kind: ReLU}, x, y[:47]},
	} {
		if AddActivation(x, c.x, c.y, c.act) {
			t.Errorf("took %+v on lengths %d, %d", c.act, len(c.x), len(c.y))
		}
	}
	assertBits(t, x, keep, len(x), allRows)
}
