package enclave

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// sharedJournal lends one scratch buffer to every replayed entry, as
// enclave/state.Journal.ReplayShared does, and refuses the copying Replay.
type sharedJournal struct {
	t       *testing.T
	entries []Entry
}

func (j *sharedJournal) Append(context.Context, Entry) error { return nil }

func (j *sharedJournal) Replay(context.Context, func(Entry) error) error {
	j.t.Error("the service used the copying Replay although ReplayShared was offered")
	return nil
}

func (j *sharedJournal) ReplayShared(_ context.Context, apply func(Entry) error) error {
	var entropy [32]byte
	vec := make([]byte, 0, 4*64)
	for _, e := range j.entries {
		copy(entropy[:], e.Entropy)
		vec = append(vec[:0], e.Vector...)
		ent := entropy[:]
		if e.Op != OpAdd {
			ent = nil
		}
		if len(e.Vector) == 0 {
			vec = nil
		}
		if err := apply(Entry{Op: e.Op, UniqueID: e.UniqueID, Entropy: ent, Vector: vec, Template: e.Template}); err != nil {
			return err
		}
	}
	return nil
}

func TestBootThroughSharedReplayKeepsEveryIdentity(t *testing.T) {
	eng := fakeEngine{dim: 8}
	j := &sharedJournal{t: t}
	const n = 50
	ids := make([]string, n)
	for i := range n {
		ids[i] = uuid.NewString()
		ent := slices.Repeat([]byte{byte(i + 1)}, 32)
		j.entries = append(j.entries, Entry{Op: OpAdd, UniqueID: ids[i], Entropy: ent, Vector: vectorBytes(personVector(i, 8))})
	}
	j.entries = append(j.entries, Entry{Op: OpDelete, UniqueID: ids[7]})
	s, err := New(context.Background(), Config{Attester: &recordingAttester{rand: seededRand(1)}, Engine: eng, Policy: testPolicy(eng), Journal: j, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	if s.Identities() != n-1 {
		t.Fatalf("%d identities, want %d", s.Identities(), n-1)
	}
	for i := range n {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			m, err := s.index.Search(personVector(i, 8), 1)
			if err != nil {
				t.Fatal(err)
			}
			if i == 7 {
				if len(m) > 0 && s.ids[m[0].Slot].uniqueID.String() == ids[7] {
					t.Fatal("the deleted identity is back")
				}
				return
			}
			if len(m) != 1 || m[0].Score < 0.9999 {
				t.Fatalf("person %d: best match %+v", i, m)
			}
			id := s.ids[m[0].Slot]
			if id.uniqueID.String() != ids[i] || id.entropy != [32]byte(slices.Repeat([]byte{byte(i + 1)}, 32)) {
				t.Fatalf("person %d found as %s with entropy %x", i, id.uniqueID, id.entropy[:4])
			}
		})
	}
}
