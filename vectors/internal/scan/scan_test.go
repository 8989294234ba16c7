package scan

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	var s float64
	for i := range v {
		x := r.NormFloat64()
		v[i] = float32(x)
		s += x * x
	}
	for i := range v {
		v[i] = float32(float64(v[i]) / math.Sqrt(s))
	}
	return v
}

func randF32Blocks(r *rand.Rand, dim, nblk int) []float32 {
	b := make([]float32, nblk*F32BlockLen(dim))
	for i := 0; i < nblk*Lanes; i++ {
		SetF32Lane(b[i/Lanes*F32BlockLen(dim):], i%Lanes, randVec(r, dim))
	}
	return b
}

// randI8Blocks returns nblk int8 blocks of random unit vectors (every
// fifth one with extreme codes ±127) and each lane's codes and scale.
func randI8Blocks(r *rand.Rand, dim, nblk int) ([]byte, [][]int8, []float32) {
	b := make([]byte, nblk*I8BlockLen(dim))
	ClearI8Blocks(b, dim)
	var codes [][]int8
	var scales []float32
	for i := 0; i < nblk*Lanes; i++ {
		v := randVec(r, dim)
		if i%5 == 3 { // extreme codes: ±127 and the query's ±63
			for d := range v {
				v[d] = float32(1 - 2*(d%2))
			}
		}
		c := make([]int8, PadDim(dim))
		s, _ := QuantizeI8(v, c)
		SetI8Lane(b[i/Lanes*I8BlockLen(dim):], dim, i%Lanes, c, s)
		codes = append(codes, c)
		scales = append(scales, s)
	}
	return b, codes, scales
}

// i8Ref is the int8 score computed straight from the codes: the exact
// integer sum, then × scale × query scale in float32.
func i8Ref(q *I8Query, codes []int8, scale float32) float32 {
	var acc int32
	for d, c := range codes {
		acc += int32(c) * int32(q.Packed[d/4*32+d%4])
	}
	return float32(acc) * scale * q.Scale
}

var dims = []int{1, 3, 4, 7, 64, 128, 192, 513}

func bitsEqual(a, b []float32) bool {
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return len(a) == len(b)
}

func TestDotF32BlocksTwin(t *testing.T) { atEachLevel(t, testDotF32BlocksTwin) }

func testDotF32BlocksTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, dim := range dims {
		for _, nblk := range []int{1, 2, 3, 5} {
			t.Run(fmt.Sprintf("dim=%d/nblk=%d", dim, nblk), func(t *testing.T) {
				q := randVec(r, dim)
				blocks := randF32Blocks(r, dim, nblk)
				thr := float32(r.NormFloat64() * 0.05)
				got, want := make([]float32, nblk*Lanes), make([]float32, nblk*Lanes)
				gm, wm := make([]uint32, nblk), make([]uint32, nblk)
				DotF32Blocks(q, blocks, nblk, thr, got, gm)
				dotF32BlocksGeneric(q, blocks, nblk, thr, want, wm)
				if !bitsEqual(got, want) {
					t.Fatalf("scores differ from the Go twin:\n%v\n%v", got, want)
				}
				for b := range gm {
					if gm[b] != wm[b] {
						t.Fatalf("block %d: mask %016b, twin %016b", b, gm[b], wm[b])
					}
				}
				// Each lane equals the single-row chain.
				row := make([]float32, dim)
				for i := 0; i < nblk*Lanes; i++ {
					F32Lane(blocks[i/Lanes*F32BlockLen(dim):], i%Lanes, row)
					if d := DotF32(q, row); math.Float32bits(d) != math.Float32bits(got[i]) {
						t.Fatalf("lane %d: block kernel %v, DotF32 %v", i, got[i], d)
					}
					if ref := ref64(q, row); math.Abs(ref-float64(got[i])) > 1e-5 {
						t.Fatalf("lane %d: %v, float64 reference %v", i, got[i], ref)
					}
				}
			})
		}
	}
}

func ref64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestDotF32GroupTwin(t *testing.T) { atEachLevel(t, testDotF32GroupTwin) }

