package enclave

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"
)

// TestOptimisticScanMatchesLockedScan: whatever adds and removes happen
// between an unlocked scan and its correction, the corrected best two equal
// a scan of the current gallery under the lock (the plain reference).
func TestOptimisticScanMatchesLockedScan(t *testing.T) {
	const dim = 32
	for trial := range 200 {
		t.Run(fmt.Sprint(trial), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(trial), 1))
			s := &Service{index: NewExactIndex(dim), ids: map[int]identity{}, slots: map[uuid.UUID]int{}, inflight: map[uint64]int{}}
			n := 0
			add := func() {
				n++
				v := personVector(r.IntN(50)+1, dim)
				if r.IntN(3) == 0 {
					v = personVector(1000+n, dim)
				}
				s.mu.Lock()
				if err := s.addLocked(&identity{uniqueID: uuid.UUID{0: byte(n), 1: byte(n >> 8)}}, v); err != nil {
					t.Fatal(err)
				}
				s.mu.Unlock()
			}
			remove := func() {
				s.mu.Lock()
				defer s.mu.Unlock()
				for uid := range s.slots {
					if err := s.removeLocked(uid); err != nil {
						t.Fatal(err)
					}
					return
				}
			}
			for range r.IntN(30) {
				add()
			}
			q := personVector(r.IntN(50)+1, dim)
			// A second scan in flight keeps changes alive across ours.
			other := s.beginScan()
			g0 := s.beginScan()
			scanned, err := s.index.Search(q, searchK)
			if err != nil {
				t.Fatal(err)
			}
			for range r.IntN(12) {
				if r.IntN(3) == 0 {
					remove()
				} else {
					add()
				}
			}
			s.mu.Lock()
			got, ok := s.correctLocked(q, scanned, g0)
			want, _ := s.index.Search(q, 2)
			s.endScanLocked(g0)
			s.endScanLocked(other)
			if len(s.changes) != 0 || len(s.inflight) != 0 {
				t.Fatalf("%d changes and %d scans left", len(s.changes), len(s.inflight))
			}
			s.mu.Unlock()
			if !ok {
				return // the caller re-scans under the lock: correct by construction
			}
			if len(got) > 2 {
				got = got[:2]
			}
			if len(got) != len(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			for i := range got {
				if got[i].Slot != want[i].Slot || abs32(got[i].Score-want[i].Score) > 1e-5 {
					t.Fatalf("got %v, want %v", got, want)
				}
			}
			p := testPolicy(fakeEngine{})
			if dg, dw := Decide(p, got), Decide(p, want); dg.Outcome != dw.Outcome || dg.Slot != dw.Slot {
				t.Fatalf("decisions differ: %v vs %v", Decide(p, got), Decide(p, want))
			}
		})
	}
}
