package credential

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func FuzzParseCredential(f *testing.F) {
	k, _ := GenerateIssuerKey(detRand(1), testController)
	c, err := NewCredential(detRand(2), k, testUser, testNow, testNow, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := c.Marshal()
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"@context":[],"proof":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCredential(b)
		if err != nil {
			if !errors.Is(err, ErrShape) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		// A well-shaped credential re-encodes to equivalent JSON.
		re, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseCredential(re); err != nil {
			t.Fatalf("re-encoded credential no longer parses: %v", err)
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	k, _ := GenerateIssuerKey(detRand(1), testController)
	r, err := SealRecord(detRand(2), []byte("x"), [32]byte{9}, k, FaceSignNotes)
	if err != nil {
		f.Fatal(err)
	}
	b, _ := r.Marshal()
	f.Add(b)
	f.Add([]byte(`{"content":""}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRecord(b)
		if err != nil {
			if !errors.Is(err, ErrShape) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		if err := r.Verify(k.Public); err != nil && !errors.Is(err, ErrProof) && !errors.Is(err, ErrShape) {
			t.Fatalf("verify error class: %v", err)
		}
	})
}

func FuzzParseIssuerKey(f *testing.F) {
	k, _ := GenerateIssuerKey(detRand(1), testController)
	b, _ := json.Marshal(k)
	f.Add(b)
	pb, _ := json.Marshal(k.PublicDocument())
	f.Add(pb)
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseIssuerKey(b)
		if err != nil {
			if !errors.Is(err, ErrIssuerKey) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		re, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParseIssuerKey(re)
		if err != nil || k2.ID != k.ID || !k2.Public.Equal(k.Public) {
			t.Fatalf("re-encoded key: %v", err)
		}
	})
}

func FuzzParseEvidence(f *testing.F) {
	fx := newFixture(f)
	rb, ab, err := fx.ev.Marshal()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rb, ab)
	f.Add([]byte{0xa0}, []byte{0xa0})
	f.Fuzz(func(t *testing.T, r, a []byte) {
		ev, err := ParseEvidence(r, a)
		if err != nil {
			if !errors.Is(err, ErrReceipt) && !errors.Is(err, ErrAttestation) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		if _, _, err := ev.Marshal(); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzMultibaseDecode(f *testing.F) {
	f.Add("z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	f.Add("z1111")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := MultibaseDecode(s)
		if err != nil {
			if !errors.Is(err, ErrMultibase) {
				t.Fatalf("error class: %v", err)
			}
			return
		}
		if got := MultibaseEncode(b); got != s {
			t.Fatalf("round trip %q → %q", s, got)
		}
	})
}
