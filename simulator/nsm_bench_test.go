package simulator

import (
	"testing"

	"github.com/facesign/facesign/attest"
)

// BenchmarkNSMAttest measures one simulated document: a fresh P-384 leaf
// key and certificate plus the ES384 document signature.
func BenchmarkNSMAttest(b *testing.B) {
	n, _ := newNSM(b, bootPCRs)
	req := attest.Request{Nonce: make([]byte, 32), UserData: make([]byte, 32)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Attest(req); err != nil {
			b.Fatal(err)
		}
	}
}
