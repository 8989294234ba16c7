package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

// testBinding is a fixed binding for the known answer below.
func testBinding() Binding {
	return Binding{
		KeyConfig: []byte{0x01, 0x00, 0x20},
		Policy: Policy{
			Engine: "mobilefacenet", ModelSHA256: bytes.Repeat([]byte{0xab}, 32),
			MatchThreshold: 0.6, NewThreshold: 0.4, Margin: 0.05,
			Actions: []string{"blink", "turn_left"}, ChallengeTTLMS: 60000,
			MinFrames: 8, MaxFrames: 64, MaxFrameBytes: 1 << 20, MaxPixels: 1 << 21,
		},
		ReceiptKey: bytes.Repeat([]byte{0x11}, 32),
	}
}

// testBindingSHA256 is SHA-256 of testBinding's RFC 8949 §4.2.1 core
// deterministic encoding, computed independently of this package by a
// hand-written Python encoder (sorted encoded map keys, shortest float that
// keeps the float32 value): 0.6, 0.4 and 0.05 are float32s, encoded 0xfa.
const testBindingSHA256 = "7571afbc92ba63aaab2ea8eea10638571ddd571bae303b7ae78fbdfdf15546c4"

func TestCheckUserData(t *testing.T) {
	b := testBinding()
	want, err := hex.DecodeString(testBindingSHA256)
	if err != nil {
		t.Fatal(err)
	}
	if h, err := b.Hash(); err != nil || !bytes.Equal(h[:], want) {
		t.Fatalf("Hash %x, %v; want %s (the canonical encoding changed)", h, err, testBindingSHA256)
	}
	flipped := bytes.Clone(want)
	flipped[31] ^= 1
	otherPolicy := testBinding()
	otherPolicy.Policy.MatchThreshold = 0.7
	otherKey := testBinding()
	otherKey.ReceiptKey[0] ^= 1
	otherConfig := testBinding()
	otherConfig.KeyConfig = append(otherConfig.KeyConfig, 0)
	tests := []struct {
		name     string
		binding  Binding
		userData []byte
		want     error // nil: accepted
	}{
		{"matches", b, want, nil},
		{"one bit flipped", b, flipped, ErrUserDataMismatch},
		{"truncated", b, want[:31], ErrUserDataMismatch},
		{"extended", b, append(bytes.Clone(want), 0), ErrUserDataMismatch},
		{"missing", b, nil, ErrUserDataMismatch},
		{"empty", b, []byte{}, ErrUserDataMismatch},
		{"another policy", otherPolicy, want, ErrUserDataMismatch},
		{"another receipt key", otherKey, want, ErrUserDataMismatch},
		{"another key config", otherConfig, want, ErrUserDataMismatch},
		{"the binding's own hash", otherPolicy, hashOrFatal(t, otherPolicy), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.binding.CheckUserData(tc.userData)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("CheckUserData: %v, want %v", err, tc.want)
			}
		})
	}
}

func hashOrFatal(t *testing.T, b Binding) []byte {
	t.Helper()
	h, err := b.Hash()
	if err != nil {
		t.Fatal(err)
	}
	return h[:]
}
