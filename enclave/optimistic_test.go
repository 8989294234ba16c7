package enclave

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

// bestPerIdentity is the plain reference the optimistic scan is checked
// against: every identity's best score over every vector it keeps, best
// first (ties: the lower enrolment slot), computed from scratch.
func bestPerIdentity(t *testing.T, s *Service, q []float32) []Match {
	t.Helper()
	var out []Match
	for _, key := range s.byID {
		id := s.ids[key]
		best := float32(-2)
		for _, slot := range id.slots {
			if slot < 0 {
				continue
			}
			v, err := s.index.Vector(slot)
			if err != nil {
				t.Fatal(err)
			}
			best = max(best, exactScore(v, q))
		}
		out = append(out, Match{Slot: id.slots[0], Score: best})
	}
	sortMatches(out)
	return out
}

// TestOptimisticScanMatchesLockedScan: whatever adds, removes and template
// changes happen between an unlocked scan and its correction, the corrected
// best two identities equal the plain per-identity reference on the
// current gallery — with one template per identity and with four.
func TestOptimisticScanMatchesLockedScan(t *testing.T) {
	const dim = 32
	for _, k := range []int{1, 4} {
		for trial := range 150 {
			t.Run(fmt.Sprintf("K=%d/%d", k, trial), func(t *testing.T) {
				r := rand.New(rand.NewPCG(uint64(trial), uint64(k)))
				pol := wire.Policy{MaxTemplates: k, MatchThreshold: 0.6, NewThreshold: 0.4, Margin: 0.1}
				s := &Service{policy: pol, index: NewExactIndex(dim), ids: map[int]identity{}, tmpl: map[int]int{}, byID: map[uuid.UUID]int{}, inflight: map[uint64]int{}}
				n := 0
				person := map[int]int{} // enrolment slot → person
				add := func() {
					n++
					p := r.IntN(50) + 1
					v := personVector(p, dim)
					if r.IntN(3) == 0 {
						v = personVector(1000+n, dim)
					}
					s.mu.Lock()
					id := &identity{uniqueID: uuid.UUID{0: byte(n), 1: byte(n >> 8)}}
					if err := s.addLocked(id, v); err != nil {
						t.Fatal(err)
					}
					person[id.slots[0]] = p
					s.mu.Unlock()
				}
				// someone returns the enrolment slot of a random identity.
				someone := func() (int, bool) {
					keys := slices.Sorted(func(yield func(int) bool) {
						for _, key := range s.byID {
							if !yield(key) {
								return
							}
						}
					})
					if len(keys) == 0 {
						return 0, false
					}
					return keys[r.IntN(len(keys))], true
				}
				remove := func() {
					s.mu.Lock()
					defer s.mu.Unlock()
					if key, ok := someone(); ok {
						if err := s.removeLocked(s.ids[key].uniqueID); err != nil {
							t.Fatal(err)
						}
					}
				}
				template := func() {
					s.mu.Lock()
					defer s.mu.Unlock()
					key, ok := someone()
					if !ok || k < 2 {
						return
					}
					// Another view of the same person, or (rarely) someone else's.
					v := personVector(person[key], dim)
					w := personVector(2000+r.IntN(1000), dim)
					mix := float32(0.3)
					if r.IntN(5) == 0 {
						mix = 3
					}
					for i := range v {
						v[i] += mix * w[i]
					}
					vectors.Normalize(v)
					if err := s.addTemplateLocked(key, 1+r.IntN(k-1), v); err != nil {
						t.Fatal(err)
					}
				}
				change := func() {
					switch r.IntN(4) {
					case 0:
						remove()
					case 1:
						template()
					default:
						add()
					}
				}
				for range r.IntN(30) {
					add()
				}
				for range r.IntN(20) {
					template()
				}
				q := personVector(r.IntN(50)+1, dim)
				// A second scan in flight keeps changes alive across ours.
				other := s.beginScan()
				g0 := s.beginScan()
				sk := s.searchK()
				scanned, err := s.index.Search(q, sk)
				if err != nil {
					t.Fatal(err)
				}
				for range r.IntN(12) {
					change()
				}
				s.mu.Lock()
				got, ok := s.correctLocked(q, scanned, g0, sk)
				if !ok { // the caller re-scans under the lock
					if got, err = s.index.Search(q, k+1); err != nil {
						t.Fatal(err)
					}
				}
				gotIDs := s.perIdentityLocked(got)
				want := bestPerIdentity(t, s, q)
				checkTablesLocked(t, s)
				s.endScanLocked(g0)
				s.endScanLocked(other)
				if len(s.changes) != 0 || len(s.inflight) != 0 {
					t.Fatalf("%d changes and %d scans left", len(s.changes), len(s.inflight))
				}
				s.mu.Unlock()
				if len(gotIDs) > 2 {
					gotIDs = gotIDs[:2]
				}
				if len(want) > 2 {
					want = want[:2]
				}
				if len(gotIDs) != len(want) {
					t.Fatalf("got %v, want %v", gotIDs, want)
				}
				for i := range gotIDs {
					if gotIDs[i].Slot != want[i].Slot || abs32(gotIDs[i].Score-want[i].Score) > 1e-5 {
						t.Fatalf("got %v, want %v", gotIDs, want)
					}
				}
				if dg, dw := Decide(pol, gotIDs), Decide(pol, want); dg.Outcome != dw.Outcome || dg.Slot != dw.Slot {
					t.Fatalf("decisions differ: %v vs %v", dg, dw)
				}
			})
		}
	}
}
