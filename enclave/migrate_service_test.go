package enclave

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

// TestMigrationDecision: the decision while migrating combines the two
// engines' decisions as documented — new only when new under both, one
// identity when either finds it and the other finds it or nothing, and
// ambiguous when they find different identities; a person the old engine
// alone knows is marked for a new-engine vector.
func TestMigrationDecision(t *testing.T) {
	h := newHarness(t)
	s := h.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	const d = 64
	uid := func(n byte) uuid.UUID { return uuid.UUID{15: n} }
	entropy := func(n byte) [32]byte { return [32]byte(bytes.Repeat([]byte{n}, 32)) }
	enrol := func(u uuid.UUID, person int) {
		id := &identity{uniqueID: u, entropy: entropy(u[15])}
		if err := s.addLocked(id, personVector(person, d)); err != nil {
			t.Fatal(err)
		}
	}
	x, y, m, z, w := uid(1), uid(2), uid(3), uid(4), uid(5)
	enrol(x, 1)
	enrol(y, 2)
	enrol(m, 5) // the old engine's view of person 5; the new engine holds w for it
	s.nextEngine = fakeEngine{dim: d}
	s.next = newNextTables(s.nextEngine, NewExactIndex(d))
	s.next.th = policyThresholds(s.policy)
	s.addNextVectorLocked(x, personVector(1, d))
	for _, c := range []struct {
		id     uuid.UUID
		person int
	}{{z, 3}, {w, 5}} {
		if err := s.addOnlyNextLocked(&identity{uniqueID: c.id, entropy: entropy(c.id[15])}, personVector(c.person, d)); err != nil {
			t.Fatal(err)
		}
	}
	// Neither gallery takes a unique ID the other holds.
	if err := s.addLocked(&identity{uniqueID: z}, personVector(30, d)); err == nil {
		t.Fatal("the main gallery enrolled a unique ID the new gallery holds alone")
	}
	if err := s.addOnlyNextLocked(&identity{uniqueID: y}, personVector(31, d)); err == nil {
		t.Fatal("the new gallery enrolled a unique ID the main gallery holds")
	}
	for _, c := range []struct {
		name     string
		person   int
		outcome  Outcome
		who      uuid.UUID // uuid.Nil: none
		needNext bool
	}{
		{"both engines find it", 1, OutcomeExisting, x, false},
		{"the old engine alone knows it", 2, OutcomeExisting, y, true},
		{"enrolled during the migration", 3, OutcomeExisting, z, false},
		{"new under both", 4, OutcomeNew, uuid.Nil, false},
		{"the engines find different identities", 5, OutcomeAmbiguous, uuid.Nil, false},
	} {
		q := personVector(c.person, d)
		ms, err := s.index.Search(q, s.searchK())
		if err != nil {
			t.Fatal(err)
		}
		o, who, need, err := s.combineLocked(s.decideLocked(s.perIdentityLocked(ms)), q)
		if err != nil || o != c.outcome || who.uniqueID != c.who || need != c.needNext {
			t.Errorf("%s: %v %v %v %v, want %v %v %v", c.name, o, who.uniqueID, need, err, c.outcome, c.who, c.needNext)
		}
		// The identity answered is the one enrolled: its entropy, and
		// (main gallery) its enrolment slot; one of the new gallery alone
		// keeps no main-gallery slot.
		if c.who != uuid.Nil {
			if who.entropy != entropy(c.who[15]) {
				t.Errorf("%s: entropy %x…, want %d", c.name, who.entropy[:4], c.who[15])
			}
			var none [MaxTemplates]int
			for i := range none {
				none[i] = -1
			}
			key, main := s.byID[c.who]
			if main && who.slots[0] != key || !main && who.slots != none {
				t.Errorf("%s: slots %v", c.name, who.slots)
			}
		}
	}
	if len(s.next.only) != 2 {
		t.Fatalf("%d identities in the new gallery alone, want 2", len(s.next.only))
	}
	if err := s.removeLocked(z); err != nil || len(s.next.only) != 1 {
		t.Fatalf("deleting an identity of the new gallery alone: %v (%d left)", err, len(s.next.only))
	}
	if _, has := s.next.slots[z]; has {
		t.Fatal("a deleted identity of the new gallery alone kept its vector")
	}
	if err := s.removeLocked(x); err != nil {
		t.Fatal(err)
	}
	if _, has := s.next.slots[x]; has {
		t.Fatal("a deleted identity kept its new-engine vector")
	}
	if err := s.removeLocked(z); err == nil {
		t.Fatal("deleted an identity twice")
	}
	if n := s.next.index.Len(); n != len(s.next.ids) || n != len(s.next.slots) || n != 1 {
		t.Fatalf("new gallery: %d vectors, %d slots, %d unique IDs; want 1 (w)", n, len(s.next.ids), len(s.next.slots))
	}
}

