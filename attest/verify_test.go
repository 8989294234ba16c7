package attest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Facts of testdata/aws_nitro_document.cbor (see testdata/README.md).
const (
	realModuleID = "i-04fd167167daacf3b-enc01845e97d0b3eb4e"
	realPCR0     = "22f9e1c949208da55eb01b9b9fc88f87454f77ba133f0d82320b509621c92482152a99d0a12335b97178c02d6f977d01"
	realPCR1     = "bcdf05fefccaa8e55bf2c8d6dee9e79bbff31e34bf28a99aa19e6b29c37ee80b214a414b7607236edf26fcb78654e63f"
	realPCR2     = "00943ea859140fed74e1025fe41aedb38780eae5656b3f9ef9b4b0e6111350315544db3efcda05725108f72b2ab141f7"
	realNonce    = "c678c86135de539d183acff58886d98dfb9823041af9f934bf909ac0f8d96245"
	realUserData = "7c37108079b3e8a36d8a7970de1d6d4ff1461e0e35d9557c4d789df5e0576620"
)

var realTime = time.Date(2022, 11, 9, 23, 0, 0, 0, time.UTC)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func realDoc(t testing.TB) []byte { return readFile(t, "testdata/aws_nitro_document.cbor") }

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEmbeddedRoot(t *testing.T) {
	sum := sha256.Sum256(AWSNitroRoot().Raw)
	if got := hex.EncodeToString(sum[:]); got != AWSNitroRootSHA256 {
		t.Fatalf("embedded root DER SHA-256 = %s, want %s", got, AWSNitroRootSHA256)
	}
	blk, _ := pem.Decode(readFile(t, "testdata/aws_nitro_root_cert.pem"))
	if blk == nil || !bytes.Equal(blk.Bytes, AWSNitroRoot().Raw) {
		t.Fatal("embedded root differs from testdata/aws_nitro_root_cert.pem")
	}
	r := AWSNitroRoot()
	if r.Subject.CommonName != "aws.nitro-enclaves" || !r.IsCA {
		t.Fatalf("unexpected root %v", r.Subject)
	}
}

