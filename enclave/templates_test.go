package enclave

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

// withTemplates sets the template part of the test policy: K = k, strong
// match 0.8, near-copy 0.97 (the fake engine's cosines: another view of a
// person at drift 5 scores ≈ 0.89 against the plain person, the same view
// again ≈ 0.99).
func withTemplates(k int) harnessOpt {
	return func(c *Config) {
		c.Policy.MaxTemplates = k
		if k > 1 {
			c.Policy.TemplateMatch, c.Policy.TemplateNovel = 0.8, 0.97
		}
	}
}

// faceScene runs route for the scene base performing a fresh challenge.
func (h *harness) faceScene(route string, base scene) wire.Response {
	h.t.Helper()
	c := h.challenge()
	return h.faceWith(route, c, performanceOf(h.t, base, c.Actions))
}

// journalEntries replays the harness's log with its data key.
func (h *harness) journalEntries() []Entry {
	h.t.Helper()
	j, err := NewSealedJournal(h.log, h.dataKey, seededRand(9), 64)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []Entry
	if err := j.Replay(context.Background(), func(e Entry) error { out = append(out, e); return nil }); err != nil {
		h.t.Fatal(err)
	}
	return out
}

func ops(es []Entry) []Op {
	var out []Op
	for _, e := range es {
		out = append(out, e.Op)
	}
	return out
}

