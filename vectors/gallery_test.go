package vectors

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"

	"github.com/facesign/facesign/vectors/internal/scan"
)

func galRandVec(r *rand.Rand, dim int) []float32 {
	for {
		v := make([]float32, dim)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		if Normalize(v) {
			return v
		}
	}
}

// galNear returns a unit vector close to base (cosine ≈ 1 − spread²/2).
func galNear(r *rand.Rand, base []float32, spread float64) []float32 {
	v := make([]float32, len(base))
	for i := range v {
		v[i] = base[i] + float32(r.NormFloat64()*spread/math.Sqrt(float64(len(base))))
	}
	Normalize(v)
	return v
}

func galTypes() []GalleryType { return []GalleryType{GalleryFloat32, GalleryInt8} }

// galRef is the float64 brute-force reference: every live entry, best first,
// ties broken by slot.
func galRef(model map[Slot][]float32, q []float32) []refMatch {
	out := make([]refMatch, 0, len(model))
	for s, v := range model {
		var d float64
		for i := range v {
			d += float64(v[i]) * float64(q[i])
		}
		out = append(out, refMatch{s, d})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].score != out[j].score {
			return out[i].score > out[j].score
		}
		return out[i].slot < out[j].slot
	})
	return out
}

type refMatch struct {
	slot  Slot
	score float64
}

// galF32Chain is an independent float32 score: the FMA chain in order.
func galF32Chain(v, q []float32) float32 {
	var acc float32
	for i := range v {
		acc = scan.FMA32(v[i], q[i], acc)
	}
	return acc
}

// galCheck verifies got against the float64 reference: right length, sorted,
// each score the exact float32 chain value and within 1e-5 of the float64
// score, and the set equal to the reference's top k up to scores that lie
// within float32 rounding (1e-5) of the k-th.
func galCheck(t *testing.T, model map[Slot][]float32, q []float32, k int, got []Match) {
	t.Helper()
	ref := galRef(model, q)
	want := min(k, len(ref))
	if len(got) != want {
		t.Fatalf("got %d matches, want %d", len(got), want)
	}
	score64 := map[Slot]float64{}
	for _, m := range ref {
		score64[m.slot] = m.score
	}
	in := map[Slot]bool{}
	for i, m := range got {
		v, ok := model[m.Slot]
		if !ok {
			t.Fatalf("match %d: slot %d is not live", i, m.Slot)
		}
		if in[m.Slot] {
			t.Fatalf("slot %d returned twice", m.Slot)
		}
		in[m.Slot] = true
		if c := galF32Chain(v, q); math.Float32bits(c) != math.Float32bits(m.Score) {
			t.Fatalf("match %d: score %v, float32 chain %v", i, m.Score, c)
		}
		if d := math.Abs(float64(m.Score) - score64[m.Slot]); d > 1e-5 {
			t.Fatalf("match %d: score %v, float64 reference %v", i, m.Score, score64[m.Slot])
		}
		if i > 0 && !better(got[i-1], m) {
			t.Fatalf("matches %d and %d out of order: %+v %+v", i-1, i, got[i-1], m)
		}
	}
	if want == 0 {
		return
	}
	kth := score64[got[want-1].Slot]
	for _, m := range ref {
		if m.score > kth+1e-5 && !in[m.slot] {
			t.Fatalf("slot %d (score %v) missing; k-th returned score %v", m.slot, m.score, kth)
		}
		if m.score < kth-1e-5 {
			break
		}
	}
	// Where the float64 reference has no near-ties, the order is identical.
	for i := range got {
		if math.Abs(ref[i].score-score64[got[i].Slot]) > 1e-5 {
			t.Fatalf("rank %d: got slot %d (%v), reference slot %d (%v)", i, got[i].Slot, score64[got[i].Slot], ref[i].slot, ref[i].score)
		}
	}
}