func testDotF32GroupTwin(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, dim := range dims {
		for _, nq := range []int{1, 4, F32Group} {
			t.Run(fmt.Sprintf("dim=%d/nq=%d", dim, nq), func(t *testing.T) {
				qs := make([][]float32, nq)
				var thr [F32Group]float32
				for j := range qs {
					qs[j] = randVec(r, dim)
					thr[j] = float32(r.NormFloat64() * 0.05)
				}
				for j := nq; j < F32Group; j++ {
					thr[j] = float32(math.Inf(1))
				}
				qp := PackF32Group(qs, dim)
				block := randF32Blocks(r, dim, 1)
				var got, want [F32Group * Lanes]float32
				var gm, wm [F32Group]uint32
				DotF32Group(qp, block, &thr, &got, &gm)
				dotF32GroupGeneric(qp, block, dim, &thr, &want, &wm)
				if !bitsEqual(got[:], want[:]) || gm != wm {
					t.Fatalf("group kernel differs from the Go twin")
				}
				// Same bits as the one-query kernel.
				one := make([]float32, Lanes)
				var m [1]uint32
				for j, q := range qs {
					DotF32Blocks(q, block, 1, thr[j], one, m[:])
					if !bitsEqual(one, got[j*Lanes:(j+1)*Lanes]) || m[0] != gm[j] {
						t.Fatalf("query %d: group kernel differs from the one-query kernel", j)
					}
				}
				for j := nq; j < F32Group; j++ {
					if gm[j] != 0 {
						t.Fatalf("padding query %d has mask %b", j, gm[j])
					}
				}
			})
		}
	}
}

func TestDotF32Blocks4Twin(t *testing.T) { atEachLevel(t, testDotF32Blocks4Twin) }

func testDotF32Blocks4Twin(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, dim := range dims {
		for _, c := range []struct{ stride, nblk int }{{1, 1}, {2, 1}, {3, 2}, {5, 5}} {
			t.Run(fmt.Sprintf("dim=%d/stride=%d/nblk=%d", dim, c.stride, c.nblk), func(t *testing.T) {
				total := (Streams-1)*c.stride + c.nblk
				q := randVec(r, dim)
				blocks := randF32Blocks(r, dim, total)
				thr := float32(r.NormFloat64() * 0.05)
				n := Streams * c.nblk
				got, want := make([]float32, n*Lanes), make([]float32, n*Lanes)
				gm, wm := make([]uint32, n), make([]uint32, n)
				DotF32Blocks4(q, blocks, c.stride, c.nblk, thr, got, gm)
				dotF32Blocks4Generic(q, blocks, c.stride, c.nblk, thr, want, wm)
				if !bitsEqual(got, want) {
					t.Fatalf("scores differ from the Go twin:\n%v\n%v", got, want)
				}
				// Position b·Streams+s is block s·stride+b, as the one-stream kernel scores it.
				all, am := make([]float32, total*Lanes), make([]uint32, total)
				DotF32Blocks(q, blocks, total, thr, all, am)
				for i := 0; i < n; i++ {
					blk := (i%Streams)*c.stride + i/Streams
					if !bitsEqual(got[i*Lanes:(i+1)*Lanes], all[blk*Lanes:(blk+1)*Lanes]) || gm[i] != am[blk] || wm[i] != am[blk] {
						t.Fatalf("position %d (block %d) differs from the one-stream kernel", i, blk)
					}
				}
			})
		}
	}
}

func TestDotI8Twin(t *testing.T) { atEachLevel(t, testDotI8Twin) }

func testDotI8Twin(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, dim := range dims {
		for _, nblk := range []int{1, 2, 5} {
			t.Run(fmt.Sprintf("dim=%d/nblk=%d", dim, nblk), func(t *testing.T) {
				blocks, codes, scales := randI8Blocks(r, dim, nblk)
				var qs []I8Query
				var thr [I8Group]float32
				for j := 0; j < I8Group; j++ {
					q := randVec(r, dim)
					if j == 1 { // codes ±63 against the ±127 rows: the largest int16 pair sums
						for d := range q {
							q[d] = float32(1-2*(d%2)) / float32(math.Sqrt(float64(dim)))
						}
					}
					qs = append(qs, PackI8Query(q))
					thr[j] = float32(r.NormFloat64() * 0.05)
				}
				got, want := make([]float32, nblk*Lanes), make([]float32, nblk*Lanes)
				gm, wm := make([]uint32, nblk), make([]uint32, nblk)
				DotI8Blocks(&qs[0], blocks, nblk, thr[0], got, gm)
				dotI8BlocksGeneric(&qs[0], blocks, len(qs[0].Packed)/32, nblk, thr[0], want, wm)
				if !bitsEqual(got, want) {
					t.Fatalf("scores differ from the Go twin:\n%v\n%v", got, want)
				}
				for i := range got {
					if ref := i8Ref(&qs[0], codes[i], scales[i]); math.Float32bits(ref) != math.Float32bits(got[i]) {
						t.Fatalf("lane %d: %v, straight from the codes %v", i, got[i], ref)
					}
				}
				for b := range gm {
					if gm[b] != wm[b] {
						t.Fatalf("block %d: mask %016b, twin %016b", b, gm[b], wm[b])
					}
				}
				qg := PackI8Group(qs, dim)
				for b := 0; b < nblk; b++ {
					blk := blocks[b*I8BlockLen(dim) : (b+1)*I8BlockLen(dim)]
					var g, w [I8Group * Lanes]float32
					var gmk, wmk [I8Group]uint32
					DotI8Group(&qg, blk, &thr, &g, &gmk)
					dotI8GroupGeneric(&qg, blk, PadDim(dim)/4, &thr, &w, &wmk)
					if !bitsEqual(g[:], w[:]) || gmk != wmk {
						t.Fatalf("block %d: group kernel differs from the Go twin", b)
					}
					one := make([]float32, Lanes)
					var m [1]uint32
					for j := range qs {
						DotI8Blocks(&qs[j], blk, 1, thr[j], one, m[:])
						if !bitsEqual(one, g[j*Lanes:(j+1)*Lanes]) || m[0] != gmk[j] {
							t.Fatalf("block %d query %d: group kernel differs from the one-query kernel", b, j)
						}
					}
				}
			})
		}
	}
}

