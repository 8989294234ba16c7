//go:build amd64 && !purego

package scan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/facesign/facesign/vectors/internal/isa"
)

// TestI8KernelAtLevel: the int8 kernels each level runs, so that level
// avx512 cannot fall back to the AVX2 kernels unnoticed on a CPU with
// AVX512_VNNI (and the bit-for-bit tests at cpu=avx512 do exercise VPDPBUSD).
func TestI8KernelAtLevel(t *testing.T) {
	if got, want := I8Kernel(), wantI8Kernel(isa.Selected()); got != want {
		t.Fatalf("at start (level %v): int8 kernels %q, want %q", isa.Selected(), got, want)
	}
	atEachLevel(t, func(t *testing.T) {
		if got, want := I8Kernel(), wantI8Kernel(level); got != want {
			t.Fatalf("level %v: int8 kernels %q, want %q", level, got, want)
		}
	})
}

func wantI8Kernel(l isa.Level) string {
	switch {
	case l >= isa.AVX512 && isa.HasVNNI():
		return "avx512vnni"
	case l >= isa.AVX2:
		return "avx2"
	}
	return "go"
}

// TestVNNIDetected: where Linux lists the CPU's flags, a CPU with AVX-512
// F, BW, DQ, VL and VNNI is detected as such (so the VNNI kernels are not
// skipped by a detection slip).
func TestVNNIDetected(t *testing.T) {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skip("no /proc/cpuinfo")
	}
	var flags []string
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			flags = strings.Fields(v)
			break
		}
	}
	has := func(names ...string) bool {
		for _, n := range names {
			if !slices.Contains(flags, n) {
				return false
			}
		}
		return true
	}
	if has("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512_vnni") && (isa.Detected() != isa.AVX512 || !isa.HasVNNI()) {
		t.Fatalf("cpuinfo lists AVX-512 F/BW/DQ/VL and VNNI; detected %v, VNNI %v", isa.Detected(), isa.HasVNNI())
	}
	t.Logf("detected %v, VNNI %v", isa.Detected(), isa.HasVNNI())
}

// The kernels called directly, whatever the dispatch level.
type i8Kernels struct {
	name    string
	blocks  func(q *I8Query, blocks []byte, groups, nblk int, thr float32, out []float32, masks []uint32)
	blocks4 func(q *I8Query, blocks []byte, groups, stride, nblk int, thr float32, out []float32, masks []uint32)
	group   func(qg *I8GroupQuery, block []byte, groups int, thr *[I8Group]float32, out *[I8Group * Lanes]float32, masks *[I8Group]uint32)
}

