package vectors

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
)

func TestCoalescerMatchesSearch(t *testing.T) {
	for _, typ := range galTypes() {
		t.Run(typ.String(), func(t *testing.T) {
			r := rand.New(rand.NewPCG(11, 11))
			dim := 24
			g, _ := NewGallery(dim, GalleryOptions{Type: typ, Threads: 2})
			for i := 0; i < 3000; i++ {
				g.Add(galRandVec(r, dim))
			}
			c, err := NewCoalescer(g, 5)
			if err != nil {
				t.Fatal(err)
			}
			const n = 40
			qs := make([][]float32, n)
			for i := range qs {
				qs[i] = galRandVec(r, dim)
			}
			got := make([][]Match, n)
			var wg sync.WaitGroup
			for i := range qs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					m, err := c.Search(qs[i], 1+i%7)
					if err != nil {
						t.Error(err)
					}
					got[i] = m
				}()
			}
			wg.Wait()
			for i, q := range qs {
				want, _ := g.Search(q, 1+i%7)
				if !slices.Equal(got[i], want) {
					t.Fatalf("query %d: coalesced %v, direct %v", i, got[i], want)
				}
			}
			if s, b := c.Stats(); s != n || b == 0 || b > n {
				t.Fatalf("stats: %d searches in %d batches", s, b)
			}
		})
	}
}

// TestCoalescerBatches holds the gallery's write lock so the first search
// blocks inside its pass; the others must then queue and be answered
// together (two passes for all of them).
func TestCoalescerBatches(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	dim := 16
	g, _ := NewGallery(dim, GalleryOptions{})
	for i := 0; i < 100; i++ {
		g.Add(galRandVec(r, dim))
	}
	c, _ := NewCoalescer(g, 0)
	const n = 9
	qs := make([][]float32, n)
	for i := range qs {
		qs[i] = galRandVec(r, dim)
	}
	g.mu.Lock()
	var wg sync.WaitGroup
	got := make([][]Match, n)
	search := func(i int) {
		defer wg.Done()
		m, err := c.Search(qs[i], 3)
		if err != nil {
			t.Error(err)
		}
		got[i] = m
	}
	wg.Add(1)
	go search(0)
	waitFor(func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.busy && len(c.pending) == 0 })
	for i := 1; i < n; i++ {
		wg.Add(1)
		go search(i)
	}
	waitFor(func() bool { c.mu.Lock(); defer c.mu.Unlock(); return len(c.pending) == n-1 })
	g.mu.Unlock()
	wg.Wait()
	if s, b := c.Stats(); s != n || b != 2 {
		t.Fatalf("%d searches in %d passes, want %d in 2", s, b, n)
	}
	for i, q := range qs {
		want, _ := g.Search(q, 3)
		if !slices.Equal(got[i], want) {
			t.Fatalf("query %d: %v, want %v", i, got[i], want)
		}
	}
}

func waitFor(cond func() bool) {
	for !cond() {
		runtime.Gosched()
	}
}

func TestCoalescerBadInput(t *testing.T) {
	g, _ := NewGallery(4, GalleryOptions{})
	g.Add([]float32{1, 0, 0, 0})
	c, _ := NewCoalescer(g, 2)
	if m, err := c.Search([]float32{1, 0, 0}, 1); !errors.Is(err, ErrGalleryDim) || m != nil {
		t.Fatalf("short query: %v %v", m, err)
	}
	if m, err := c.Search([]float32{1, 0, 0, 0}, 0); !errors.Is(err, ErrBadK) || m != nil {
		t.Fatalf("k=0: %v %v", m, err)
	}
	if s, b := c.Stats(); s != 0 || b != 0 {
		t.Fatalf("bad input was counted: %d %d", s, b)
	}
	if _, err := NewCoalescer(nil, 1); !errors.Is(err, ErrGalleryOptions) {
		t.Fatalf("nil gallery: %v", err)
	}
	if _, err := NewCoalescer(g, -1); !errors.Is(err, ErrGalleryOptions) {
		t.Fatalf("negative max: %v", err)
	}
}

func ExampleCoalescer() {
	g, _ := NewGallery(2, GalleryOptions{})
	g.Add([]float32{1, 0})
	g.Add([]float32{0, 1})
	c, _ := NewCoalescer(g, 0)
	var wg sync.WaitGroup
	res := make([][]Match, 2)
	for i, q := range [][]float32{{0.6, 0.8}, {0.8, 0.6}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i], _ = c.Search(q, 1) // concurrent calls may share one pass
		}()
	}
	wg.Wait()
	fmt.Println(res[0][0].Slot, res[1][0].Slot)
	// Output: 1 0
}
