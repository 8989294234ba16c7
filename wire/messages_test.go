package wire

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestResponsesPadToOneSize(t *testing.T) {
	key := ed25519.NewKeyFromSeed(make([]byte, 32))
	rcpt, err := SignReceipt(key, Receipt{UniqueID: "0b8f7a52-8e0f-4a8e-9b8e-6a3f5f0b1c2d", Status: StatusExisting, IssuedAtMS: 1790000000000, PolicyHash: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	responses := []Response{
		{Status: StatusNew, UniqueID: "0b8f7a52-8e0f-4a8e-9b8e-6a3f5f0b1c2d", Entropy: make([]byte, 32), Receipt: &rcpt},
		{Status: StatusExisting, UniqueID: "0b8f7a52-8e0f-4a8e-9b8e-6a3f5f0b1c2d", Entropy: make([]byte, 32), Receipt: &rcpt},
		{Status: StatusNotFound, Receipt: &rcpt},
		{Status: StatusDeleted, UniqueID: "0b8f7a52-8e0f-4a8e-9b8e-6a3f5f0b1c2d", Receipt: &rcpt},
		{Status: StatusRejected, Reason: CodeLivenessFailed, Message: strings.Repeat("m", 5000), Receipt: &rcpt},
		{Status: StatusRejected, Reason: CodeAmbiguousMatch},
	}
	for _, r := range responses {
		t.Run(string(r.Status)+string(r.Reason), func(t *testing.T) {
			b, err := r.MarshalPadded()
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != ResponseSize {
				t.Fatalf("%d bytes, want %d", len(b), ResponseSize)
			}
			var back Response
			if err := UnmarshalPadded(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.Status != r.Status || back.UniqueID != r.UniqueID || !bytes.Equal(back.Entropy, r.Entropy) || back.Reason != r.Reason {
				t.Fatalf("round trip: %+v", back)
			}
		})
	}
	c := ChallengeResponse{ID: make([]byte, 16), Nonce: make([]byte, 32), Actions: []string{ActionTurnLeft, ActionTurnRight, ActionOpenMouth}, ExpiresAtMS: 1790000000000}
	b, err := c.MarshalPadded()
	if err != nil || len(b) != ChallengeResponseSize {
		t.Fatalf("challenge: %d bytes, %v", len(b), err)
	}
	e, err := ChallengeResponse{Reason: CodeUnavailable, Message: strings.Repeat("x", 1000)}.MarshalPadded()
	if err != nil || len(e) != ChallengeResponseSize {
		t.Fatalf("challenge refusal: %d bytes, %v", len(e), err)
	}
}

func TestUnmarshalPaddedRejects(t *testing.T) {
	b, err := MarshalPadded(Response{Status: StatusNew}, 64)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"non-zero padding", append(bytes.Clone(b), 1)},
		{"empty", nil},
		{"unknown field", mustMarshal(t, map[string]any{"status": "new", "evil": 1})},
		{"duplicate key", []byte{0xa2, 0x66, 's', 't', 'a', 't', 'u', 's', 0x63, 'n', 'e', 'w', 0x66, 's', 't', 'a', 't', 'u', 's', 0x63, 'n', 'e', 'w'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Response
			if err := UnmarshalPadded(tt.b, &r); err == nil {
				t.Fatalf("accepted %x", tt.b)
			}
		})
	}
	if _, err := MarshalPadded(Response{Message: strings.Repeat("x", 100)}, 16); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCodes(t *testing.T) {
	seen := map[Code]bool{}
	for _, c := range Codes() {
		if seen[c] || c == "" || strings.ToLower(string(c)) != string(c) {
			t.Fatalf("bad or duplicate code %q", c)
		}
		seen[c] = true
		if s := c.HTTPStatus(); s < 400 || s > 599 {
			t.Fatalf("%s: status %d", c, s)
		}
	}
	if len(seen) != 24 {
		t.Fatalf("%d codes, the contract names 24", len(seen))
	}
	err := fmt.Errorf("outer: %w", Errorf(CodeNoFace, "frame %d has no face", 3))
	if CodeOf(err) != CodeNoFace || !strings.Contains(err.Error(), "no_face: frame 3 has no face") {
		t.Fatalf("CodeOf: %v %v", CodeOf(err), err)
	}
	if CodeOf(fmt.Errorf("x: %w", ErrUnknownKeyID)) != CodeUnknownKeyID || CodeOf(errors.New("x")) != CodeInternal {
		t.Fatal("CodeOf sentinels")
	}
}

func FuzzUnmarshalFaceRequest(f *testing.F) {
	good, _ := MarshalPadded(FaceRequest{ChallengeID: make([]byte, 16), ChallengeNonce: make([]byte, 32), Frames: [][]byte{{1, 2, 3}}, Segments: []Segment{{Action: ActionTurnLeft, From: 0, To: 0}}}, 200)
	f.Add(good)
	f.Add([]byte{0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r FaceRequest
		if err := UnmarshalPadded(b, &r); err != nil {
			return
		}
		// Whatever decodes re-encodes, and decodes to the same value.
		again, err := Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var r2 FaceRequest
		if err := Unmarshal(again, &r2); err != nil {
			t.Fatalf("re-encoded request does not decode: %v", err)
		}
		again2, _ := Marshal(r2)
		if !bytes.Equal(again, again2) {
			t.Fatal("encoding not stable")
		}
	})
}

func FuzzUnmarshalResponse(f *testing.F) {
	good, _ := Response{Status: StatusNew, UniqueID: "x", Entropy: make([]byte, 32)}.MarshalPadded()
	f.Add(good)
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Response
		_ = UnmarshalPadded(b, &r)
	})
}
