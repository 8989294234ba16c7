package enclave

import (
	"errors"
	"fmt"

	"github.com/facesign/facesign/wire"
)

// Templates per identity.
//
// An identity keeps up to K vectors (the policy's MaxTemplates, at most
// [MaxTemplates]): position 0 is its enrolment vector, positions 1…K−1 are
// later captures that matched it strongly. The 1:N index holds every one of
// them in its own slot; a capture is scored against an identity by its best
// vector, and the decision rule sees one score per identity, never two
// slots of one identity as two identities.
//
// A capture becomes a template of the identity it matched when all hold:
//
//   - the decision was existing (enrol of a known face, or login): the
//     best score cleared the match threshold and every other identity
//     stayed below it by the margin;
//   - the best score reaches the "strong match" level above the match
//     threshold (a false match that strong is far rarer than one at the
//     threshold, so a stranger's face almost never becomes someone's
//     template): the policy's TemplateMatch, or under a threshold rule the
//     level its TemplateEpsilon gives at the gallery's size
//     ([calib.Curve.TemplateLevelsAt]: N × FMR(strong) ≤ TemplateEpsilon);
//   - the capture scores below the near-copy level (TemplateNovel, or the
//     rule's) against every vector the identity keeps: it adds a view the
//     identity does not have yet, not a near-copy.
//
// Where it goes: the lowest free position 1…K−1; when all are taken, the
// position whose template is nearest the capture (highest cosine; ties:
// the lower position) — the capture covers what that template covered, so
// the set stays as spread out as it can, and a face that changes slowly
// over the years replaces its nearest old view first. The enrolment vector
// is never replaced: it was checked against the whole gallery as a new
// person, and it anchors the identity against drifting towards someone else.
//
// Every template change is an [OpAddTemplate] record; it takes the place
// of the [OpNone] record the request would otherwise write, so the parent
// still sees exactly one record of one size per request.

// checkTemplatePolicy validates the template part of a policy.
func checkTemplatePolicy(p wire.Policy) error {
	switch {
	case p.MaxTemplates < 0 || p.MaxTemplates > MaxTemplates:
		return fmt.Errorf("enclave: policy max templates %d outside 0…%d", p.MaxTemplates, MaxTemplates)
	case p.MaxTemplates <= 1:
		if p.TemplateMatch != 0 || p.TemplateNovel != 0 {
			return fmt.Errorf("enclave: policy template levels set without templates")
		}
	case !(p.TemplateMatch >= p.MatchThreshold && p.TemplateMatch <= p.TemplateNovel && p.TemplateNovel <= 1):
		return fmt.Errorf("enclave: policy template levels must satisfy match threshold (%v) ≤ template match (%v) ≤ template novel (%v) ≤ 1",
			p.MatchThreshold, p.TemplateMatch, p.TemplateNovel)
	}
	return nil
}

// templatesK is the policy's K: how many vectors one identity keeps.
func templatesK(p wire.Policy) int { return max(1, p.MaxTemplates) }

// searchK is how many slots the unlocked scan asks for. One identity holds
// up to K slots, so K+1 slots always reach a second identity; four more
// absorb slots touched while the scan ran (see optimistic.go).
func (s *Service) searchK() int { return templatesK(s.policy) + 5 }

// perIdentityLocked reduces slot matches (best first) to the best score of
// each identity, best first, named by the identity's enrolment slot: the
// input [Decide] needs. Slots that hold no identity are dropped. Called
// with s.mu held.
func (s *Service) perIdentityLocked(ms []Match) []Match {
	out := make([]Match, 0, len(ms))
	seen := make(map[int]bool, len(ms))
	for _, m := range ms {
		key, ok := s.ownerLocked(m.Slot)
		if !ok {
			continue
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, Match{Slot: key, Score: m.Score})
		}
	}
	return out
}

// ownerLocked returns the enrolment slot of the identity that keeps a
// vector in slot; ok is false when no identity does. Called with s.mu held.
func (s *Service) ownerLocked(slot int) (key int, ok bool) {
	if _, ok := s.ids[slot]; ok {
		return slot, true
	}
	key, ok = s.tmpl[slot]
	return key, ok
}

// heldLocked reports whether an identity keeps a vector in slot. A slot the
// index hands out must not be held: identities are named by their
// enrolment slot, so a reused held slot would give one identity's name to
// another. Called with s.mu held.
func (s *Service) heldLocked(slot int) bool {
	_, held := s.ownerLocked(slot)
	return held
}

// templatePositionLocked decides whether capture v, which matched id with
// best score best, becomes one of id's templates, and at which position
// (see the rule above). Called with s.mu held.
func (s *Service) templatePositionLocked(id identity, v []float32, best float32) (int, bool, error) {
	k := templatesK(s.policy)
	if k < 2 {
		return 0, false, nil
	}
	strong, novel := s.policy.TemplateMatch, s.policy.TemplateNovel
	if s.rule != nil {
		lv, ok := s.rule.templateLevels(s.index.Len())
		if !ok {
			return 0, false, nil
		}
		strong, novel = lv.Strong, lv.Novel
	}
	if !(best >= strong) {
		return 0, false, nil
	}
	free, nearest := -1, -1
	nearestScore := float32(-2)
	for pos := range k {
		slot := id.slots[pos]
		if slot < 0 {
			if free < 0 && pos > 0 {
				free = pos
			}
			continue
		}
		kept, err := s.index.Vector(slot)
		if err != nil {
			return 0, false, fmt.Errorf("enclave: template %d: %w", pos, err)
		}
		sc := exactScore(kept, v)
		clear(kept)
		if !(sc < novel) {
			return 0, false, nil // a near-copy of a vector it keeps
		}
		if pos > 0 && sc > nearestScore {
			nearest, nearestScore = pos, sc
		}
	}
	if free > 0 {
		return free, true, nil
	}
	return nearest, nearest > 0, nil
}

// addTemplateLocked stores v as a template at pos (1 … MaxTemplates−1) of
// the identity whose enrolment slot is key, replacing the template there.
// A position at or beyond the policy's K is not searched (a journal written
// under a larger K): its vector stays in the journal, and the record is
// counted in s.dormant. Called with s.mu held.
func (s *Service) addTemplateLocked(key, pos int, v []float32) error {
	if pos < 1 || pos >= MaxTemplates {
		return fmt.Errorf("template position %d outside 1…%d", pos, MaxTemplates-1)
	}
	id, ok := s.ids[key]
	if !ok {
		return errors.New("template of an identity that is not enrolled")
	}
	if old := id.slots[pos]; old >= 0 {
		if err := s.index.Remove(old); err != nil {
			return err
		}
		delete(s.tmpl, old)
		id.slots[pos] = -1
		s.ids[key] = id
		s.recordLocked(old, nil)
	}
	if pos >= templatesK(s.policy) {
		s.dormant++
		return nil
	}
	slot, err := s.index.Add(v)
	if err != nil {
		return err
	}
	if s.heldLocked(slot) {
		_ = s.index.Remove(slot) // never searched as the holder's
		s.recordLocked(slot, nil)
		return fmt.Errorf("index slot %d handed out while held", slot)
	}
	id.slots[pos] = slot
	s.ids[key] = id
	s.tmpl[slot] = key
	s.recordLocked(slot, v)
	return nil
}