// TestMigrationWritesNoTemplates: the one write of a returning person is
// a template outside a migration (templates.go), and while a migration
// runs either the person's new-engine vector or nothing — templates are
// kept under the log's current engine only, whose end drops them.
func TestMigrationWritesNoTemplates(t *testing.T) {
	h := newHarness(t, withTemplates(4))
	s := h.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	const d = 64
	if err := s.addLocked(&identity{uniqueID: uuid.MustParse("00000000-0000-4000-8000-000000000001")}, personVector(1, d)); err != nil {
		t.Fatal(err)
	}
	x := s.ids[s.byID[uuid.MustParse("00000000-0000-4000-8000-000000000001")]]
	// Another view of person 1: a strong match, not a near-copy.
	v := personVector(1, d)
	w := personVector(77, d)
	for i := range v {
		v[i] += 0.45 * w[i]
	}
	vectors.Normalize(v)
	best := exactScore(personVector(1, d), v)
	if !(best >= s.policy.TemplateMatch && best < s.policy.TemplateNovel) {
		t.Fatalf("test vector scores %v against the person: not a template candidate", best)
	}
	if e, applied := s.existingWriteLocked(x, v, nil, false, best); e.Op != OpAddTemplate || e.Template != 1 || applied == nil {
		t.Fatalf("outside a migration: %s at %d, want a template at 1", e.Op, e.Template)
	}
	s.nextEngine = fakeEngine{dim: d}
	s.next = newNextTables(s.nextEngine, NewExactIndex(d))
	s.next.th = policyThresholds(s.policy)
	nv := personVector(1, d)
	for _, c := range []struct {
		needNext bool
		want     Op
	}{{false, OpNone}, {true, OpEngineVector}} {
		e, applied := s.existingWriteLocked(x, v, nv, c.needNext, best)
		if e.Op != c.want || e.Template != 0 || (applied != nil) != c.needNext {
			t.Fatalf("migrating, needNext %v: %s (template %d), want %s", c.needNext, e.Op, e.Template, c.want)
		}
		if err := CheckEntry(e, d); err != nil {
			t.Fatalf("migrating, needNext %v: %v", c.needNext, err)
		}
	}
}

// nextFakeEngine is a second fake engine, for a migration's target.
type nextFakeEngine struct{ fakeEngine }

func (nextFakeEngine) ID() string            { return "fake-engine-next" }
func (nextFakeEngine) ModelSHA256() [32]byte { return sha256.Sum256([]byte("fake-engine-next")) }

