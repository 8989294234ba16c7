package enclave

import (
	"context"
	"errors"
	"fmt"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

// The service's side of an engine migration (migration.go, docs/fleet.md).
//
// An enclave runs in one of three modes with respect to its log:
//
//   - single: the log is not migrating and its current engine is this
//     enclave's engine;
//   - dual: the log migrates to Config.NextEngine and this enclave runs
//     both engines (its policy names both): every capture is embedded by
//     both, a decision is new only when it is new under both galleries, a
//     returning person the old engine found gets an OpEngineVector, a new
//     person is enrolled under the new engine only;
//   - final: the log migrates to this enclave's (only) engine: at boot it
//     keeps the identities with a new-engine vector, writes OpMigrateEnd
//     and becomes single.
//
// An enclave whose engines do not fit its log stops (ErrEngines): an image
// of the old engine alone on a migrating log, a dual image on a log whose
// migration ended (their policies name engines the log no longer holds).
// The operator replaces them: docs/fleet.md has the runbook.

// ErrEngines reports a log whose engines are not the ones this enclave runs.
var ErrEngines = errors.New("enclave: the log's engines are not this enclave's")

type migrationMode int

const (
	modeSingle migrationMode = iota
	modeDual
	modeFinal
)

// nextGallery is the gallery of the engine a migration moves to. Its
// identities are the ones of the main gallery that have a new-engine
// vector, and those enrolled during the migration (which are in no other
// map). It is searched exactly, under the lock. Like the main gallery's
// tables (service.go), its tables hold no pointers: an identity of both
// galleries is kept once, in the main gallery, and named here by its
// unique ID.
type nextGallery struct {
	engine vectors.Engine
	th     vectors.Thresholds
	index  Index
	ids    map[int]uuid.UUID      // slot → unique ID
	slots  map[uuid.UUID]int      // unique ID → slot
	only   map[uuid.UUID][32]byte // the entropy of each identity in this gallery alone
}

// engineJournal is a [Journal] that records which engines its log holds
// (enclave/state.Journal).
type engineJournal interface {
	// UseEngine names the engine a log made by this journal records
	// (before Replay).
	UseEngine(name string)
	Engines() (current string, dim int, migrating string, migratingDim int)
	Migrated() (migrated, total int)
	Dropped() int
}

// migrationPolicy is the policy part naming engine e as a migration's
// target, with the thresholds [DefaultPolicy] would give it: the
// gallery-size rule when a (non-provisional) curve ships for its weights,
// its calibrated fixed thresholds otherwise. Its gallery is searched on
// its own, so the rule counts the new engine's vectors only.
func migrationPolicy(e vectors.Engine) *wire.MigrationPolicy { return migrationOf(DefaultPolicy(e)) }

// migrationOf is the decision part of p (a policy of the migration's
// engine) as a migration. Its rule keeps no template epsilon: no template
// is added to the new engine's gallery while it migrates.
func migrationOf(p wire.Policy) *wire.MigrationPolicy {
	m := &wire.MigrationPolicy{Engine: p.Engine, ModelSHA256: p.ModelSHA256, MatchThreshold: p.MatchThreshold,
		NewThreshold: p.NewThreshold, Margin: p.Margin}
	if p.Rule != nil {
		r := *p.Rule
		r.TemplateEpsilon = 0
		m.Rule = &r
	}
	return m
}

// MigratingPolicy is [DefaultPolicy] of engine e while the gallery migrates
// to engine next: clients see both engines in the policy they pin.
func MigratingPolicy(e, next vectors.Engine) wire.Policy {
	p := DefaultPolicy(e)
	p.Migration = migrationPolicy(next)
	return p
}

// checkMigrationConfig checks that the policy's migration names next.
func checkMigrationConfig(p wire.Policy, next vectors.Engine) error {
	switch {
	case next == nil && p.Migration == nil:
		return nil
	case next == nil || p.Migration == nil:
		return errors.New("enclave: the policy's migration and the next engine go together")
	}
	m := p.Migration
	h := next.ModelSHA256()
	if m.Engine != next.ID() || string(m.ModelSHA256) != string(h[:]) {
		return fmt.Errorf("enclave: the policy migrates to %q, the next engine is %q with other weights", m.Engine, next.ID())
	}
	if m.Engine == p.Engine {
		return errors.New("enclave: a migration to the engine in use")
	}
	if m.Rule != nil {
		return nil // checked against its curve by newThresholdRule
	}
	th := vectors.Thresholds{Match: m.MatchThreshold, New: m.NewThreshold, Margin: m.Margin}
	if err := th.Check(); err != nil {
		return fmt.Errorf("enclave: policy migration: %w", err)
	}
	return nil
}

func (s *Service) newNextGallery() (*nextGallery, error) {
	idx, err := NewGalleryIndex(s.nextEngine.Dim(), galleryOptions)
	if err != nil {
		return nil, err
	}
	m := s.policy.Migration
	g := newNextTables(s.nextEngine, idx)
	g.th = vectors.Thresholds{Match: m.MatchThreshold, New: m.NewThreshold, Margin: m.Margin}
	return g, nil
}

// newNextTables is a next gallery of engine e on idx with empty tables.
func newNextTables(e vectors.Engine, idx Index) *nextGallery {
	return &nextGallery{engine: e, index: idx, ids: map[int]uuid.UUID{}, slots: map[uuid.UUID]int{}, only: map[uuid.UUID][32]byte{}}
}

// nextIdentityLocked is the identity whose new-engine vector is in slot of
// the next gallery: the main gallery's, or one the next gallery holds
// alone (which keeps no vector in the main gallery: its slots are −1).
// Called with s.mu held.
func (s *Service) nextIdentityLocked(slot int) (identity, bool) {
	uid, ok := s.next.ids[slot]
	if !ok {
		return identity{}, false
	}
	if entropy, only := s.next.only[uid]; only {
		id := identity{uniqueID: uid, entropy: entropy}
		for i := range id.slots {
			id.slots[i] = -1
		}
		return id, true
	}
	key, ok := s.byID[uid]
	if !ok {
		return identity{}, false
	}
	return s.ids[key], true
}

// fuseNext fuses the frames' new-engine vectors, as fuse does theirs.
func fuseNext(obs []Observation) (vectors.FaceVector, error) {
	alt := make([]Observation, len(obs))
	for i, o := range obs {
		alt[i] = Observation{Vector: o.NextVector, Quality: o.Quality}
	}
	return fuse(alt)
}

// combineLocked is the decision while migrating: d (the current engine's)
// combined with the new engine's on nv. A face is new only when both say
// new; existing when one finds an identity and the other finds it too or
// nothing; anything else — either ambiguous, or the two engines finding
// different identities — is ambiguous (never hand one person's entropy to
// another). needNext reports an identity the new engine does not hold yet.
// The identity is returned when the outcome is existing. Called with s.mu
// held.
func (s *Service) combineLocked(d Decision, nv []float32) (Outcome, identity, bool, error) {
	ms, err := s.next.index.Search(nv, 2)
	if err != nil {
		return 0, identity{}, false, fmt.Errorf("enclave: search: %w", err)
	}
	vm := make([]vectors.Match, len(ms))
	for i, m := range ms {
		vm[i] = vectors.Match{Slot: vectors.Slot(m.Slot), Score: m.Score}
	}
	dn := vectors.Decide(s.nextThresholdsLocked(), vm)
	var old, found identity
	var hasOld, hasFound bool
	if d.Outcome == OutcomeExisting {
		old, hasOld = s.ids[d.Slot]
	}
	if dn.Outcome == OutcomeExisting {
		found, hasFound = s.nextIdentityLocked(int(dn.Slot))
	}
	switch {
	case d.Outcome == OutcomeAmbiguous || dn.Outcome == OutcomeAmbiguous:
		return OutcomeAmbiguous, identity{}, false, nil
	case !hasOld && !hasFound:
		return OutcomeNew, identity{}, false, nil
	case hasOld && hasFound && old.uniqueID != found.uniqueID: // one unique ID names one identity (addLocked)
		return OutcomeAmbiguous, identity{}, false, nil
	case hasOld:
		_, has := s.next.slots[old.uniqueID]
		return OutcomeExisting, old, !has, nil
	}
	return OutcomeExisting, found, false, nil
}

// nextThresholdsLocked are the thresholds the new engine's gallery is
// decided with: the migration's rule at the number of new-engine vectors,
// or its fixed thresholds. Called with s.mu held.
func (s *Service) nextThresholdsLocked() vectors.Thresholds {
	if s.nextRule != nil {
		return s.nextRule.at(s.next.index.Len())
	}
	return s.next.th
}

// addNextVectorLocked gives an identity of the main gallery its
// new-engine vector. Called with s.mu held.
func (s *Service) addNextVectorLocked(uid uuid.UUID, v []float32) {
	if _, has := s.next.slots[uid]; has {
		return
	}
	slot, err := s.next.index.Add(v)
	if err == nil {
		err = s.holdNextSlotLocked(slot)
	}
	if err != nil {
		s.fail(fmt.Errorf("enclave: new-engine vector after write: %w", err))
		return
	}
	s.next.ids[slot], s.next.slots[uid] = uid, slot
}

// holdNextSlotLocked checks that a slot the next gallery's index handed out
// is not held already (see [Service.heldLocked]); if it is, it takes the
// vector out again. Called with s.mu held.
func (s *Service) holdNextSlotLocked(slot int) error {
	if _, held := s.next.ids[slot]; held {
		_ = s.next.index.Remove(slot)
		return fmt.Errorf("new-engine index slot %d handed out while held", slot)
	}
	return nil
}

// addOnlyNextLocked enrols an identity under the new engine only. Called
// with s.mu held.
func (s *Service) addOnlyNextLocked(id *identity, v []float32) error {
	if _, dup := s.byID[id.uniqueID]; dup {
		return errors.New("unique id enrolled twice")
	}
	if _, dup := s.next.slots[id.uniqueID]; dup {
		return errors.New("unique id enrolled twice")
	}
	slot, err := s.next.index.Add(v)
	if err != nil {
		return err
	}
	if err := s.holdNextSlotLocked(slot); err != nil {
		return err
	}
	s.next.ids[slot], s.next.slots[id.uniqueID] = id.uniqueID, slot
	s.next.only[id.uniqueID] = id.entropy
	return nil
}

// removeNextLocked drops an identity's new-engine vector, if any.
func (s *Service) removeNextLocked(uid uuid.UUID) {
	if s.next == nil {
		return
	}
	if slot, ok := s.next.slots[uid]; ok {
		_ = s.next.index.Remove(slot)
		delete(s.next.ids, slot)
		delete(s.next.slots, uid)
	}
}

// removeOnlyNextLocked deletes an identity the main gallery does not hold:
// one enrolled during the migration, or (final mode) one of the old engine
// alone, whose vector this enclave never loaded.
func (s *Service) removeOnlyNextLocked(uid uuid.UUID) error {
	if s.next != nil {
		if _, ok := s.next.only[uid]; ok {
			s.removeNextLocked(uid)
			s.next.only[uid] = [32]byte{} // overwrite the entropy in place, then drop it
			delete(s.next.only, uid)
			return nil
		}
	}
	if s.mode == modeFinal {
		return nil
	}
	return errors.New("unique id not enrolled")
}

// applyMigrationLocked applies the entries that concern a migration, and
// reports whether it handled e. Called with s.mu held.
func (s *Service) applyMigrationLocked(e Entry) (bool, error) {
	switch e.Op {
	case OpMigrate:
		return true, s.beginMigrationLocked(e)
	case OpMigrateEnd:
		switch {
		case s.mode == modeFinal && e.Engine == s.engine.ID():
			s.mode = modeSingle
			return true, nil
		case s.mode == modeDual:
			return true, fmt.Errorf("%w: the migration to %q ended; this enclave's policy names %q too: replace it with an image of %q alone",
				ErrEngines, e.Engine, s.engine.ID(), e.Engine)
		}
		return true, fmt.Errorf("%w: the end of a migration to %q", ErrEngines, e.Engine)
	case OpEngineVector:
		vals, err := s.entryVector(e)
		if err != nil {
			return true, err
		}
		switch s.mode {
		case modeDual:
			u, err := parseUniqueID(e)
			if err != nil {
				return true, err
			}
			if _, ok := s.byID[u]; !ok {
				return true, errors.New("new-engine vector of an identity that is not enrolled")
			}
			s.addNextVectorLocked(u, vals)
			return true, nil
		case modeFinal:
			return true, s.addIdentityLocked(e, vals)
		}
		return true, fmt.Errorf("%w: a new-engine vector outside a migration", ErrEngines)
	case OpAddTemplate:
		// Templates are the log's current engine's: in final mode the old
		// engine's, which the end drops with its vectors.
		return s.mode == modeFinal, nil
	case OpAdd:
		if e.Engine == "" && s.mode == modeFinal {
			return true, nil // the old engine's vector: the end drops it
		}
		if e.Engine == "" {
			return false, nil
		}
		vals, err := s.entryVector(e)
		if err != nil {
			return true, err
		}
		switch s.mode {
		case modeDual:
			u, err := parseUniqueID(e)
			if err != nil {
				return true, err
			}
			if len(e.Entropy) != 32 {
				return true, fmt.Errorf("%w: %s: entropy of %d bytes", ErrBadEntry, e.Op, len(e.Entropy))
			}
			id := &identity{uniqueID: u}
			copy(id.entropy[:], e.Entropy)
			clear(e.Entropy)
			err = s.addOnlyNextLocked(id, vals)
			clear(id.entropy[:])
			return true, err
		case modeFinal:
			return true, s.addIdentityLocked(e, vals)
		}
		return true, fmt.Errorf("%w: an enrolment under %q outside a migration", ErrEngines, e.Engine)
	}
	return false, nil
}

// entryVector decodes the vector of an entry of the migration's engine
// (dual mode: the next engine's; final mode: this enclave's own).
func (s *Service) entryVector(e Entry) ([]float32, error) {
	target := s.engine
	if s.mode == modeDual {
		target = s.nextEngine
	}
	if e.Engine != target.ID() {
		return nil, fmt.Errorf("%w: a vector of %q", ErrEngines, e.Engine)
	}
	return bytesVectorInto(make([]float32, target.Dim()), e.Vector)
}

// addIdentityLocked enrols e's identity in the main gallery (final mode).
func (s *Service) addIdentityLocked(e Entry, vals []float32) error {
	u, err := parseUniqueID(e)
	if err != nil {
		return err
	}
	if len(e.Entropy) != 32 {
		return fmt.Errorf("%w: %s: entropy of %d bytes", ErrBadEntry, e.Op, len(e.Entropy))
	}
	id := &identity{uniqueID: u}
	copy(id.entropy[:], e.Entropy)
	clear(e.Entropy)
	err = s.addLocked(id, vals)
	clear(id.entropy[:])
	return err
}

// beginMigrationLocked applies an OpMigrate: dual mode if it moves to this
// enclave's next engine, final mode if to its only engine.
func (s *Service) beginMigrationLocked(e Entry) error {
	switch {
	case s.nextEngine != nil && e.Engine == s.nextEngine.ID() && e.Dim == s.nextEngine.Dim():
		if s.next == nil {
			g, err := s.newNextGallery()
			if err != nil {
				return err
			}
			s.next = g
		}
		s.mode = modeDual
		s.log.Info("engine migration: running both engines", "from", s.engine.ID(), "to", e.Engine)
		return nil
	case s.nextEngine == nil && e.Engine == s.engine.ID() && e.Dim == s.engine.Dim():
		s.mode = modeFinal
		return nil
	}
	return fmt.Errorf("%w: the log migrates to %q; this enclave runs %q%s", ErrEngines, e.Engine, s.engine.ID(), nextName(s.nextEngine))
}

func nextName(e vectors.Engine) string {
	if e == nil {
		return ""
	}
	return " and " + e.ID()
}

// settleEngines runs after replay: it checks the log's engines against
// this enclave's, starts the migration a dual image is for (unless another
// enclave did), or ends the one a final image is for.
func (s *Service) settleEngines(ctx context.Context) error {
	ej, ok := s.journal.(engineJournal)
	if !ok {
		if s.nextEngine != nil {
			return errors.New("enclave: an engine migration needs the sealed state journal (enclave/state)")
		}
		return nil
	}
	cur, _, migrating, _ := ej.Engines()
	s.mu.Lock()
	defer s.mu.Unlock()
	if migrating == "" && cur != "" && cur != s.engine.ID() {
		return fmt.Errorf("%w: the log's engine is %q, this enclave runs %q", ErrEngines, cur, s.engine.ID())
	}
	var want Entry
	var done func() bool
	switch {
	case migrating == "" && s.nextEngine != nil:
		want, done = Entry{Op: OpMigrate, Engine: s.nextEngine.ID(), Dim: s.nextEngine.Dim()}, func() bool { return s.mode == modeDual }
	case s.mode == modeFinal:
		want, done = Entry{Op: OpMigrateEnd, Engine: s.engine.ID()}, func() bool { return s.mode == modeSingle }
	default:
		return nil
	}
	for attempt := 1; !done(); attempt++ {
		err := s.appendLocked(ctx, want, func() { _, _ = s.applyMigrationLocked(want) })
		switch {
		case err == nil || errors.Is(err, ErrJournalUnacked):
		case errors.Is(err, ErrJournalBehind) && attempt < maxCatchUps:
			if err := s.catchUpLocked(ctx); err != nil { // another enclave may have done it
				return err
			}
		default:
			return fmt.Errorf("enclave: writing %s: %w", want.Op, err)
		}
	}
	if want.Op == OpMigrateEnd {
		s.log.Info("engine migration ended", "engine", s.engine.ID(), "dropped", ej.Dropped())
	}
	return nil
}

// migrationStatus fills the migration part of the status.
func (s *Service) migrationStatus(st *wire.EnclaveStatus) {
	ej, ok := s.journal.(engineJournal)
	if !ok {
		return
	}
	cur, _, migrating, _ := ej.Engines()
	st.Engine, st.MigratingTo, st.MigrationDropped = cur, migrating, ej.Dropped()
	if migrating != "" {
		m, total := ej.Migrated()
		if total > 0 {
			st.MigrationPercent = 100 * m / total // whole percent: see docs/fleet.md on what it tells the parent
		}
	}
}