func TestVerifyRealDocument(t *testing.T) {
	doc := realDoc(t)
	for _, tc := range []struct {
		name string
		opts VerifyOptions
	}{
		{"at document time", VerifyOptions{AtDocumentTime: true}},
		{"at explicit time", VerifyOptions{CurrentTime: realTime}},
		{"explicit AWS root", VerifyOptions{CurrentTime: realTime, Roots: []*x509.Certificate{AWSNitroRoot()}}},
		{"nonce and PCR policy", VerifyOptions{CurrentTime: realTime, Nonce: unhex(t, realNonce),
			PCRs: map[int][]byte{0: unhex(t, realPCR0), 1: unhex(t, realPCR1), 2: unhex(t, realPCR2)}}},
		{"tagged", VerifyOptions{AtDocumentTime: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := doc
			if tc.name == "tagged" {
				in = append([]byte{0xd2}, doc...)
			}
			d, err := Verify(in, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.ModuleID != realModuleID || d.Digest != "SHA384" {
				t.Errorf("module %q digest %q", d.ModuleID, d.Digest)
			}
			if want := time.Date(2022, 11, 9, 22, 52, 0, 696e6, time.UTC); !d.Timestamp.Equal(want) {
				t.Errorf("timestamp %v, want %v", d.Timestamp, want)
			}
			if len(d.PCRs) != 16 {
				t.Errorf("%d PCRs, want 16", len(d.PCRs))
			}
			for i, v := range d.PCRs {
				if len(v) != 48 {
					t.Errorf("PCR%d is %d bytes", i, len(v))
				}
			}
			if hex.EncodeToString(d.PCRs[0]) != realPCR0 || hex.EncodeToString(d.PCRs[2]) != realPCR2 {
				t.Error("PCR0/PCR2 differ from the fixture's README")
			}
			if hex.EncodeToString(d.Nonce) != realNonce || hex.EncodeToString(d.UserData) != realUserData {
				t.Error("nonce/user_data differ from the fixture's README")
			}
			if d.PublicKey != nil {
				t.Errorf("public_key %x, want nil", d.PublicKey)
			}
			if len(d.CABundle) != 4 || !d.CABundle[0].Equal(AWSNitroRoot()) {
				t.Error("cabundle is not 4 certificates with the AWS root first")
			}
			if d.Certificate.Subject.CommonName != realModuleID+".eu-west-1.aws" {
				t.Errorf("leaf %q", d.Certificate.Subject.CommonName)
			}
		})
	}
}

// verifyErr runs Verify and checks the no-document-with-error contract.
func verifyErr(t *testing.T, doc []byte, opts VerifyOptions) error {
	t.Helper()
	d, err := Verify(doc, opts)
	if err != nil && d != nil {
		t.Fatalf("Verify returned a document together with %v", err)
	}
	if err == nil && d == nil {
		t.Fatal("Verify returned neither document nor error")
	}
	return err
}

func TestVerifyRejects(t *testing.T) {
	doc := realDoc(t)
	at := VerifyOptions{CurrentTime: realTime}
	withOpts := func(f func(*VerifyOptions)) VerifyOptions { o := at; f(&o); return o }
	wrongPCR0 := unhex(t, realPCR0)
	wrongPCR0[47] ^= 1
	for _, tc := range []struct {
		name string
		doc  []byte
		opts VerifyOptions
		want error
	}{
		{"bad signature twin", readFile(t, "testdata/aws_nitro_document_bad_sig.cbor"), at, ErrSignature},
		{"wrong nonce", doc, withOpts(func(o *VerifyOptions) { o.Nonce = []byte("another nonce") }), ErrNonce},
		{"wrong PCR", doc, withOpts(func(o *VerifyOptions) { o.PCRs = map[int][]byte{0: wrongPCR0} }), ErrPCR},
		{"PCR not in document", doc, withOpts(func(o *VerifyOptions) { o.PCRs = map[int][]byte{16: make([]byte, 48)} }), ErrPCR},
		{"expired chain", doc, VerifyOptions{CurrentTime: time.Date(2022, 11, 10, 2, 0, 0, 0, time.UTC)}, ErrExpired},
		{"not yet valid", doc, VerifyOptions{CurrentTime: time.Date(2022, 11, 9, 22, 0, 0, 0, time.UTC)}, ErrExpired},
		{"untrusted root", doc, withOpts(func(o *VerifyOptions) { o.Roots = []*x509.Certificate{leafOf(t, doc)} }), ErrUntrustedRoot},
		{"zero time", doc, VerifyOptions{}, ErrOptions},
		{"two times", doc, VerifyOptions{CurrentTime: realTime, AtDocumentTime: true}, ErrOptions},
		{"empty nonce option", doc, withOpts(func(o *VerifyOptions) { o.Nonce = []byte{} }), ErrOptions},
		{"bad PCR policy index", doc, withOpts(func(o *VerifyOptions) { o.PCRs = map[int][]byte{32: make([]byte, 48)} }), ErrOptions},
		{"bad PCR policy size", doc, withOpts(func(o *VerifyOptions) { o.PCRs = map[int][]byte{0: make([]byte, 47)} }), ErrOptions},
		{"empty roots", doc, withOpts(func(o *VerifyOptions) { o.Roots = []*x509.Certificate{} }), ErrOptions},
		{"empty input", nil, at, ErrCOSE},
		{"truncated", doc[:len(doc)-1], at, ErrCOSE},
		{"trailing byte", append(append([]byte{}, doc...), 0), at, ErrCOSE},
		{"too large", make([]byte, MaxDocumentSize+1), at, ErrCOSE},
		{"double tag", append([]byte{0xd2, 0xd2}, doc...), at, ErrCOSE},
		{"other tag", append([]byte{0xd1}, doc...), at, ErrCOSE},
		{"long-form array head", append([]byte{0x98, 0x04}, doc[1:]...), at, ErrCOSE},
		{"long-form protected head", replaceOnce(t, doc, []byte{0x84, 0x44}, []byte{0x84, 0x58, 0x04}), at, ErrCOSE},
		{"long-form payload head", replaceOnce(t, doc, []byte{0xa0, 0x59, 0x11, 0x01}, []byte{0xa0, 0x5a, 0x00, 0x00, 0x11, 0x01}), at, ErrCOSE},
		{"swapped certificate (forged leaf)", resign(t, doc, func(m map[string]cbor.RawMessage) {
			m["certificate"] = mustMarshal(t, forgedLeaf(t, leafOf(t, doc)))
		}), at, ErrChain},
		{"swapped certificate (CA as leaf)", resign(t, doc, func(m map[string]cbor.RawMessage) {
			var bundle [][]byte
			cbor.Unmarshal(m["cabundle"], &bundle)
			other, _ := x509.ParseCertificate(bundle[2]) // zonal CA instead of the leaf
			m["certificate"] = mustMarshal(t, other.Raw)
		}), at, ErrCertificate},
		{"reordered cabundle", resign(t, doc, func(m map[string]cbor.RawMessage) {
			var bundle [][]byte
			cbor.Unmarshal(m["cabundle"], &bundle)
			bundle[1], bundle[2] = bundle[2], bundle[1]
			m["cabundle"] = mustMarshal(t, bundle)
		}), at, ErrChain},
		{"leaf from another issuer", resign(t, doc, func(m map[string]cbor.RawMessage) {
			var bundle [][]byte
			cbor.Unmarshal(m["cabundle"], &bundle)
			m["cabundle"] = mustMarshal(t, bundle[:3]) // drop the instance CA
		}), at, ErrChain},
		{"unknown payload field", resign(t, doc, func(m map[string]cbor.RawMessage) { m["extra"] = mustMarshal(t, 1) }), at, ErrPayload},
		{"missing payload field", resign(t, doc, func(m map[string]cbor.RawMessage) { delete(m, "digest") }), at, ErrPayload},
		{"wrong digest", resign(t, doc, func(m map[string]cbor.RawMessage) { m["digest"] = mustMarshal(t, "SHA256") }), at, ErrPayload},
		{"ms timestamp as text", resign(t, doc, func(m map[string]cbor.RawMessage) { m["timestamp"] = mustMarshal(t, "1668034320696") }), at, ErrPayload},
		{"nonce too long", resign(t, doc, func(m map[string]cbor.RawMessage) { m["nonce"] = mustMarshal(t, make([]byte, 1025)) }), at, ErrPayload},
		{"nonce as text", resign(t, doc, func(m map[string]cbor.RawMessage) { m["nonce"] = mustMarshal(t, "abc") }), at, ErrPayload},
		{"PCR index 32", resign(t, doc, func(m map[string]cbor.RawMessage) {
			m["pcrs"] = mustMarshal(t, map[int][]byte{0: make([]byte, 48), 32: make([]byte, 48)})
		}), at, ErrPayload},
		{"PCR of 47 bytes", resign(t, doc, func(m map[string]cbor.RawMessage) {
			m["pcrs"] = mustMarshal(t, map[int][]byte{0: make([]byte, 47)})
		}), at, ErrPayload},
		{"empty cabundle", resign(t, doc, func(m map[string]cbor.RawMessage) { m["cabundle"] = mustMarshal(t, [][]byte{}) }), at, ErrPayload},
		{"alg ES256", setProtected(doc, []byte{0xa1, 0x01, 0x26}), at, ErrAlgorithm},
		{"no alg", setProtected(doc, []byte{0xa0}), at, ErrAlgorithm},
		{"extra protected parameter", setProtected(doc, []byte{0xa2, 0x01, 0x38, 0x22, 0x04, 0x41, 0x00}), at, ErrCOSE},
		{"non-empty unprotected", replaceOnce(t, doc, []byte{0x22, 0xa0, 0x59}, []byte{0x22, 0xa1, 0x04, 0x41, 0x00, 0x59})[:len(doc)+3], at, ErrCOSE},
		{"short signature", append(replaceOnce(t, doc, []byte{0x58, 0x60}, []byte{0x58, 0x5f}), doc[:0]...)[:len(doc)-1], at, ErrCOSE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := verifyErr(t, tc.doc, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			for _, other := range sentinels {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("%v also matches %v", err, other)
				}
			}
		})
	}
}

