package attest

import "testing"

func BenchmarkVerify(b *testing.B) {
	doc := realDoc(b)
	opts := VerifyOptions{CurrentTime: realTime, Nonce: unhex(b, realNonce)}
	b.ReportAllocs()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := Verify(doc, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse measures the CBOR/COSE decoding alone (no cryptography).
func BenchmarkParse(b *testing.B) {
	doc := realDoc(b)
	b.ReportAllocs()
	for b.Loop() {
		msg, err := parseSign1(doc)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := parsePayload(msg.payload); err != nil {
			b.Fatal(err)
		}
	}
}