func TestDotI8Blocks4Twin(t *testing.T) { atEachLevel(t, testDotI8Blocks4Twin) }

func testDotI8Blocks4Twin(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, dim := range dims {
		for _, c := range []struct{ stride, nblk int }{{1, 1}, {2, 1}, {3, 2}, {5, 5}} {
			t.Run(fmt.Sprintf("dim=%d/stride=%d/nblk=%d", dim, c.stride, c.nblk), func(t *testing.T) {
				total := (Streams-1)*c.stride + c.nblk
				blocks, _, _ := randI8Blocks(r, dim, total)
				q := PackI8Query(randVec(r, dim))
				thr := float32(r.NormFloat64() * 0.05)
				n := Streams * c.nblk
				got, want := make([]float32, n*Lanes), make([]float32, n*Lanes)
				gm, wm := make([]uint32, n), make([]uint32, n)
				DotI8Blocks4(&q, blocks, c.stride, c.nblk, thr, got, gm)
				dotI8Blocks4Generic(&q, blocks, PadDim(dim)/4, c.stride, c.nblk, thr, want, wm)
				if !bitsEqual(got, want) {
					t.Fatalf("scores differ from the Go twin:\n%v\n%v", got, want)
				}
				all, am := make([]float32, total*Lanes), make([]uint32, total)
				DotI8Blocks(&q, blocks, total, thr, all, am)
				for i := 0; i < n; i++ {
					blk := (i%Streams)*c.stride + i/Streams
					if !bitsEqual(got[i*Lanes:(i+1)*Lanes], all[blk*Lanes:(blk+1)*Lanes]) || gm[i] != am[blk] || wm[i] != am[blk] {
						t.Fatalf("position %d (block %d) differs from the one-stream kernel", i, blk)
					}
				}
			})
		}
	}
}

func TestI8Lane(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	for _, dim := range dims {
		blocks, codes, scales := randI8Blocks(r, dim, 2)
		got := make([]int8, PadDim(dim))
		for i := range codes {
			s := I8Lane(blocks[i/Lanes*I8BlockLen(dim):], dim, i%Lanes, got)
			if s != scales[i] || string(asB(got)) != string(asB(codes[i])) {
				t.Fatalf("dim %d lane %d: read back %v %v, stored %v %v", dim, i, s, got, scales[i], codes[i])
			}
		}
		// Cleared lanes score exactly 0.
		ClearI8Blocks(blocks, dim)
		q := PackI8Query(randVec(r, dim))
		out, m := make([]float32, 2*Lanes), make([]uint32, 2)
		DotI8Blocks(&q, blocks, 2, 0, out, m)
		for i, x := range out {
			if x != 0 || m[i/Lanes] != 0xffff {
				t.Fatalf("dim %d: cleared lane %d scores %v (mask %b)", dim, i, x, m[i/Lanes])
			}
		}
	}
}

func asB(c []int8) []byte {
	b := make([]byte, len(c))
	for i, x := range c {
		b[i] = byte(x)
	}
	return b
}

// TestI8Error checks the quantisation error bound the gallery relies on:
// |approx − exact| ≤ r·‖q‖ + (‖v‖ + r)·rq plus float32 rounding.
func TestI8Error(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, dim := range []int{4, 128, 192} {
		for i := 0; i < 200; i++ {
			v, q := randVec(r, dim), randVec(r, dim)
			codes := make([]int8, PadDim(dim))
			scale, res := QuantizeI8(v, codes)
			blk := make([]byte, I8BlockLen(dim))
			ClearI8Blocks(blk, dim)
			SetI8Lane(blk, dim, 3, codes, scale)
			pq := PackI8Query(q)
			out := make([]float32, Lanes)
			DotI8Blocks(&pq, blk, 1, 0, out, make([]uint32, 1))
			exact := ref64(v, q)
			bound := res*1.0001 + (1.0001+res)*pq.Residual + 1e-6
			if d := math.Abs(float64(out[3]) - exact); d > bound {
				t.Fatalf("dim %d: error %g exceeds bound %g", dim, d, bound)
			}
		}
	}
}