func TestGalleryExactRandom(t *testing.T) {
	for _, typ := range galTypes() {
		for _, dim := range []int{3, 17, 192} {
			for _, n := range []int{0, 1, 15, 17, 2500} {
				if dim == 3 && n > 100 {
					continue // several segments are covered by the larger dimensions
				}
				t.Run(fmt.Sprintf("%v/dim=%d/n=%d", typ, dim, n), func(t *testing.T) {
					t.Parallel()
					r := rand.New(rand.NewPCG(uint64(dim), uint64(n)))
					g, err := NewGallery(dim, GalleryOptions{Type: typ, Threads: 3, Rerank: 8})
					if err != nil {
						t.Fatal(err)
					}
					model := map[Slot][]float32{}
					for i := 0; i < n; i++ {
						v := galRandVec(r, dim)
						s, err := g.Add(v)
						if err != nil || s != Slot(i) {
							t.Fatalf("Add %d: slot %d, %v", i, s, err)
						}
						model[s] = v
					}
					var qs [][]float32
					for i := 0; i < 5; i++ {
						q := galRandVec(r, dim)
						if i == 0 && n > 0 {
							q = slices.Clone(model[Slot(n/2)]) // an enrolled face comes back
						}
						qs = append(qs, q)
					}
					ks := []int{1, 5, 40, n + 3}
					if n > 100 {
						ks[3] = 300
					}
					for _, k := range ks {
						batch, err := g.SearchBatch(qs, k)
						if err != nil {
							t.Fatal(err)
						}
						for i, q := range qs {
							got, err := g.Search(q, k)
							if err != nil {
								t.Fatal(err)
							}
							galCheck(t, model, q, k, got)
							if !slices.Equal(got, batch[i]) {
								t.Fatalf("k=%d query %d: SearchBatch %v, Search %v", k, i, batch[i], got)
							}
						}
					}
				})
			}
		}
	}
}

// TestGalleryTies stores the same vector in many slots: equal scores must
// come back in slot order, for every kernel.
func TestGalleryTies(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 1))
	dim := 64
	dup := galRandVec(r, dim)
	for _, typ := range galTypes() {
		t.Run(typ.String(), func(t *testing.T) {
			g, _ := NewGallery(dim, GalleryOptions{Type: typ, Threads: 2, Rerank: 4})
			var dupSlots []Slot
			for i := 0; i < 3000; i++ {
				v := galRandVec(r, dim)
				if i%97 == 5 {
					v = dup
				}
				s, err := g.Add(v)
				if err != nil {
					t.Fatal(err)
				}
				if i%97 == 5 {
					dupSlots = append(dupSlots, s)
				}
			}
			qs := [][]float32{dup, galRandVec(r, dim), dup}
			batch, err := g.SearchBatch(qs, 10)
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.Search(dup, 10)
			if err != nil {
				t.Fatal(err)
			}
			for _, res := range [][]Match{got, batch[0], batch[2]} {
				for i, m := range res {
					if m.Slot != dupSlots[i] || m.Score != res[0].Score {
						t.Fatalf("rank %d: %+v, want slot %d with the top score", i, m, dupSlots[i])
					}
				}
			}
		})
	}
}