// TestTemplatesEndToEnd: a returning person's strong, novel capture
// becomes a template (one add_template record instead of the none record);
// a near-copy does not; the identity is then scored by its best vector, so
// a face that drifted away from the enrolment is still recognised — which
// without templates it is not; K bounds the vectors kept; a restart replays
// them; a delete removes them all.
func TestTemplatesEndToEnd(t *testing.T) {
	h := newHarness(t, withTemplates(3))
	plain := scene{person: 1}
	view1 := scene{person: 1, view: 1, drift: 5}
	drifted := scene{person: 1, view: 1, drift: 15} // ≈ 0.55 to the enrolment, ≈ 0.87 to view1

	a := h.faceScene(wire.RouteEnroll, plain)
	h.mustStatus(a, wire.StatusNew)
	// Without a template, the drifted face is not recognised.
	h.mustStatus(h.faceScene(wire.RouteLogin, drifted), wire.StatusRejected)
	if h.svc.Vectors() != 1 {
		t.Fatalf("%d vectors, want 1", h.svc.Vectors())
	}

	step := func(route string, sc scene, want wire.Status, wantOp Op, vectors int) {
		t.Helper()
		before := h.log.Puts()
		r := h.faceScene(route, sc)
		h.mustStatus(r, want)
		if want == wire.StatusExisting && fmtID(r) != fmtID(a) {
			t.Fatalf("%+v answered as another identity", sc)
		}
		if got := h.log.Puts() - before; got != 1 {
			t.Fatalf("%+v: %d writes", sc, got)
		}
		es := h.journalEntries()
		if last := es[len(es)-1]; last.Op != wantOp {
			t.Fatalf("%+v: wrote %s, want %s", sc, last.Op, wantOp)
		}
		if h.svc.Vectors() != vectors || h.svc.Identities() != 1 {
			t.Fatalf("%+v: %d vectors, %d identities; want %d, 1", sc, h.svc.Vectors(), h.svc.Identities(), vectors)
		}
	}
	step(wire.RouteLogin, view1, wire.StatusExisting, OpAddTemplate, 2)
	step(wire.RouteLogin, view1, wire.StatusExisting, OpNone, 2)          // a near-copy of the template
	step(wire.RouteEnroll, plain, wire.StatusExisting, OpNone, 2)         // a near-copy of the enrolment
	step(wire.RouteLogin, drifted, wire.StatusExisting, OpAddTemplate, 3) // recognised through view1, and novel
	for v := 2; v <= 5; v++ {                                             // K = 3: further views replace
		step(wire.RouteLogin, scene{person: 1, view: v, drift: 5}, wire.StatusExisting, OpAddTemplate, 3)
	}
	last := h.journalEntries()
	if e := last[len(last)-1]; e.Template < 1 || e.Template >= 3 || e.UniqueID != a.UniqueID || len(e.Entropy) != 0 {
		t.Fatalf("template record %+v", e)
	}

	// Person 2 enrols; a restart replays identities and templates.
	b := h.face(wire.RouteEnroll, 2)
	h.mustStatus(b, wire.StatusNew)
	probe := func(s *Service, sc scene) []Match {
		img, err := decodePNG(drawFrame(t, sc))
		if err != nil {
			t.Fatal(err)
		}
		v, err := fakeEngine{dim: 64}.Embed(img, vectors.Face{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.index.Search(v.Values, 10)
		if err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.perIdentityLocked(m)
	}
	sc := scene{person: 1, faces: 1, view: 4, drift: 5}
	before := probe(h.svc, sc)
	h2 := &harness{t: t, log: h.log, clock: h.clock, dataKey: h.dataKey, tap: &tap{}}
	h2.start(withTemplates(3))
	if h2.svc.Vectors() != 4 || h2.svc.Identities() != 2 {
		t.Fatalf("replayed %d vectors, %d identities; want 4, 2", h2.svc.Vectors(), h2.svc.Identities())
	}
	if after := probe(h2.svc, sc); len(after) != len(before) || after[0].Score != before[0].Score {
		t.Fatalf("per-identity scores changed across the restart: %v, then %v", before, after)
	}

	// Delete: the identity goes with every vector it keeps, in memory and
	// after a restart.
	h2.mustStatus(h2.faceScene(wire.RouteDelete, plain), wire.StatusDeleted)
	if h2.svc.Vectors() != 1 || h2.svc.Identities() != 1 {
		t.Fatalf("after delete: %d vectors, %d identities", h2.svc.Vectors(), h2.svc.Identities())
	}
	h3 := &harness{t: t, log: h.log, clock: h.clock, dataKey: h.dataKey, tap: &tap{}}
	h3.start(withTemplates(3))
	if h3.svc.Vectors() != 1 || h3.svc.Identities() != 1 {
		t.Fatalf("after delete and restart: %d vectors, %d identities", h3.svc.Vectors(), h3.svc.Identities())
	}
	h3.mustStatus(h3.faceScene(wire.RouteLogin, view1), wire.StatusNotFound)
}

// TestTemplatesWithoutK: with K = 1 (or a policy that does not set it) no
// template is ever written.
func TestTemplatesWithoutK(t *testing.T) {
	h := newHarness(t)
	h.mustStatus(h.faceScene(wire.RouteEnroll, scene{person: 1}), wire.StatusNew)
	h.mustStatus(h.faceScene(wire.RouteLogin, scene{person: 1, view: 1, drift: 5}), wire.StatusExisting)
	if got := ops(h.journalEntries()); !slices.Equal(got, []Op{OpAdd, OpNone}) {
		t.Fatalf("journal %v", got)
	}
}

// TestTemplateWriteLooksLikeAnyOther is the curious parent's view of
// templates: a login that keeps a template makes one write of the same
// size as a login that does not, as a new enrolment and a refusal, and
// the answers have one size.
func TestTemplateWriteLooksLikeAnyOther(t *testing.T) {
	h := newHarness(t, withTemplates(4))
	steps := []struct {
		route string
		sc    scene
		op    Op
	}{
		{wire.RouteEnroll, scene{person: 1}, OpAdd},
		{wire.RouteLogin, scene{person: 1}, OpNone},
		{wire.RouteLogin, scene{person: 1, view: 1, drift: 5}, OpAddTemplate},
		{wire.RouteLogin, scene{person: 1, view: 1, drift: 5}, OpNone},
		{wire.RouteLogin, scene{person: 2}, OpNone},
		{wire.RouteEnroll, scene{person: 1, view: 2, drift: 5}, OpAddTemplate},
		{wire.RouteDelete, scene{person: 1}, OpDelete},
	}
	responses := map[int]bool{}
	for i, s := range steps {
		before := h.log.Puts()
		r := h.faceScene(s.route, s.sc)
		if r.Status == wire.StatusRejected {
			t.Fatalf("step %d refused: %s", i, r.Message)
		}
		if got := h.log.Puts() - before; got != 1 {
			t.Fatalf("step %d made %d writes", i, got)
		}
		h.tap.mu.Lock()
		responses[len(h.tap.responses[len(h.tap.responses)-1])] = true
		h.tap.mu.Unlock()
	}
	if got, want := ops(h.journalEntries()), func() []Op {
		var w []Op
		for _, s := range steps {
			w = append(w, s.op)
		}
		return w
	}(); !slices.Equal(got, want) {
		t.Fatalf("journal %v, want %v", got, want)
	}
	sizes := map[int]bool{}
	for _, rec := range h.log.Records() {
		sizes[len(rec)] = true
	}
	if len(sizes) != 1 {
		t.Fatalf("records of %d sizes: %v", len(sizes), sizes)
	}
	if len(responses) != 1 {
		t.Fatalf("face responses of %d sizes: %v", len(responses), responses)
	}
	// No record holds the template's vector in the clear.
	tv := vectorBytes(viewVector(1, 1, 64))
	for _, rec := range h.log.Records() {
		if bytes.Contains(rec, tv[:8]) {
			t.Fatal("a record holds vector bytes")
		}
	}
}

// TestTemplatePosition checks the rule on constructed vectors: strong and
// novel captures go to the lowest free position, then replace the nearest
// template (ties: the lower position); weak captures and near-copies of any
// kept vector (the enrolment vector included) are not kept; the enrolment
// vector is never replaced.
func TestTemplatePosition(t *testing.T) {
	const dim = 8
	unit := func(xs ...float64) []float32 {
		v := make([]float32, dim)
		for i, x := range xs {
			v[i] = float32(x)
		}
		vectors.Normalize(v)
		return v
	}
	// The identity: enrolment e0 = axis 0; templates at axes 0+1, 0+2.
	pol := wire.Policy{MaxTemplates: 4, MatchThreshold: 0.6, TemplateMatch: 0.8, TemplateNovel: 0.97}
	s := &Service{policy: pol, index: NewExactIndex(dim), ids: map[int]identity{}, tmpl: map[int]int{}, byID: map[uuid.UUID]int{}, inflight: map[uint64]int{}}
	if err := s.addLocked(&identity{uniqueID: uuid.UUID{0: 1}}, unit(1)); err != nil {
		t.Fatal(err)
	}
	key := s.byID[uuid.UUID{0: 1}]
	pos := func(v []float32, best float32) (int, bool) {
		t.Helper()
		p, ok, err := s.templatePositionLocked(s.ids[key], v, best)
		if err != nil {
			t.Fatal(err)
		}
		return p, ok
	}
	tests := []struct {
		name    string
		v       []float32
		best    float32
		wantPos int
		wantOK  bool
	}{
		{"not strong", unit(1, 0.3), 0.79, 0, false},
		{"strong, NaN best", unit(1, 0.3), float32(math.NaN()), 0, false},
		{"near-copy of the enrolment", unit(1, 0.1), 0.995, 0, false},
		{"strong and novel: first free", unit(1, 0.5), 0.9, 1, true},
	}
	for _, tt := range tests {
		if p, ok := pos(tt.v, tt.best); p != tt.wantPos || ok != tt.wantOK {
			t.Fatalf("%s: position %d %v, want %d %v", tt.name, p, ok, tt.wantPos, tt.wantOK)
		}
	}
	must := func(p int, v []float32) {
		t.Helper()
		if err := s.addTemplateLocked(key, p, v); err != nil {
			t.Fatal(err)
		}
	}
	must(1, unit(1, 0.5))
	if p, ok := pos(unit(1, 0.5, 0.05), 0.99); ok { // near-copy of template 1
		t.Fatalf("near-copy of a template kept at %d", p)
	}
	if p, ok := pos(unit(1, 0, 0.5), 0.9); !ok || p != 2 {
		t.Fatalf("second template at %d %v, want 2", p, ok)
	}
	must(2, unit(1, 0, 0.5))
	must(3, unit(1, 0, 0, 0.5))
	// Full (K = 4): the nearest extra template is replaced.
	if p, ok := pos(unit(1, 0, 0.9, 0.3), 0.9); !ok || p != 2 {
		t.Fatalf("replacement at %d %v, want 2 (nearest)", p, ok)
	}
	// Equally near to templates 1 and 3: the lower position.
	if p, ok := pos(unit(1, 0.6, 0, 0.6), 0.9); !ok || p != 1 {
		t.Fatalf("tie replaced %d %v, want 1", p, ok)
	}
	// Never position 0, however near the capture is to the enrolment.
	if p, ok := pos(unit(1, 0.2, 0.2, 0.2), 0.9); !ok || p == 0 {
		t.Fatalf("position %d %v", p, ok)
	}
	if s.index.Len() != 4 || len(s.ids) != 1 || len(s.tmpl) != 3 {
		t.Fatalf("%d vectors, %d identities, %d template slots mapped", s.index.Len(), len(s.ids), len(s.tmpl))
	}
	// Replacing keeps the count and holds the new vector.
	nv := unit(1, 0, 0.9, 0.3)
	must(2, nv)
	if s.index.Len() != 4 || s.ids[key].slots[2] < 0 {
		t.Fatalf("%d vectors after a replacement", s.index.Len())
	}
	if got, err := s.index.Vector(s.ids[key].slots[2]); err != nil || exactScore(got, nv) < 0.9999 {
		t.Fatalf("position 2 holds %v, %v", got, err)
	}
	// K = 1 keeps nothing.
	s.policy.MaxTemplates = 1
	if _, ok := pos(unit(1, 0, 0, 0, 0.5), 0.99); ok {
		t.Fatal("K = 1 kept a template")
	}
}

// TestReplayTemplates: replay refuses a template of nobody and malformed
// template entries, and keeps templates at positions beyond a lowered K
// in the journal without searching them.
func TestReplayTemplates(t *testing.T) {
	eng := fakeEngine{dim: 8}
	id := "00000000-0000-4000-8000-000000000001"
	addE := Entry{Op: OpAdd, UniqueID: id, Entropy: bytes.Repeat([]byte{1}, 32), Vector: vectorBytes(personVector(1, 8))}
	tplE := func(pos, seed int) Entry {
		return Entry{Op: OpAddTemplate, UniqueID: id, Template: pos, Vector: vectorBytes(personVector(seed, 8))}
	}
	boot := func(k int, entries ...Entry) (*Service, error) {
		log := &MemLog{}
		j, err := NewSealedJournal(log, bytes.Repeat([]byte{7}, 32), seededRand(3), 8)
		if err != nil {
			t.Fatal(err)
		}
		if err := j.Replay(context.Background(), func(Entry) error { return nil }); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if err := j.Append(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		j2, err := NewSealedJournal(log, bytes.Repeat([]byte{7}, 32), seededRand(4), 8)
		if err != nil {
			t.Fatal(err)
		}
		p := testPolicy(eng)
		p.MaxTemplates = k
		if k > 1 {
			p.TemplateMatch, p.TemplateNovel = 0.8, 0.97
		}
		return New(context.Background(), Config{Attester: &recordingAttester{rand: seededRand(1)}, Engine: eng, Policy: p, Journal: j2, Now: time.Now})
	}
	s, err := boot(4, addE, tplE(1, 11), tplE(2, 12), tplE(3, 13), tplE(2, 22))
	if err != nil {
		t.Fatal(err)
	}
	if s.Vectors() != 4 || s.dormant != 0 {
		t.Fatalf("K=4: %d vectors, %d dormant", s.Vectors(), s.dormant)
	}
	if s, err = boot(2, addE, tplE(1, 11), tplE(2, 12), tplE(3, 13)); err != nil {
		t.Fatal(err)
	}
	if s.Vectors() != 2 || s.dormant != 2 {
		t.Fatalf("K=2: %d vectors, %d dormant records", s.Vectors(), s.dormant)
	}
	zero := tplE(1, 11)
	zero.Vector = make([]byte, 32)
	for name, bad := range map[string][]Entry{
		"template of nobody": {tplE(1, 11)},
		"zero vector":        {addE, zero},
	} {
		if _, err := boot(4, bad...); err == nil {
			t.Errorf("%s: booted", name)
		}
	}
}

// TestCheckEntry is the table of entry shapes.
func TestCheckEntry(t *testing.T) {
	const dim = 4
	id := "00000000-0000-4000-8000-000000000001"
	ent := make([]byte, 32)
	vec := make([]byte, 4*dim)
	tests := []struct {
		e  Entry
		ok bool
	}{
		{Entry{Op: OpNone}, true},
		{Entry{Op: OpAdd, UniqueID: id, Entropy: ent, Vector: vec}, true},
		{Entry{Op: OpAddTemplate, UniqueID: id, Template: 1, Vector: vec}, true},
		{Entry{Op: OpAddTemplate, UniqueID: id, Template: MaxTemplates - 1, Vector: vec}, true},
		{Entry{Op: OpDelete, UniqueID: id}, true},
		{Entry{Op: OpNone, Template: 1}, false},
		{Entry{Op: OpNone, Vector: vec}, false},
		{Entry{Op: OpAdd, UniqueID: id, Entropy: ent[:31], Vector: vec}, false},
		{Entry{Op: OpAdd, UniqueID: id, Entropy: ent, Vector: vec[:15]}, false},
		{Entry{Op: OpAdd, UniqueID: id, Entropy: ent, Vector: vec, Template: 1}, false},
		{Entry{Op: OpAddTemplate, UniqueID: id, Template: 0, Vector: vec}, false},
		{Entry{Op: OpAddTemplate, UniqueID: id, Template: MaxTemplates, Vector: vec}, false},
		{Entry{Op: OpAddTemplate, UniqueID: id, Template: 1, Vector: vec, Entropy: ent}, false},
		{Entry{Op: OpAddTemplate, UniqueID: id, Template: 1}, false},
		{Entry{Op: OpAddTemplate, UniqueID: "{" + id[:34] + "}", Template: 1, Vector: vec}, false},
		{Entry{Op: OpAddTemplate, UniqueID: "00000000-0000-4000-8000-00000000000A", Template: 1, Vector: vec}, false},
		{Entry{Op: OpAddTemplate, UniqueID: "00000000000040008000000000000001", Template: 1, Vector: vec}, false},
		{Entry{Op: OpDelete, UniqueID: id, Template: 2}, false},
		{Entry{Op: OpDelete, UniqueID: "alice"}, false},
		{Entry{Op: "merge", UniqueID: id}, false},
		// An engine migration's entries (migration.go); dim is the
		// dimension of the engine the vector belongs to.
		{Entry{Op: OpMigrate, Engine: "next", Dim: 512}, true},
		{Entry{Op: OpMigrateEnd, Engine: "next"}, true},
		{Entry{Op: OpEngineVector, UniqueID: id, Engine: "next", Vector: vec}, true},
		{Entry{Op: OpAdd, UniqueID: id, Engine: "next", Entropy: ent, Vector: vec}, true},
		{Entry{Op: OpMigrate, Engine: "next"}, false},
		{Entry{Op: OpMigrate, Engine: "next", Dim: 4097}, false},
		{Entry{Op: OpMigrate, Dim: 512}, false},
		{Entry{Op: OpMigrate, Engine: "next", Dim: 512, UniqueID: id}, false},
		{Entry{Op: OpMigrateEnd}, false},
		{Entry{Op: OpMigrateEnd, Engine: "next", Dim: 512}, false},
		{Entry{Op: OpEngineVector, UniqueID: id, Vector: vec}, false},
		{Entry{Op: OpEngineVector, UniqueID: id, Engine: "next", Vector: vec, Entropy: ent}, false},
		{Entry{Op: OpEngineVector, UniqueID: id, Engine: "next", Vector: vec[:12]}, false},
		{Entry{Op: OpEngineVector, UniqueID: id, Engine: "next", Vector: vec, Template: 1}, false},
		{Entry{Op: OpAddTemplate, UniqueID: id, Engine: "next", Template: 1, Vector: vec}, false},
		{Entry{Op: OpAdd, UniqueID: id, Entropy: ent, Vector: vec, Dim: 4}, false},
		{Entry{Op: OpDelete, UniqueID: id, Engine: "next"}, false},
		{Entry{Op: OpNone, Engine: "next"}, false},
		{Entry{Op: OpNone, Dim: 4}, false},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i, tt.e.Op), func(t *testing.T) {
			err := CheckEntry(tt.e, dim)
			if tt.ok != (err == nil) || err != nil && !errors.Is(err, ErrBadEntry) {
				t.Fatalf("%+v: %v", tt.e, err)
			}
		})
	}
}

// TestCheckTemplatePolicy: K within the format's bound, levels ordered.
func TestCheckTemplatePolicy(t *testing.T) {
	base := wire.Policy{MatchThreshold: 0.6}
	tests := []struct {
		k            int
		match, novel float32
		ok           bool
	}{
		{0, 0, 0, true},
		{1, 0, 0, true},
		{4, 0.8, 0.97, true},
		{MaxTemplates, 0.6, 1, true},
		{MaxTemplates + 1, 0.8, 0.97, false},
		{-1, 0, 0, false},
		{1, 0.8, 0.97, false},
		{4, 0.5, 0.97, false},
		{4, 0.9, 0.8, false},
		{4, 0.8, 1.01, false},
		{4, float32(math.NaN()), 0.97, false},
	}
	for _, tt := range tests {
		p := base
		p.MaxTemplates, p.TemplateMatch, p.TemplateNovel = tt.k, tt.match, tt.novel
		if err := checkTemplatePolicy(p); (err == nil) != tt.ok {
			t.Errorf("K=%d match=%v novel=%v: %v", tt.k, tt.match, tt.novel, err)
		}
	}
}