// TestMigrationRule: when the migration's engine decides by a threshold
// rule (its curve ships, as DefaultPolicy would give it), the new gallery
// is decided at the rule's thresholds for the new gallery's own size, not
// at fixed thresholds; a rule that does not match its curve stops the
// enclave at boot.
func TestMigrationRule(t *testing.T) {
	next := nextFakeEngine{fakeEngine{dim: 64}}
	c := fakeCurveFor(t, next)
	h := next.ModelSHA256()
	rp, err := RulePolicy(wire.Policy{Engine: next.ID(), ModelSHA256: h[:]}, c, calib.DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	m := wire.MigrationPolicy{Engine: rp.Engine, ModelSHA256: rp.ModelSHA256, Margin: rp.Margin, Rule: rp.Rule}
	ref, err := newThresholdRule(m.AsPolicy(), &c, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Boot: the rule is checked against the next engine's curve.
	boot := func(m wire.MigrationPolicy) error {
		clk := &clock{t: testStart}
		j, err := NewSealedJournal(&MemLog{}, bytes.Repeat([]byte{1}, 32), seededRand(5), 64)
		if err != nil {
			t.Fatal(err)
		}
		p := testPolicy(fakeEngine{dim: 64})
		p.Migration = &m
		_, err = New(context.Background(), Config{Attester: newSimNSM(t, clk.Now, 9), Engine: fakeEngine{dim: 64}, Policy: p,
			Journal: j, Now: clk.Now, NextEngine: next, NextCurve: &c})
		return err
	}
	bad := m
	r := *m.Rule
	r.CurveSHA256 = bytes.Repeat([]byte{1}, 32)
	bad.Rule = &r
	if err := boot(bad); !errors.Is(err, ErrRule) {
		t.Fatalf("a migration rule naming another curve: %v, want ErrRule", err)
	}
	// The good rule passes its check; this boot then stops because a
	// migration needs the sealed state journal, which the harness lacks.
	if err := boot(m); err == nil || errors.Is(err, ErrRule) || !strings.Contains(err.Error(), "sealed state journal") {
		t.Fatalf("a matching migration rule: %v", err)
	}

	hs := newHarness(t)
	s := hs.svc
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextEngine = next
	s.next = newNextTables(next, NewExactIndex(64))
	s.next.th = policyThresholds(s.policy)
	if s.nextRule, err = newThresholdRule(m.AsPolicy(), &c, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 6 { // the old gallery is larger: its size must not count
		if err := s.addLocked(&identity{uniqueID: uuid.UUID{0: 1, 15: byte(i)}}, personVector(100+i, 64)); err != nil {
			t.Fatal(err)
		}
	}
	for n := range 4 {
		got, want := s.nextThresholdsLocked(), ref.at(n)
		if got != want {
			t.Fatalf("%d new-engine vectors: thresholds %+v, want the rule's %+v", n, got, want)
		}
		if n > 0 && got == s.next.th {
			t.Fatalf("%d new-engine vectors: the fixed thresholds were used", n)
		}
		if err := s.addOnlyNextLocked(&identity{uniqueID: uuid.UUID{0: 2, 15: byte(n)}}, personVector(200+n, 64)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMigrationPolicyShippedRule: a migration to the default engine takes
// that engine's shipped rule for its decisions but no template epsilon (no
// template is added while the gallery migrates), and the rule passes the
// boot check against the shipped curve.
func TestMigrationPolicyShippedRule(t *testing.T) {
	e, err := vectors.Open(DefaultEngine)
	if err != nil {
		t.Fatal(err)
	}
	full := DefaultPolicy(e)
	if full.Rule == nil || full.Rule.TemplateEpsilon == 0 || full.MaxTemplates < 2 {
		t.Fatalf("the default policy of %s: rule %+v, K %d", e.ID(), full.Rule, full.MaxTemplates)
	}
	m := migrationPolicy(e)
	if m.Rule == nil || m.Rule.TemplateEpsilon != 0 || m.Rule.Capacity != full.Rule.Capacity {
		t.Fatalf("migration rule %+v", m.Rule)
	}
	if full.Rule.TemplateEpsilon == 0 {
		t.Fatal("migrationPolicy changed the default policy's rule")
	}
	if _, err := newThresholdRule(m.AsPolicy(), nil, nil); err != nil {
		t.Fatalf("the migration's rule does not boot: %v", err)
	}
}
