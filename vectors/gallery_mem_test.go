package vectors

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"unsafe"
)

func TestArena(t *testing.T) {
	for _, mapFrom := range []int{0, 1000, defaultMapFrom} {
		t.Run(fmt.Sprintf("mapFrom=%d", mapFrom), func(t *testing.T) {
			a := &arena{mapFrom: mapFrom}
			defer a.release()
			var got [][]byte
			for _, n := range []int{1, 64, 100, 3 << 20, 5000, hugePage, 7} {
				b := a.alloc(n)
				if len(b) < n || cap(b) != len(b) {
					t.Fatalf("alloc(%d): len %d cap %d", n, len(b), cap(b))
				}
				if p := uintptr(unsafe.Pointer(unsafe.SliceData(b))); p%64 != 0 {
					t.Fatalf("alloc(%d) at %#x: not 64-byte aligned", n, p)
				}
				for i, x := range b {
					if x != 0 {
						t.Fatalf("alloc(%d): byte %d is %d", n, i, x)
					}
				}
				for i := range b {
					b[i] = byte(len(got))
				}
				got = append(got, b)
			}
			// No two allocations overlap.
			for i, b := range got {
				for j, x := range b {
					if x != byte(i) {
						t.Fatalf("allocation %d byte %d overwritten with %d", i, j, x)
					}
				}
			}
			if f := a.allocF32(10); len(f) != 10 {
				t.Fatalf("allocF32(10): %d values", len(f))
			}
		})
	}
}

// TestGalleryMappedMemory runs galleries whose scanned memory is mapped
// (huge-page advised) from the first segment, or from the second one on,
// against a gallery on the Go heap: same results bit for bit, also after
// removals, and the mappings are released with the gallery.
func TestGalleryMappedMemory(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	const dim, n = 192, 5000
	vs := make([][]float32, n)
	for i := range vs {
		vs[i] = galRandVec(r, dim)
	}
	qs := [][]float32{galRandVec(r, dim), galRandVec(r, dim), slices.Clone(vs[4321])}
	for _, typ := range galTypes() {
		t.Run(typ.String(), func(t *testing.T) {
			var gs []*Gallery
			for _, mapFrom := range []int{defaultMapFrom, 0, 1} {
				g, err := NewGallery(dim, GalleryOptions{Type: typ, Threads: 2})
				if err != nil {
					t.Fatal(err)
				}
				g.mem.mapFrom = mapFrom
				for _, v := range vs {
					if _, err := g.Add(v); err != nil {
						t.Fatal(err)
					}
				}
				for s := Slot(0); s < n; s += 7 {
					if err := g.Remove(s); err != nil {
						t.Fatal(err)
					}
				}
				gs = append(gs, g)
			}
			if len(gs[1].mem.runs) == 0 && runtime.GOOS == "linux" {
				t.Fatal("mapFrom 0: no mapped run")
			}
			if copies := len(gs[1].segs) * segSlots * dim * 4; typ == GalleryInt8 && gs[1].mem.total < copies {
				t.Fatalf("int8: the arena handed out %d bytes, less than the float32 copies' %d: the copies are on the Go heap", gs[1].mem.total, copies)
			}
			model := map[Slot][]float32{}
			for i, v := range vs {
				if i%7 != 0 {
					model[Slot(i)] = v
				}
			}
			for _, q := range qs {
				want, err := gs[0].Search(q, 10)
				if err != nil {
					t.Fatal(err)
				}
				galCheck(t, model, q, 10, want)
				for _, g := range gs[1:] {
					got, err := g.Search(q, 10)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("mapFrom %d: %v, heap gallery %v", g.mem.mapFrom, got, want)
					}
				}
				batch, err := gs[1].SearchBatch(qs, 10)
				if err != nil {
					t.Fatal(err)
				}
				for i, q := range qs {
					w, _ := gs[0].Search(q, 10)
					if !slices.Equal(batch[i], w) {
						t.Fatalf("query %d: mapped SearchBatch %v, heap Search %v", i, batch[i], w)
					}
				}
			}
			clear(gs)
			runtime.GC() // the cleanups unmap the runs; nothing may touch them after
			runtime.GC()
		})
	}
}
