package attest

import (
	"bytes"
	"errors"
	"runtime"
	"testing"
)

func seedCorpus(f *testing.F) {
	doc := realDoc(f)
	f.Add(doc)
	f.Add(append([]byte{0xd2}, doc...))
	f.Add(readFile(f, "testdata/aws_nitro_document_bad_sig.cbor"))
	f.Add(doc[:100])
	f.Add([]byte{0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x41, 0xa0, 0x40})
	f.Add([]byte{})
}

// FuzzParse checks that COSE and payload decoding never panic, return either
// a result or an error, and classify every error.
func FuzzParse(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := parseSign1(data)
		if err != nil {
			if msg != nil {
				t.Fatal("message together with an error")
			}
			if !errors.Is(err, ErrCOSE) && !errors.Is(err, ErrAlgorithm) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(msg.signature) != es384SigSize || len(msg.payload) == 0 {
			t.Fatal("accepted a malformed COSE_Sign1")
		}
		p, err := parsePayload(msg.payload)
		if err != nil {
			if p != nil || !errors.Is(err, ErrPayload) {
				t.Fatalf("payload %v with error %v", p != nil, err)
			}
			return
		}
		if len(p.nonce) > MaxFieldSize || len(p.cabundle) == 0 || len(p.pcrs[0]) == 0 {
			t.Fatal("accepted an out-of-bounds payload")
		}
	})
}

// FuzzVerify runs the whole verifier; only the real document (and its
// tagged form) may pass.
func FuzzVerify(f *testing.F) {
	seedCorpus(f)
	doc := realDoc(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Verify(data, VerifyOptions{AtDocumentTime: true})
		if err != nil {
			if d != nil {
				t.Fatal("document together with an error")
			}
			if classify(err) == nil {
				t.Fatalf("error %v matches no single sentinel", err)
			}
			return
		}
		if !bytes.Equal(bytes.TrimPrefix(data, []byte{0xd2}), doc) {
			t.Fatalf("accepted a document other than the real one: %x", data)
		}
	})
}

// TestDecodeBoundedAllocation feeds headers that declare huge lengths and
// deep nesting: the decoder must reject them without allocating what they
// claim.
func TestDecodeBoundedAllocation(t *testing.T) {
	deep := bytes.Repeat([]byte{0x81}, 10000)
	inputs := map[string][]byte{
		"bstr 2^63":          {0x84, 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"array 2^32":         {0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00},
		"payload map 2^32":   {0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x5a, 0x00, 0x00, 0x00, 0x09, 0xbb, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00},
		"deep nesting":       deep,
		"indefinite array":   {0x9f, 0x40, 0xa0, 0x40, 0x40, 0xff},
		"indefinite payload": {0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x5f, 0x41, 0xa0, 0xff, 0x58, 0x60},
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			const runs = 50
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range runs {
				if err := verifyErr(t, in, VerifyOptions{AtDocumentTime: true}); !errors.Is(err, ErrCOSE) {
					t.Fatalf("got %v, want %v", err, ErrCOSE)
				}
			}
			runtime.ReadMemStats(&after)
			if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 64<<10 {
				t.Fatalf("%d bytes allocated per rejected input", per)
			}
		})
	}
}
