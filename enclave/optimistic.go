package enclave

import (
	"slices"
)

// Optimistic search. The 1:N scan is the expensive part of a decision and
// is memory-bound; holding the decide + write lock during it would serialise
// every scan and defeat coalescing (one pass over the gallery for many
// queries). So a request scans WITHOUT the lock, remembering the gallery
// generation it started at, and then, under the lock, corrects the result
// for every change made since: slots added or removed after that generation
// are dropped from the scan's answer and re-scored exactly from their
// current vectors. The decision is therefore made on exactly the gallery the
// write will change — the same guarantee as scanning under the lock — and
// two concurrent enrolments of one face still end with one identity.

// change is one gallery modification after some in-flight scan started.
type change struct {
	gen  uint64
	slot int
	vec  []float32 // the added vector; nil for a removal
}

// beginScan registers an in-flight scan and returns its start generation.
func (s *Service) beginScan() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight[s.gen]++
	return s.gen
}

// endScanLocked unregisters the scan started at g0 and drops changes no
// in-flight scan needs any more. Called with s.mu held.
func (s *Service) endScanLocked(g0 uint64) {
	if s.inflight[g0]--; s.inflight[g0] == 0 {
		delete(s.inflight, g0)
	}
	if len(s.inflight) == 0 {
		s.changes = s.changes[:0]
		return
	}
	oldest := ^uint64(0)
	for g := range s.inflight {
		oldest = min(oldest, g)
	}
	i := 0
	for i < len(s.changes) && s.changes[i].gen <= oldest {
		i++
	}
	s.changes = slices.Delete(s.changes, 0, i)
}

// recordLocked bumps the generation after a change to the index and keeps
// the change while scans are in flight. Called with s.mu held.
func (s *Service) recordLocked(slot int, vec []float32) {
	s.gen++
	if len(s.inflight) > 0 {
		s.changes = append(s.changes, change{gen: s.gen, slot: slot, vec: slices.Clone(vec)})
	}
}

// correctLocked turns the matches of a scan started at g0 (k slots asked
// for, see [Service.searchK]) into the matches against the current gallery,
// best first, one per live slot. ok is false when too many of the scan's
// answers were touched to know the best slots of two untouched identities;
// the caller then scans again under the lock. Called with s.mu held.
//
// Why two identities suffice: an identity's best score is its first slot in
// the sorted list. Every slot the scan did not return and nobody touched
// scores at most the scan's last answer, which the untouched answers of two
// identities are at least — so the best two identities are exact, and the
// decision needs no more.
func (s *Service) correctLocked(q []float32, scanned []Match, g0 uint64, k int) (out []Match, ok bool) {
	touched := map[int][]float32{} // slot → its latest vector (nil: removed)
	for _, c := range s.changes {
		if c.gen > g0 {
			touched[c.slot] = c.vec
		}
	}
	if len(touched) == 0 {
		return scanned, true
	}
	owners := map[int]bool{} // by enrolment slot
	for _, m := range scanned {
		if _, t := touched[m.Slot]; !t {
			if key, live := s.ownerLocked(m.Slot); live {
				out = append(out, m)
				owners[key] = true
			}
		}
	}
	if len(scanned) == k && len(owners) < 2 {
		return nil, false
	}
	for slot, vec := range touched {
		if vec == nil {
			continue
		}
		if _, live := s.ownerLocked(slot); !live {
			continue
		}
		out = append(out, Match{Slot: slot, Score: exactScore(vec, q)})
	}
	sortMatches(out)
	return out, true
}