var (
	i8Generic = i8Kernels{"go", dotI8BlocksGeneric, dotI8Blocks4Generic, dotI8GroupGeneric}
	i8AVX2    = i8Kernels{"avx2",
		func(q *I8Query, blocks []byte, groups, nblk int, thr float32, out []float32, masks []uint32) {
			dotI8BlocksAVX2(unsafe.SliceData(q.Packed), q.Scale, q.Corr, unsafe.SliceData(blocks), groups, nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
		},
		func(q *I8Query, blocks []byte, groups, stride, nblk int, thr float32, out []float32, masks []uint32) {
			dotI8Blocks4AVX2(unsafe.SliceData(q.Packed), q.Scale, q.Corr, unsafe.SliceData(blocks), groups, stride*I8BlockLen(groups*4), nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
		},
		func(qg *I8GroupQuery, block []byte, groups int, thr *[I8Group]float32, out *[I8Group * Lanes]float32, masks *[I8Group]uint32) {
			dotI8GroupAVX2(unsafe.SliceData(qg.Packed), &qg.Scales[0], &qg.Corrs[0], unsafe.SliceData(block), groups, &thr[0], &out[0], &masks[0])
		},
	}
	i8VNNI = i8Kernels{"avx512vnni",
		func(q *I8Query, blocks []byte, groups, nblk int, thr float32, out []float32, masks []uint32) {
			dotI8BlocksVNNI(unsafe.SliceData(q.Packed), q.Scale, q.Corr, unsafe.SliceData(blocks), groups, nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
		},
		func(q *I8Query, blocks []byte, groups, stride, nblk int, thr float32, out []float32, masks []uint32) {
			dotI8Blocks4VNNI(unsafe.SliceData(q.Packed), q.Scale, q.Corr, unsafe.SliceData(blocks), groups, stride*I8BlockLen(groups*4), nblk, thr, unsafe.SliceData(out), unsafe.SliceData(masks))
		},
		func(qg *I8GroupQuery, block []byte, groups int, thr *[I8Group]float32, out *[I8Group * Lanes]float32, masks *[I8Group]uint32) {
			dotI8GroupVNNI(unsafe.SliceData(qg.Packed), &qg.Scales[0], &qg.Corrs[0], unsafe.SliceData(block), groups, &thr[0], &out[0], &masks[0])
		},
	}
)

// i8Thresholds: none, some (the median score: lanes equal to it pass) and
// all lanes pass, 0, a NaN threshold (no lane passes).
func i8Thresholds(scores []float32) []float32 {
	s := slices.Clone(scores)
	slices.Sort(s)
	return []float32{float32(math.Inf(1)), s[len(s)/2], s[len(s)/4], float32(math.Inf(-1)), 0, float32(math.NaN())}
}

// TestDotI8VNNIAgainstAVX2 compares the three int8 kernel sets bit for bit
// (scores and masks) on the shapes of the level tests and more: dimensions
// with an odd number of groups and below one unrolled step, one to five
// blocks, the four-stream strides, every kind of threshold, and the stored
// and query codes at their extremes.
func TestDotI8VNNIAgainstAVX2(t *testing.T) {
	if !isa.Supported(isa.AVX512) || !isa.HasVNNI() {
		t.Skipf("no AVX-512 VNNI here (detected %v, VNNI %v)", isa.Detected(), isa.HasVNNI())
	}
	r := rand.New(rand.NewPCG(21, 22))
	kernels := []i8Kernels{i8Generic, i8AVX2, i8VNNI}
	allDims := append(slices.Clone(dims), 2, 8, 12, 16, 20, 24, 28, 700, 704, MaxDim)
	for _, dim := range allDims {
		groups := PadDim(dim) / 4
		for _, c := range []struct{ stride, nblk int }{{1, 1}, {2, 1}, {1, 2}, {3, 2}, {5, 3}, {5, 5}} {
			total := (Streams-1)*c.stride + c.nblk
			blocks, _, _ := randI8Blocks(r, dim, total)
			qs := make([]I8Query, I8Group)
			for j := range qs {
				qs[j] = PackI8Query(randVec(r, dim))
			}
			ref := make([]float32, total*Lanes)
			dotI8BlocksGeneric(&qs[0], blocks, groups, total, 0, ref, make([]uint32, total))
			for ti, thr := range i8Thresholds(ref) {
				name := fmt.Sprintf("dim=%d/stride=%d/nblk=%d/thr%d", dim, c.stride, c.nblk, ti)
				var want1, want4 []float32
				var wm1, wm4 []uint32
				for ki, k := range kernels {
					got1, gm1 := make([]float32, total*Lanes), make([]uint32, total)
					k.blocks(&qs[0], blocks, groups, total, thr, got1, gm1)
					n := Streams * c.nblk
					got4, gm4 := make([]float32, n*Lanes), make([]uint32, n)
					k.blocks4(&qs[0], blocks, groups, c.stride, c.nblk, thr, got4, gm4)
					if ki == 0 {
						want1, wm1, want4, wm4 = got1, gm1, got4, gm4
						continue
					}
					if !bitsEqual(got1, want1) || !slices.Equal(gm1, wm1) {
						t.Fatalf("%s: %s one-stream kernel differs from the Go twin:\n%v %x\n%v %x", name, k.name, got1, gm1, want1, wm1)
					}
					if !bitsEqual(got4, want4) || !slices.Equal(gm4, wm4) {
						t.Fatalf("%s: %s four-stream kernel differs from the Go twin:\n%v %x\n%v %x", name, k.name, got4, gm4, want4, wm4)
					}
				}
				var thrs [I8Group]float32
				for j := range thrs {
					thrs[j] = thr
				}
				thrs[I8Group-1] = float32(math.Inf(-1))
				qg := PackI8Group(qs[:1+ti%I8Group], dim)
				for b := 0; b < min(total, 2); b++ {
					blk := blocks[b*I8BlockLen(dim) : (b+1)*I8BlockLen(dim)]
					var want [I8Group * Lanes]float32
					var wm [I8Group]uint32
					for ki, k := range kernels {
						var got [I8Group * Lanes]float32
						var gm [I8Group]uint32
						k.group(&qg, blk, groups, &thrs, &got, &gm)
						if ki == 0 {
							want, wm = got, gm
						} else if !bitsEqual(got[:], want[:]) || gm != wm {
							t.Fatalf("%s block %d: %s group kernel differs from the Go twin", name, b, k.name)
						}
					}
				}
			}
		}
	}
	// Extreme codes at the largest dimension: stored bytes 0x00 / 0xff
	// against query codes ±QueryMax.
	q := make([]float32, MaxDim)
	for d := range q {
		q[d] = float32(1 - 2*(d%2))
	}
	pq := PackI8Query(q)
	groups := MaxDim / 4
	bl := I8BlockLen(MaxDim)
	for pi, pattern := range []func(i int) byte{
		func(int) byte { return 0x00 },
		func(int) byte { return 0xff },
		func(i int) byte { return byte(0xff * (i % 2)) },
		func(i int) byte { return byte(0xff * (1 - i%2)) },
	} {
		blocks := make([]byte, Streams*bl)
		for b := range Streams {
			for i := range i8CodesLen(MaxDim) {
				blocks[b*bl+i] = pattern(i + b)
			}
			for l := range Lanes {
				*(*float32)(unsafe.Pointer(&blocks[b*bl+i8CodesLen(MaxDim)+4*l])) = 1 / float32(l+1)
			}
		}
		var want []float32
		var wm []uint32
		for ki, k := range kernels {
			got, gm := make([]float32, Streams*Lanes), make([]uint32, Streams)
			k.blocks4(&pq, blocks, groups, 1, 1, 0, got, gm)
			if ki == 0 {
				want, wm = got, gm
			} else if !bitsEqual(got, want) || !slices.Equal(gm, wm) {
				t.Fatalf("pattern %d: %s four-stream kernel differs from the Go twin", pi, k.name)
			}
		}
	}
}
