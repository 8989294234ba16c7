package credential

import (
	"fmt"
	"testing"
	"time"

	"github.com/facesign/facesign/wire"
)

// The issuer's flow: verify the enclave's evidence, mint the credential,
// and hand idOS the record encrypted to the holder.
func ExampleIssue() {
	var t exampleT
	nsm := newTestNSM(&t)                          // stands in for the enclave's security module
	enclave := newTestEnclave(&t, "mobilefacenet") // its receipt key and policy
	now := testNow
	ev := Evidence{
		Attestation: nsm.attest(&t, enclave.binding, now.Add(-time.Minute)),
		Binding:     enclave.binding,
		Receipt: enclave.receipt(&t, wire.Receipt{
			UniqueID: "6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", Status: wire.StatusNew, IssuedAtMS: now.UnixMilli(),
		}),
	}
	key, _ := GenerateIssuerKey(detRand(1), "https://issuer.example/idos/issuers/1")
	holder := [32]byte{9} // the holder's x25519 public key (here: X25519 base point)
	out, err := Issue(ev, IssueOptions{
		Policy:              EvidencePolicy{Attestation: nsm.verifyOptions(now), Now: now},
		Key:                 key,
		HolderEncryptionKey: holder,
		Rand:                detRand(2),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Credential.CredentialSubject.FaceSignUserID)
	fmt.Println(out.Credential.Proof.Type, out.Credential.Proof.VerificationMethod)
	fmt.Println(out.Record.PublicNotes)
	// Output:
	// 6f1c2a8e-3b4d-4e5f-8a9b-0c1d2e3f4a5b
	// Ed25519Signature2020 https://issuer.example/idos/issuers/1/keys/1
	// {"type":"PoP","level":"human","status":"approved","issuer":"FaceSign"}
}

// exampleT lets the test helpers run inside an Example: they only call
// Helper and Fatal.
type exampleT struct{ testing.TB }

func (exampleT) Helper()           {}
func (exampleT) Fatal(args ...any) { panic(fmt.Sprint(args...)) }
