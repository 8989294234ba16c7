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

// TestPolicyMigrationWithRules: a policy naming both engines while
// migrating, each deciding by a threshold rule, round-trips; the hash
// changes with either engine's rule; a migration's rule is absent from the
// encoding when nil (migrations with fixed thresholds hash as before).
func TestPolicyMigrationWithRules(t *testing.T) {
	rule := func(eps float64) *ThresholdRule {
		return &ThresholdRule{CurveSHA256: bytes.Repeat([]byte{7}, 32), Epsilon: eps, MaxNewRefused: 0.01, MaxDuplicate: 0.01, Capacity: 36}
	}
	base := Policy{Engine: "dlibresnet", ModelSHA256: make([]byte, 32), Margin: 0.01, Rule: rule(1e-6),
		Actions: []string{ActionTurnLeft}, ChallengeTTLMS: 1000, MinFrames: 1, MaxFrames: 2, MaxFrameBytes: 1024, MaxPixels: 4096,
		Migration: &MigrationPolicy{Engine: "arcface-fused", ModelSHA256: bytes.Repeat([]byte{9}, 32), MatchThreshold: 0.4, NewThreshold: 0.25, Margin: 0.1}}
	fixed, err := Marshal(*base.Migration)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(fixed, []byte("threshold_rule")) {
		t.Fatal("a migration with fixed thresholds encodes a rule")
	}
	withRule := base
	m := *base.Migration
	m.MatchThreshold, m.NewThreshold, m.Rule = 0, 0, rule(1e-6)
	withRule.Migration = &m
	b, err := Marshal(withRule)
	if err != nil {
		t.Fatal(err)
	}
	var back Policy
	if err := Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, withRule) {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	if got := back.Migration.AsPolicy(); got.Engine != "arcface-fused" || !reflect.DeepEqual(got.Rule, m.Rule) || got.Margin != m.Margin {
		t.Fatalf("AsPolicy: %+v", got)
	}
	otherNext := withRule
	m2 := m
	m2.Rule = rule(1e-7)
	otherNext.Migration = &m2
	otherCur := withRule
	otherCur.Rule = rule(1e-7)
	seen := map[[32]byte]string{}
	for name, p := range map[string]Policy{"fixed migration": base, "migration rule": withRule, "other migration rule": otherNext, "other current rule": otherCur} {
		h, err := p.Hash()
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := seen[h]; dup {
			t.Fatalf("%s and %s hash alike", name, prev)
		}
		seen[h] = name
	}
}