var sentinels = []error{ErrOptions, ErrCOSE, ErrAlgorithm, ErrPayload, ErrCertificate, ErrUntrustedRoot,
	ErrChain, ErrExpired, ErrSignature, ErrNonce, ErrPCR, ErrDebugEnclave}

func leafOf(t *testing.T, doc []byte) *x509.Certificate {
	t.Helper()
	d, err := Verify(doc, VerifyOptions{AtDocumentTime: true})
	if err != nil {
		t.Fatal(err)
	}
	return d.Certificate
}

// forgedLeaf returns a P-384 certificate with the real leaf's names and
// validity, signed by a key that is not the issuer's.
func forgedLeaf(t *testing.T, real *x509.Certificate) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          real.SerialNumber,
		Subject:               real.Subject,
		Issuer:                real.Issuer,
		NotBefore:             real.NotBefore,
		NotAfter:              real.NotAfter,
		KeyUsage:              real.KeyUsage,
		BasicConstraintsValid: true,
	}
	parent := &x509.Certificate{Subject: real.Issuer, PublicKey: &key.PublicKey}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func mustMarshal(t *testing.T, v any) cbor.RawMessage {
	t.Helper()
	b, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// resign rewrites the payload of doc with edit and keeps the original
// signature (which therefore no longer verifies): it shows that each payload
// check fires before, and independently of, the signature check.
func resign(t *testing.T, doc []byte, edit func(map[string]cbor.RawMessage)) []byte {
	t.Helper()
	var arr []cbor.RawMessage
	if err := cbor.Unmarshal(doc, &arr); err != nil {
		t.Fatal(err)
	}
	var payload []byte
	cbor.Unmarshal(arr[2], &payload)
	var m map[string]cbor.RawMessage
	if err := cbor.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	arr[2] = mustMarshal(t, []byte(mustMarshal(t, m)))
	return mustMarshal(t, arr)
}

func setProtected(doc, protected []byte) []byte {
	var arr []cbor.RawMessage
	cbor.Unmarshal(doc, &arr)
	p, _ := cbor.Marshal(protected)
	arr[0] = p
	out, _ := cbor.Marshal(arr)
	return out
}

func replaceOnce(t *testing.T, doc, old, new []byte) []byte {
	t.Helper()
	i := bytes.Index(doc, old)
	if i < 0 {
		t.Fatalf("%x not found", old)
	}
	out := append([]byte{}, doc[:i]...)
	out = append(out, new...)
	return append(out, doc[i+len(old):]...)
}
