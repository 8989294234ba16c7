package enclave

import (
	"bytes"
	"strings"
	"testing"
)

// TestReplayRefusesNonCanonicalIDs: unique IDs are kept as 16 bytes and
// answered in canonical form, so a journal entry whose ID is not in that
// form would come back changed; replay refuses it and changes nothing.
func TestReplayRefusesNonCanonicalIDs(t *testing.T) {
	h := newHarness(t)
	vec := vectorBytes(personVector(3, 64))
	entropy := bytes.Repeat([]byte{7}, 32)
	const id = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	for _, e := range []Entry{
		{Op: OpAdd, UniqueID: strings.ToUpper(id), Entropy: entropy, Vector: vec},
		{Op: OpAdd, UniqueID: "urn:uuid:" + id, Entropy: entropy, Vector: vec},
		{Op: OpAdd, UniqueID: "{" + id + "}", Entropy: entropy, Vector: vec},
		{Op: OpDelete, UniqueID: strings.ToUpper(id)},
		{Op: OpDelete, UniqueID: "not a uuid"},
	} {
		if err := h.svc.apply(e); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("%s %q: err %v", e.Op, e.UniqueID, err)
		}
	}
	if n := h.svc.Identities(); n != 0 {
		t.Fatalf("%d identities after refused entries", n)
	}
	if err := h.svc.apply(Entry{Op: OpAdd, UniqueID: id, Entropy: bytes.Clone(entropy), Vector: vec}); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.apply(Entry{Op: OpDelete, UniqueID: id}); err != nil || h.svc.Identities() != 0 {
		t.Fatalf("delete: %v, %d identities", err, h.svc.Identities())
	}
}
