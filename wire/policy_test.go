package wire

import (
	"bytes"
	"reflect"
	"testing"
)

// TestPolicyRule: a threshold rule round-trips, changes the policy hash, and
// a policy without one encodes exactly as before the field existed (its hash,
// which clients pin, is unchanged).
func TestPolicyRule(t *testing.T) {
	fixed := Policy{Engine: "e", ModelSHA256: make([]byte, 32), MatchThreshold: 0.6, NewThreshold: 0.4, Margin: 0.01,
		Actions: []string{ActionTurnLeft}, ChallengeTTLMS: 1000, MinFrames: 1, MaxFrames: 2, MaxFrameBytes: 1024, MaxPixels: 4096}
	ruled := fixed
	ruled.MatchThreshold, ruled.NewThreshold = 0, 0
	ruled.Rule = &ThresholdRule{CurveSHA256: bytes.Repeat([]byte{7}, 32), Epsilon: 1e-6, MaxNewRefused: 0.01, MaxDuplicate: 0.01, Capacity: 12345}

	enc, err := Marshal(fixed)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte("threshold_rule")) {
		t.Fatal("a policy without a rule encodes the rule field")
	}
	b, err := Marshal(ruled)
	if err != nil {
		t.Fatal(err)
	}
	var back Policy
	if err := Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ruled) {
		t.Fatalf("round trip: %+v", back)
	}
	h1, _ := fixed.Hash()
	h2, _ := ruled.Hash()
	other := ruled
	r := *ruled.Rule
	r.Capacity++
	other.Rule = &r
	h3, _ := other.Hash()
	if h1 == h2 || h2 == h3 {
		t.Fatal("the rule does not change the policy hash")
	}

	// A rule without a template epsilon encodes without the field (hashes of
	// such policies are unchanged); with one, it round-trips and changes the
	// hash.
	if bytes.Contains(b, []byte("template_epsilon")) {
		t.Fatal("a rule without a template epsilon encodes the field")
	}
	tmpl := ruled
	tr := *ruled.Rule
	tr.TemplateEpsilon = 1e-8
	tmpl.Rule, tmpl.MaxTemplates = &tr, 4
	b, err = Marshal(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	back = Policy{}
	if err := Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, tmpl) || back.Rule.TemplateEpsilon != 1e-8 {
		t.Fatalf("round trip with a template epsilon: %+v", back.Rule)
	}
	tmpl.MaxTemplates = 0
	h4, _ := tmpl.Hash()
	if h4 == h2 {
		t.Fatal("the template epsilon does not change the policy hash")
	}
}