func TestFMA32(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	check := func(x, y, z float32) {
		t.Helper()
		want := fma32Slow(x, y, z)
		if got := FMA32(x, y, z); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("FMA32(%g, %g, %g) = %g, want %g", x, y, z, got, want)
		}
		// The hardware (or twin) chain: DotF32([z x], [1 y]) = fma(x, y, z).
		if got := DotF32([]float32{z, x}, []float32{1, y}); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("DotF32 chain fma(%g, %g, %g) = %g, want %g", x, y, z, got, want)
		}
	}
	for i := 0; i < 20000; i++ {
		x := float32(r.NormFloat64())
		y := float32(r.NormFloat64() * math.Exp2(float64(r.IntN(40)-20)))
		z := float32(r.NormFloat64())
		check(x, y, z)
		// Near-cancellation and half-way cases.
		check(x, y, -x*y)
		check(x, 1+0x1p-24, float32(math.Ldexp(1, r.IntN(20)-10)))
	}
	// Half-way cases built on purpose: z + tiny product with the sum
	// landing on a float32 midpoint in float64.
	// x·y = 2⁻²⁴·(1 − 2⁻⁴⁶): in float64 z + x·y rounds onto the float32
	// midpoint above z, although the true value lies just below it.
	for i := 0; i < 20000; i++ {
		e := r.IntN(40) - 20
		z := float32(math.Ldexp(1+float64(r.IntN(1<<23))*0x1p-23, e))
		x := float32(math.Ldexp(1+0x1p-23, e-24))
		y := float32(1 - 0x1p-23)
		check(x, y, z)
		check(-x, y, -z)
		check(x, -y, z)
		check(x, y, -z)
	}
	check(1e-30, 1e-20, 1e-45)
	check(-1e-25, 1e-20, 3e-45)
}

func TestRead(t *testing.T) { atEachLevel(t, testRead) }

func testRead(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, n := range []int{256, 512, 4096, 256 * 1001} {
		buf := make([]byte, n)
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		if got, want := Read(buf), readGeneric(buf); got != want {
			t.Fatalf("n=%d: Read %x, twin %x", n, got, want)
		}
	}
}

func TestQuantizeZero(t *testing.T) {
	codes := make([]int8, 4)
	if s, r := QuantizeI8(make([]float32, 3), codes); s != 0 || r != 0 {
		t.Fatalf("zero vector: scale %v residual %v", s, r)
	}
	if q := PackI8Query(make([]float32, 3)); q.Scale != 0 || q.Residual != 0 {
		t.Fatalf("zero query: %+v", q)
	}
}

func TestDotI8Extremes(t *testing.T) { atEachLevel(t, testDotI8Extremes) }

// testDotI8Extremes: stored bytes at both ends (codes −128 and 127) against
// query codes ±QueryMax at the largest dimension — the largest products and
// sums the kernels' 16-bit intermediate steps see; the scores must still be
// the Go twin's exact integer sums.
func testDotI8Extremes(t *testing.T) {
	dim := MaxDim
	q := make([]float32, dim)
	for d := range q {
		q[d] = float32(1 - 2*(d%2)) // codes +63, −63, …
	}
	pq := PackI8Query(q)
	for name, pattern := range map[string]func(i int) byte{
		"all -128":          func(int) byte { return 0x00 },
		"all 127":           func(int) byte { return 0xff },
		"lanes alternate":   func(i int) byte { return byte(0xff * ((i / 4) % 2)) },
		"query's signs":     func(i int) byte { return byte(0xff * (i % 2)) },
		"against the signs": func(i int) byte { return byte(0xff * (1 - i%2)) },
	} {
		bl := I8BlockLen(dim)
		blk := make([]byte, 2*bl)
		for b := range 2 {
			codes := blk[b*bl : b*bl+i8CodesLen(dim)]
			for i := range codes {
				codes[i] = pattern(i)
			}
			for l := range Lanes {
				binary.LittleEndian.PutUint32(blk[b*bl+i8CodesLen(dim)+4*l:], math.Float32bits(1/float32(l+1)))
			}
		}
		got, want := make([]float32, 2*Lanes), make([]float32, 2*Lanes)
		gm, wm := make([]uint32, 2), make([]uint32, 2)
		DotI8Blocks(&pq, blk, 2, 0, got, gm)
		dotI8BlocksGeneric(&pq, blk, len(pq.Packed)/32, 2, 0, want, wm)
		if !bitsEqual(got, want) || gm[0] != wm[0] || gm[1] != wm[1] {
			t.Fatalf("%s: %v (masks %b), twin %v (%b)", name, got, gm, want, wm)
		}
	}
}
