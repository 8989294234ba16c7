package simulator

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"os"
	"testing"

	"github.com/facesign/facesign/attest"
	"github.com/fxamacker/cbor/v2"
)

// The real document lives with the verifier's test vectors (provenance and
// licence in ../attest/testdata/README.md).
const realDocPath = "../attest/testdata/aws_nitro_document.cbor"

// item is the shape of one CBOR data item: its initial byte (major type
// and head width), its length when it is a string, and its children.
type item struct {
	head     byte
	strLen   int
	children []item
	mapKeys  []string // text keys of a map, in encoded order
}

// shape walks raw and records its structure.
func shape(t *testing.T, raw []byte) item {
	t.Helper()
	dec := cbor.NewDecoder(bytes.NewReader(raw))
	var it item
	var r cbor.RawMessage
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	it.head = r[0]
	switch r[0] >> 5 {
	case 2, 3:
		var s []byte
		if r[0]>>5 == 3 {
			var str string
			cbor.Unmarshal(r, &str)
			s = []byte(str)
		} else {
			cbor.Unmarshal(r, &s)
		}
		it.strLen = len(s)
	case 4:
		var elems []cbor.RawMessage
		cbor.Unmarshal(r, &elems)
		for _, e := range elems {
			it.children = append(it.children, shape(t, e))
		}
	case 5:
		// Walk the pairs in their encoded order.
		body := r[headLen(r[0]):]
		d := cbor.NewDecoder(bytes.NewReader(body))
		for range mapLen(r) {
			var k, v cbor.RawMessage
			if err := d.Decode(&k); err != nil {
				t.Fatal(err)
			}
			if err := d.Decode(&v); err != nil {
				t.Fatal(err)
			}
			var ks string
			if k[0]>>5 == 3 {
				cbor.Unmarshal(k, &ks)
			} else {
				var ki uint64
				cbor.Unmarshal(k, &ki)
				ks = fmt.Sprint(ki)
			}
			it.mapKeys = append(it.mapKeys, ks)
			it.children = append(it.children, shape(t, k), shape(t, v))
		}
	}
	return it
}

func headLen(b byte) int {
	switch b & 0x1f {
	case 24:
		return 2
	case 25:
		return 3
	case 26:
		return 5
	case 27:
		return 9
	}
	return 1
}

func mapLen(r []byte) int {
	var m map[any]cbor.RawMessage
	cbor.Unmarshal(r, &m)
	return len(m)
}

// TestDocumentShapeMatchesNitro compares a simulator document with the real
// NSM document field by field: COSE framing, protected header bytes, payload
// key order, every value's CBOR type and head width, string lengths, PCR
// indices and sizes, and cabundle length. Only the contents (names, keys,
// times, signatures) may differ. The certificate lengths differ by a few
// bytes (other names), so only their major type and head width are compared.
func TestDocumentShapeMatchesNitro(t *testing.T) {
	real, err := os.ReadFile(realDocPath)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := newNSM(t, bootPCRs)
	// The real document carried a 32-byte nonce and user_data and no public key.
	nonce, _ := hex.DecodeString("c678c86135de539d183acff58886d98dfb9823041af9f934bf909ac0f8d96245")
	ud, _ := hex.DecodeString("7c37108079b3e8a36d8a7970de1d6d4ff1461e0e35d9557c4d789df5e0576620")
	sim, err := n.Attest(attest.Request{Nonce: nonce, UserData: ud})
	if err != nil {
		t.Fatal(err)
	}
	rs, ss := shape(t, real), shape(t, sim)
	if rs.head != 0x84 || ss.head != 0x84 {
		t.Fatalf("COSE heads %#x / %#x, want untagged array 0x84", rs.head, ss.head)
	}
	var ra, sa []cbor.RawMessage
	cbor.Unmarshal(real, &ra)
	cbor.Unmarshal(sim, &sa)
	if !bytes.Equal(ra[0], sa[0]) || !bytes.Equal(ra[1], sa[1]) {
		t.Fatalf("headers %x %x, want %x %x", []byte(sa[0]), []byte(sa[1]), []byte(ra[0]), []byte(ra[1]))
	}
	for i := range 4 {
		if rs.children[i].head != ss.children[i].head {
			t.Errorf("COSE element %d head %#x, want %#x", i, ss.children[i].head, rs.children[i].head)
		}
	}
	if rs.children[3].strLen != 96 || ss.children[3].strLen != 96 || rs.children[3].head != ss.children[3].head {
		t.Fatal("signature is not a 96-byte string in both")
	}
	var rp, sp []byte
	cbor.Unmarshal(ra[2], &rp)
	cbor.Unmarshal(sa[2], &sp)
	rpay, spay := shape(t, rp), shape(t, sp)
	if fmt.Sprint(rpay.mapKeys) != fmt.Sprint(spay.mapKeys) {
		t.Fatalf("payload keys %v, want %v", spay.mapKeys, rpay.mapKeys)
	}
	if rpay.head != spay.head {
		t.Fatalf("payload map head %#x, want %#x", spay.head, rpay.head)
	}
	for i, key := range rpay.mapKeys {
		rv, sv := rpay.children[2*i+1], spay.children[2*i+1]
		t.Run(key, func(t *testing.T) {
			if rv.head != sv.head {
				t.Fatalf("head %#x, want %#x", sv.head, rv.head)
			}
			switch key {
			case "certificate":
				// names differ; DER length class must not
			case "cabundle":
				if len(rv.children) != len(sv.children) {
					t.Fatalf("%d certificates, want %d", len(sv.children), len(rv.children))
				}
				for j := range rv.children {
					if rv.children[j].head != sv.children[j].head {
						t.Errorf("cabundle[%d] head %#x, want %#x", j, sv.children[j].head, rv.children[j].head)
					}
				}
			case "module_id":
				if rv.strLen != len("i-04fd167167daacf3b-enc01845e97d0b3eb4e") || sv.strLen != rv.strLen {
					t.Errorf("module_id length %d, want %d", sv.strLen, rv.strLen)
				}
			case "pcrs":
				if fmt.Sprint(rv.mapKeys) != fmt.Sprint(sv.mapKeys) {
					t.Fatalf("PCR indices %v, want %v", sv.mapKeys, rv.mapKeys)
				}
				for j := range rv.children {
					if rv.children[j].head != sv.children[j].head || rv.children[j].strLen != sv.children[j].strLen {
						t.Errorf("pcrs item %d: head %#x len %d, want %#x len %d", j,
							sv.children[j].head, sv.children[j].strLen, rv.children[j].head, rv.children[j].strLen)
					}
				}
			default:
				if rv.strLen != sv.strLen {
					t.Errorf("length %d, want %d", sv.strLen, rv.strLen)
				}
			}
		})
	}
	// Both verify, each against its own root only.
	if _, err := attest.Verify(real, attest.VerifyOptions{AtDocumentTime: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Verify(sim, attest.VerifyOptions{AtDocumentTime: true, Roots: []*x509.Certificate{n.Root()}}); err != nil {
		t.Fatal(err)
	}
}
