package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// TestPolicyMigration: a migration round-trips and changes the policy hash
// (clients see both engines in what they pin), and a policy without one
// encodes without the field (its hash unchanged).
func TestPolicyMigration(t *testing.T) {
	single := Policy{Engine: "dlibresnet", ModelSHA256: make([]byte, 32), MatchThreshold: 0.94, NewThreshold: 0.89, Margin: 0.01,
		Actions: []string{ActionTurnLeft}, ChallengeTTLMS: 1000, MinFrames: 1, MaxFrames: 2, MaxFrameBytes: 1024, MaxPixels: 4096}
	migrating := single
	migrating.Migration = &MigrationPolicy{Engine: "mobilefacenet", ModelSHA256: bytes.Repeat([]byte{9}, 32), MatchThreshold: 0.4, NewThreshold: 0.25, Margin: 0.1}
	enc, err := Marshal(single)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte("migration")) {
		t.Fatal("a policy without a migration encodes the field")
	}
	b, err := Marshal(migrating)
	if err != nil {
		t.Fatal(err)
	}
	var back Policy
	if err := Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, migrating) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	h1, _ := single.Hash()
	h2, _ := migrating.Hash()
	other := migrating
	m := *migrating.Migration
	m.NewThreshold = 0.3
	other.Migration = &m
	h3, _ := other.Hash()
	if h1 == h2 || h2 == h3 {
		t.Fatal("the migration does not change the policy hash")
	}
}