// TestGalleryInt8EqualsFloat32 checks that int8 storage returns the float32
// answer bit for bit, including on clustered data where many scores are
// within the int8 error and the certified second pass must run.
func TestGalleryInt8EqualsFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	dim := 128
	data := map[string][][]float32{}
	var rnd, clu [][]float32
	centre := galRandVec(r, dim)
	for i := 0; i < 3000; i++ {
		rnd = append(rnd, galRandVec(r, dim))
		clu = append(clu, galNear(r, centre, 0.02))
	}
	data["random"], data["clustered"] = rnd, clu
	for name, vs := range data {
		t.Run(name, func(t *testing.T) {
			f, _ := NewGallery(dim, GalleryOptions{Type: GalleryFloat32})
			q8, _ := NewGallery(dim, GalleryOptions{Type: GalleryInt8, Rerank: 16})
			for _, v := range vs {
				if _, err := f.Add(v); err != nil {
					t.Fatal(err)
				}
				if _, err := q8.Add(v); err != nil {
					t.Fatal(err)
				}
			}
			var qs [][]float32
			for i := 0; i < 12; i++ {
				if name == "clustered" {
					qs = append(qs, galNear(r, centre, 0.02))
				} else {
					qs = append(qs, galRandVec(r, dim))
				}
			}
			for _, k := range []int{1, 3, 10} {
				fb, _ := f.SearchBatch(qs, k)
				ib, _ := q8.SearchBatch(qs, k)
				for i, q := range qs {
					a, _ := f.Search(q, k)
					b, _ := q8.Search(q, k)
					if !slices.Equal(a, b) || !slices.Equal(a, fb[i]) || !slices.Equal(a, ib[i]) {
						t.Fatalf("k=%d query %d: f32 %v, int8 %v, batches %v %v", k, i, a, b, fb[i], ib[i])
					}
				}
			}
			st := q8.Stats()
			if name == "clustered" && st.Fallbacks == 0 {
				t.Fatalf("clustered data never needed the second pass: %+v", st)
			}
			if st.Searches != 12*3*2 {
				t.Fatalf("searches counted %d", st.Searches)
			}
		})
	}
}

// TestGalleryInterleavings runs random sequences of Add, Set, Remove and
// searches against a map model and the float64 reference.
func TestGalleryInterleavings(t *testing.T) {
	for _, typ := range galTypes() {
		for seed := uint64(0); seed < 6; seed++ {
			t.Run(fmt.Sprintf("%v/seed=%d", typ, seed), func(t *testing.T) {
				t.Parallel()
				r := rand.New(rand.NewPCG(seed, 99))
				dim := 8 + int(seed)
				g, _ := NewGallery(dim, GalleryOptions{Type: typ, Threads: 1 + int(seed%3), Rerank: 1 + int(seed)})
				model := map[Slot][]float32{}
				hw := 0
				for op := 0; op < 600; op++ {
					switch x := r.IntN(10); {
					case x < 4: // Add takes the lowest free slot
						v := galRandVec(r, dim)
						want := Slot(hw)
						for s := 0; s < hw; s++ {
							if _, ok := model[Slot(s)]; !ok {
								want = Slot(s)
								break
							}
						}
						s, err := g.Add(v)
						if err != nil || s != want {
							t.Fatalf("op %d: Add = %d, %v; want slot %d", op, s, err, want)
						}
						model[s] = v
						hw = max(hw, int(s)+1)
					case x < 5: // Set, sometimes far beyond the end
						s := Slot(r.IntN(hw + 40))
						v := galRandVec(r, dim)
						if err := g.Set(s, v); err != nil {
							t.Fatal(err)
						}
						model[s] = v
						hw = max(hw, int(s)+1)
					case x < 7: // Remove, live or not
						s := Slot(r.IntN(hw + 3))
						err := g.Remove(s)
						if _, ok := model[s]; ok != (err == nil) {
							t.Fatalf("op %d: Remove(%d) = %v, live %v", op, s, err, ok)
						}
						if err != nil && !errors.Is(err, ErrUnknownSlot) {
							t.Fatalf("Remove error %v", err)
						}
						delete(model, s)
					default:
						q := galRandVec(r, dim)
						if len(model) > 0 && r.IntN(2) == 0 {
							for _, v := range model {
								q = v
								break
							}
						}
						k := 1 + r.IntN(12)
						got, err := g.Search(q, k)
						if err != nil {
							t.Fatal(err)
						}
						galCheck(t, model, q, k, got)
						b, err := g.SearchBatch([][]float32{q, q, galRandVec(r, dim)}, k)
						if err != nil || !slices.Equal(b[0], got) || !slices.Equal(b[1], got) {
							t.Fatalf("op %d: batch %v, single %v, %v", op, b, got, err)
						}
					}
					if g.Len() != len(model) {
						t.Fatalf("op %d: Len %d, model %d", op, g.Len(), len(model))
					}
				}
				for s, v := range model {
					got, err := g.Vector(s)
					if err != nil || !slices.Equal(got, v) {
						t.Fatalf("Vector(%d) = %v, %v", s, got, err)
					}
				}
			})
		}
	}
}

