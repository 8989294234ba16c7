package enclave

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// TestReplayRefusesNonCanonicalIDs: unique IDs are kept as 16 bytes and
// answered in canonical form, so a journal entry whose ID is not in that
// form would come back changed; replay refuses it ([ErrBadEntry]) and
// changes nothing — on the main gallery's path and on a migration's (the
// next gallery's entries, and the final image's enrolments).
func TestReplayRefusesNonCanonicalIDs(t *testing.T) {
	const id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	next := nextFakeEngine{fakeEngine{dim: 64}}
	vec := vectorBytes(personVector(3, 64))
	entropy := bytes.Repeat([]byte{7}, 32)
	bad := []string{strings.ToUpper(id), "urn:uuid:" + id, "{" + id + "}", strings.ReplaceAll(id, "-", ""), "not a uuid", ""}
	for _, c := range []struct {
		name    string
		mode    migrationMode
		entries func(uid string) []Entry
	}{
		{"single", modeSingle, func(uid string) []Entry {
			return []Entry{
				{Op: OpAdd, UniqueID: uid, Entropy: bytes.Clone(entropy), Vector: vec},
				{Op: OpAddTemplate, UniqueID: uid, Template: 1, Vector: vec},
				{Op: OpDelete, UniqueID: uid},
			}
		}},
		{"dual", modeDual, func(uid string) []Entry {
			return []Entry{
				{Op: OpAdd, UniqueID: uid, Entropy: bytes.Clone(entropy), Engine: next.ID(), Vector: vec},
				{Op: OpEngineVector, UniqueID: uid, Engine: next.ID(), Vector: vec},
				{Op: OpDelete, UniqueID: uid},
			}
		}},
		{"final", modeFinal, func(uid string) []Entry {
			return []Entry{
				{Op: OpEngineVector, UniqueID: uid, Engine: fakeEngine{}.ID(), Entropy: bytes.Clone(entropy), Vector: vec},
				{Op: OpAdd, UniqueID: uid, Entropy: bytes.Clone(entropy), Engine: fakeEngine{}.ID(), Vector: vec},
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			s := h.svc
			s.mu.Lock()
			s.mode = c.mode
			if c.mode == modeDual {
				s.nextEngine = next
				s.next = newNextTables(next, NewExactIndex(64))
				s.next.th = policyThresholds(s.policy)
			}
			s.mu.Unlock()
			// An enrolled identity the refused entries must leave alone.
			if err := s.apply(Entry{Op: OpAdd, UniqueID: id, Entropy: bytes.Clone(entropy), Vector: vectorBytes(personVector(4, 64))}); err != nil && c.mode != modeFinal {
				t.Fatal(err)
			}
			before, vecs := s.Identities(), s.index.Len()
			for _, uid := range bad {
				for _, e := range c.entries(uid) {
					if err := s.apply(e); !errors.Is(err, ErrBadEntry) {
						t.Errorf("%s %q: err %v, want ErrBadEntry", e.Op, uid, err)
					}
				}
			}
			if n, v := s.Identities(), s.index.Len(); n != before || v != vecs {
				t.Fatalf("%d identities, %d vectors after refused entries; want %d, %d", n, v, before, vecs)
			}
			if s.next != nil && (s.next.index.Len() != 0 || len(s.next.only) != 0) {
				t.Fatalf("the new gallery took %d vectors", s.next.index.Len())
			}
			// The canonical form of the same ID is accepted.
			if c.mode == modeSingle {
				if err := s.apply(Entry{Op: OpDelete, UniqueID: id}); err != nil || s.Identities() != 0 {
					t.Fatalf("delete: %v, %d identities", err, s.Identities())
				}
			}
		})
	}
}

// TestIdentityTablesRoundTrip: what the gallery answers for an identity —
// its unique ID in canonical form and its entropy — is what its journal
// entry carried, after replay, templates and the deletes of others.
func TestIdentityTablesRoundTrip(t *testing.T) {
	h := newHarness(t, withTemplates(4))
	s := h.svc
	ids := []string{
		"6ba7b810-9dad-11d1-80b4-00c04fd430c8",
		"00000000-0000-4000-8000-000000000001",
		"ffffffff-ffff-4fff-bfff-ffffffffffff",
	}
	for i, uid := range ids {
		if err := s.apply(Entry{Op: OpAdd, UniqueID: uid, Entropy: bytes.Repeat([]byte{byte(i + 1)}, 32), Vector: vectorBytes(personVector(10+i, 64))}); err != nil {
			t.Fatal(err)
		}
		if err := s.apply(Entry{Op: OpAddTemplate, UniqueID: uid, Template: 1, Vector: vectorBytes(personVector(20+i, 64))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.apply(Entry{Op: OpAdd, UniqueID: ids[1], Entropy: bytes.Repeat([]byte{9}, 32), Vector: vectorBytes(personVector(30, 64))}); err == nil {
		t.Fatal("a unique ID enrolled twice")
	}
	if err := s.apply(Entry{Op: OpDelete, UniqueID: ids[0]}); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	checkTablesLocked(t, s)
	if len(s.ids) != 2 || len(s.byID) != 2 || len(s.tmpl) != 2 || s.index.Len() != 4 {
		t.Fatalf("%d identities, %d unique IDs, %d templates, %d vectors; want 2, 2, 2, 4", len(s.ids), len(s.byID), len(s.tmpl), s.index.Len())
	}
	for i, uid := range ids[1:] {
		for _, person := range []int{11 + i, 21 + i} { // enrolment, template
			ms, err := s.index.Search(personVector(person, 64), 1)
			if err != nil || len(ms) != 1 {
				t.Fatalf("search: %v %v", ms, err)
			}
			key, ok := s.ownerLocked(ms[0].Slot)
			if !ok {
				t.Fatalf("%s: slot %d has no owner", uid, ms[0].Slot)
			}
			id := s.ids[key]
			if id.uniqueID.String() != uid || id.entropy != [32]byte(bytes.Repeat([]byte{byte(i + 2)}, 32)) || s.byID[id.uniqueID] != key {
				t.Fatalf("person %d found as %s with entropy %x", person, id.uniqueID, id.entropy[:4])
			}
		}
	}
}

// checkTablesLocked checks the identity tables against each other and the
// index: every identity is named by its enrolment slot, its unique ID leads
// back to that slot, each template slot names its identity, and the index
// holds exactly those slots. Called with s.mu held.
func checkTablesLocked(t testing.TB, s *Service) {
	t.Helper()
	templates := 0
	for key, id := range s.ids {
		if id.slots[0] != key || s.byID[id.uniqueID] != key {
			t.Fatalf("identity %s at %d: enrolment slot %d, unique ID → %d", id.uniqueID, key, id.slots[0], s.byID[id.uniqueID])
		}
		for pos, slot := range id.slots[1:] {
			if slot < 0 {
				continue
			}
			templates++
			if owner, ok := s.tmpl[slot]; !ok || owner != key {
				t.Fatalf("identity %d: template %d in slot %d owned by %d (%v)", key, pos+1, slot, owner, ok)
			}
		}
	}
	if len(s.byID) != len(s.ids) || len(s.tmpl) != templates || s.index.Len() != len(s.ids)+templates {
		t.Fatalf("%d identities, %d unique IDs, %d template slots (%d kept), %d vectors", len(s.ids), len(s.byID), len(s.tmpl), templates, s.index.Len())
	}
}
