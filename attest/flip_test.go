package attest

import (
	"bytes"
	"errors"
	"testing"
)

// TestVerifyPayloadBitFlips flips one bit at positions spread over the whole
// payload (the bit index rotates with the position) and checks that each forgery is
// rejected, never with a document, and with an error of the class the
// flipped region implies.
func TestVerifyPayloadBitFlips(t *testing.T) {
	doc := realDoc(t)
	msg, err := parseSign1(doc)
	if err != nil {
		t.Fatal(err)
	}
	start := bytes.Index(doc, msg.payload)
	if start < 0 {
		t.Fatal("payload not found")
	}
	// The byte ranges of fields whose flips keep the CBOR valid, so only the
	// signature can catch them.
	sigOnly := map[string][2]int{}
	for _, f := range []struct{ name, hex string }{
		{"nonce", realNonce}, {"user_data", realUserData}, {"pcr0", realPCR0}, {"pcr1", realPCR1},
	} {
		i := bytes.Index(msg.payload, unhex(t, f.hex))
		sigOnly[f.name] = [2]int{start + i, start + i + len(f.hex)/2}
	}
	// Each Verify costs several P-384 verifications, so the sweep samples:
	// 48 positions spread over the whole payload plus every eighth byte of
	// the signature-only fields.
	n := 48
	if testing.Short() {
		n = 16
	}
	var positions []int
	for k := 0; k < n; k++ {
		positions = append(positions, start+k*len(msg.payload)/n+k%7)
	}
	for _, r := range sigOnly {
		for i := r[0]; i < r[1]; i += 8 {
			positions = append(positions, i)
		}
	}
	counts := map[error]int{}
	for _, i := range positions {
		bad := append([]byte{}, doc...)
		bad[i] ^= 1 << (i % 8)
		d, err := Verify(bad, VerifyOptions{CurrentTime: realTime})
		if err == nil || d != nil {
			t.Fatalf("flip at byte %d accepted (doc %v, err %v)", i, d != nil, err)
		}
		class := classify(err)
		if class == nil {
			t.Fatalf("flip at byte %d: unclassified error %v", i, err)
		}
		counts[class]++
		for name, r := range sigOnly {
			if i >= r[0] && i < r[1] && class != ErrSignature {
				t.Errorf("flip in %s at byte %d: got %v, want %v", name, i, err, ErrSignature)
			}
		}
	}
	t.Logf("rejections by class: %v", counts)
	if counts[ErrSignature] == 0 {
		t.Error("no flip reached the signature check")
	}
}

// classify returns the one sentinel err wraps, or nil.
func classify(err error) error {
	var found error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			if found != nil {
				return nil
			}
			found = s
		}
	}
	return found
}

// TestVerifySignatureBitFlips flips bits spread over r and s.
func TestVerifySignatureBitFlips(t *testing.T) {
	doc := realDoc(t)
	for i := len(doc) - es384SigSize; i < len(doc); i += 12 {
		bad := append([]byte{}, doc...)
		bad[i] ^= 0x80 >> (i % 8)
		if err := verifyErr(t, bad, VerifyOptions{CurrentTime: realTime}); !errors.Is(err, ErrSignature) {
			t.Fatalf("flip in signature byte %d: got %v", i, err)
		}
	}
}