func TestGalleryBadInput(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	dim := 16
	good := galRandVec(r, dim)
	nan := slices.Clone(good)
	nan[3] = float32(math.NaN())
	inf := slices.Clone(good)
	inf[0] = float32(math.Inf(1))
	long := slices.Clone(good)
	long[1] *= 1.01
	zero := make([]float32, dim)
	vecCases := []struct {
		name string
		v    []float32
		want error
	}{
		{"short", good[:dim-1], ErrGalleryDim},
		{"long", append(slices.Clone(good), 0), ErrGalleryDim},
		{"nil", nil, ErrGalleryDim},
		{"nan", nan, ErrGalleryNotFinite},
		{"inf", inf, ErrGalleryNotFinite},
		{"not unit", long, ErrGalleryNotUnit},
		{"zero", zero, ErrGalleryNotUnit},
	}
	for _, typ := range galTypes() {
		g, _ := NewGallery(dim, GalleryOptions{Type: typ})
		s0, _ := g.Add(good)
		before, _ := g.Search(good, 5)
		for _, c := range vecCases {
			t.Run(typ.String()+"/"+c.name, func(t *testing.T) {
				if _, err := g.Add(c.v); !errors.Is(err, c.want) {
					t.Errorf("Add: %v, want %v", err, c.want)
				}
				if err := g.Set(s0, c.v); !errors.Is(err, c.want) {
					t.Errorf("Set: %v, want %v", err, c.want)
				}
				if m, err := g.Search(c.v, 1); !errors.Is(err, c.want) || m != nil {
					t.Errorf("Search: %v %v, want %v", m, err, c.want)
				}
				if m, err := g.SearchBatch([][]float32{good, c.v}, 1); !errors.Is(err, c.want) || m != nil {
					t.Errorf("SearchBatch: %v %v, want %v", m, err, c.want)
				}
			})
		}
		t.Run(typ.String()+"/k", func(t *testing.T) {
			for _, k := range []int{0, -1} {
				if m, err := g.Search(good, k); !errors.Is(err, ErrBadK) || m != nil {
					t.Errorf("Search k=%d: %v %v", k, m, err)
				}
				if m, err := g.SearchBatch([][]float32{good}, k); !errors.Is(err, ErrBadK) || m != nil {
					t.Errorf("SearchBatch k=%d: %v %v", k, m, err)
				}
			}
		})
		t.Run(typ.String()+"/slots", func(t *testing.T) {
			for _, s := range []Slot{1, 2, 1 << 20, math.MaxUint32} {
				if err := g.Remove(s); !errors.Is(err, ErrUnknownSlot) {
					t.Errorf("Remove(%d): %v", s, err)
				}
				if v, err := g.Vector(s); !errors.Is(err, ErrUnknownSlot) || v != nil {
					t.Errorf("Vector(%d): %v", s, err)
				}
			}
			for _, s := range []Slot{math.MaxUint32, MaxSetGap + 1, 1 << 30} {
				if err := g.Set(s, good); !errors.Is(err, ErrGalleryFull) {
					t.Errorf("Set(%d): %v", s, err)
				}
			}
		})
		// Nothing above changed the gallery.
		if after, err := g.Search(good, 5); err != nil || !slices.Equal(before, after) || g.Len() != 1 {
			t.Fatalf("gallery changed by bad input: %v → %v (%v), len %d", before, after, err, g.Len())
		}
	}
	optCases := []struct {
		dim  int
		opts GalleryOptions
	}{
		{0, GalleryOptions{}},
		{-3, GalleryOptions{}},
		{scan.MaxDim + 1, GalleryOptions{}},
		{8, GalleryOptions{Type: 7}},
		{8, GalleryOptions{Threads: -1}},
		{8, GalleryOptions{Rerank: -1}},
	}
	for _, c := range optCases {
		if g, err := NewGallery(c.dim, c.opts); !errors.Is(err, ErrGalleryOptions) || g != nil {
			t.Errorf("NewGallery(%d, %+v): %v", c.dim, c.opts, err)
		}
	}
	if _, err := ParseGalleryType("f16"); !errors.Is(err, ErrGalleryOptions) {
		t.Errorf("ParseGalleryType: %v", err)
	}
	g, _ := NewGallery(4, GalleryOptions{})
	if m, err := g.Search([]float32{1, 0, 0, 0}, 3); err != nil || len(m) != 0 {
		t.Errorf("empty gallery: %v %v", m, err)
	}
	if m, err := g.SearchBatch(nil, 3); err != nil || len(m) != 0 {
		t.Errorf("empty batch: %v %v", m, err)
	}
}

