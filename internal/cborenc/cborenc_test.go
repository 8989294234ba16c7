package cborenc

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// Heads against RFC 8949 Appendix A and against fxamacker/cbor's own
// preferred encoding of the same values.
func TestHeads(t *testing.T) {
	for _, c := range []struct {
		major byte
		n     uint64
		hex   string
	}{
		{MajorUint, 0, "00"}, {MajorUint, 23, "17"}, {MajorUint, 24, "1818"}, {MajorUint, 100, "1864"},
		{MajorUint, 1000, "1903e8"}, {MajorUint, 1000000, "1a000f4240"},
		{MajorUint, 1000000000000, "1b000000e8d4a51000"}, {MajorNeg, 99, "3863"},
		{MajorBytes, 4, "44"}, {MajorText, 24, "7818"}, {MajorArray, 3, "83"}, {MajorMap, 2, "a2"},
	} {
		if got := hex.EncodeToString(AppendHead(nil, c.major, c.n)); got != c.hex {
			t.Errorf("AppendHead(%d, %d) = %s, want %s", c.major, c.n, got, c.hex)
		}
	}
	for _, n := range []int{0, 23, 24, 255, 256, 65535, 65536} {
		v := bytes.Repeat([]byte{7}, n)
		want, err := cbor.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendBytes(nil, v); !bytes.Equal(got, want) {
			t.Errorf("AppendBytes of %d bytes differs from fxamacker/cbor", n)
		}
		s := string(v)
		want, _ = cbor.Marshal(s)
		if got := AppendText(nil, s); !bytes.Equal(got, want) {
			t.Errorf("AppendText of %d bytes differs from fxamacker/cbor", n)
		}
	}
}

func TestSigStructure1(t *testing.T) {
	protected := []byte{0xa1, 0x01, 0x38, 0x22}
	payload := []byte("payload")
	want, err := cbor.Marshal([]any{"Signature1", protected, []byte{}, payload})
	if err != nil {
		t.Fatal(err)
	}
	if got := SigStructure1(protected, payload); !bytes.Equal(got, want) {
		t.Fatalf("got %x, want %x", got, want)
	}
}