// TestGalleryConcurrent runs searches in parallel with writers; -race checks
// the locking, and every answer must be well-formed.
func TestGalleryConcurrent(t *testing.T) {
	for _, typ := range galTypes() {
		t.Run(typ.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 3))
			dim := 32
			g, _ := NewGallery(dim, GalleryOptions{Type: typ, Threads: 2})
			for i := 0; i < 500; i++ {
				g.Add(galRandVec(r, dim))
			}
			qs := make([][]float32, 8)
			for i := range qs {
				qs[i] = galRandVec(r, dim)
			}
			vs := make([][]float32, 200)
			for i := range vs {
				vs[i] = galRandVec(r, dim)
			}
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 30; i++ {
						var res [][]Match
						var err error
						if i%2 == 0 {
							res, err = g.SearchBatch(qs, 4)
						} else {
							var m []Match
							m, err = g.Search(qs[i%len(qs)], 4)
							res = [][]Match{m}
						}
						if err != nil {
							t.Error(err)
							return
						}
						for _, m := range res {
							if len(m) != 4 || !slices.IsSortedFunc(m, func(a, b Match) int {
								if better(a, b) {
									return -1
								}
								return 1
							}) {
								t.Errorf("malformed answer %v", m)
							}
						}
					}
				}()
			}
			for i, v := range vs {
				s, err := g.Add(v)
				if err != nil {
					t.Fatal(err)
				}
				if i%3 == 0 {
					if err := g.Remove(s); err != nil {
						t.Fatal(err)
					}
				}
			}
			wg.Wait()
		})
	}
}

func ExampleGallery() {
	g, err := NewGallery(3, GalleryOptions{Type: GalleryInt8})
	if err != nil {
		panic(err)
	}
	alice, _ := g.Add([]float32{1, 0, 0})
	bob, _ := g.Add([]float32{0, 0.6, 0.8})
	_ = g.Remove(alice)
	carol, _ := g.Add([]float32{0, 0.8, 0.6}) // reuses alice's slot
	m, _ := g.Search([]float32{0, 0.6, 0.8}, 2)
	fmt.Println(bob, carol, len(m))
	fmt.Printf("slot %d score %.2f\nslot %d score %.2f\n", m[0].Slot, m[0].Score, m[1].Slot, m[1].Score)
	// Output:
	// 1 0 2
	// slot 1 score 1.00
	// slot 0 score 0.96
}

// TestGalleryStreamRead checks the bandwidth yardstick reads exactly the
// bytes a search scans (whole 256-byte runs of each segment).
func TestGalleryStreamRead(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for _, typ := range galTypes() {
		for _, n := range []int{0, 1, 100, 2048 + 300} {
			t.Run(fmt.Sprintf("%v/n=%d", typ, n), func(t *testing.T) {
				g, err := NewGallery(192, GalleryOptions{Type: typ, Threads: 2})
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < n; i++ {
					if _, err := g.Add(galRandVec(r, 192)); err != nil {
						t.Fatal(err)
					}
				}
				var want int64
				for si := 0; si < g.nsegs(); si++ {
					nb := int64(g.segBlocksUsed(si))
					want += nb * scan.Lanes * int64(g.ScanBytesPerIdentity()) &^ 255
				}
				if got := g.StreamRead(); got != want {
					t.Fatalf("StreamRead read %d bytes, want %d", got, want)
				}
			})
		}
	}
}
