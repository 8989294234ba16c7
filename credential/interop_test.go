package credential

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/facesign/facesign/client/wallet"
	"github.com/facesign/facesign/internal/nodetest"
)

// TestInteropDigitalBazaar runs, in one node process, the libraries idOS
// issues with: @digitalbazaar/vc + Ed25519Signature2020 verify our
// credentials (and refuse every one-character change), tweetnacl opens our
// records, we open records tweetnacl sealed, and we verify a credential
// @digitalbazaar/vc issued with the same key file.
func TestInteropDigitalBazaar(t *testing.T) {
	t.Parallel()
	peer := nodetest.Require(t, filepath.Join("testdata", "node"))
	f := newFixture(t)
	out, err := Issue(f.ev, f.options())
	if err != nil {
		t.Fatal(err)
	}
	good := out.CredentialJSON
	edits := oneCharEdits(good)
	names := make([]string, 0, len(edits))
	for n := range edits {
		names = append(names, n)
	}
	sort.Strings(names)

	type verifyIn struct {
		Credential string `json:"credential"`
		Now        string `json:"now"`
	}
	verifyNow := testNow.Add(time.Hour).Format(DateLayout)
	verify := []verifyIn{{string(good), verifyNow}}
	for _, n := range names {
		verify = append(verify, verifyIn{string(edits[n]), verifyNow})
	}
	// Expired at the peer's verification time too.
	verify = append(verify, verifyIn{string(good), testNow.AddDate(2, 0, 0).Format(DateLayout)})

	// The holder's key comes from a wallet, as in production.
	w, err := wallet.FromEntropy(bytes.Repeat([]byte{0x42}, 32))
	if err != nil {
		t.Fatal(err)
	}
	holder := w.Encryption()
	opts := f.options()
	opts.HolderEncryptionKey = holder.Public()
	toWallet, err := Issue(f.ev, opts)
	if err != nil {
		t.Fatal(err)
	}
	secret := holder.Secret()
	holderPub := holder.Public()

	unsigned := map[string]any{
		"@context":     credentialContexts,
		"id":           testController + "/credentials/0f3e7a57-3b0c-4d65-9a61-0f0d7b1e1c44",
		"type":         []string{CredentialType},
		"issuer":       testController,
		"level":        Level,
		"issued":       testNow.Format(DateLayout),
		"approvedAt":   testNow.Add(-time.Minute).Format(DateLayout),
		"issuanceDate": testNow.Format(DateLayout),
		"credentialSubject": map[string]any{
			"@context":       ContextFaceIDSubject,
			"faceSignUserId": testUser,
		},
	}
	// Documents to canonicalise on both sides: the signed credential, the
	// credential without its proof, and the proof options.
	var signed map[string]any
	if err := json.Unmarshal(good, &signed); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{}
	for k, v := range signed {
		if k != "proof" {
			body[k] = v
		}
	}
	proofOpts := map[string]any{"@context": signed["@context"]}
	for k, v := range signed["proof"].(map[string]any) {
		if k != "proofValue" {
			proofOpts[k] = v
		}
	}
	canonDocs := []any{signed, body, proofOpts}

	keyFile, err := json.Marshal(f.key)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{
		"key":      json.RawMessage(keyFile),
		"verify":   verify,
		"open":     []any{map[string]any{"record": toWallet.Record, "holder_secret": hex.EncodeToString(secret[:])}},
		"seal":     []any{map[string]any{"plaintext": string(good), "holder_public": hex.EncodeToString(holderPub[:])}},
		"issue":    []any{map[string]any{"credential": unsigned, "now": testNow.Format(DateLayout)}},
		"canonize": canonDocs,
	}
	var res struct {
		Verify []struct {
			Verified bool   `json:"verified"`
			Error    string `json:"error"`
		} `json:"verify"`
		Open []struct {
			Plaintext *string `json:"plaintext"`
		} `json:"open"`
		Seal []struct {
			Content            string `json:"content"`
			EncryptorPublicKey string `json:"encryptor_public_key"`
		} `json:"seal"`
		Issue    []json.RawMessage `json:"issue"`
		Canonize []json.RawMessage `json:"canonize"`
	}
	peer.RunJSON(t, "interop.mjs", in, &res)

	if len(res.Canonize) != len(canonDocs) {
		t.Fatalf("%d canonical forms for %d documents", len(res.Canonize), len(canonDocs))
	}
	for i, doc := range canonDocs {
		var js string
		if err := json.Unmarshal(res.Canonize[i], &js); err != nil {
			t.Fatalf("jsonld.canonize document %d: %s", i, res.Canonize[i])
		}
		ours, err := Canonicalize(doc)
		if err != nil {
			t.Fatal(err)
		}
		if ours != js {
			t.Errorf("document %d: URDNA2015 differs\n ours:\n%s\n jsonld.js:\n%s", i, ours, js)
		}
	}

	if len(res.Verify) != len(verify) {
		t.Fatalf("%d verify results for %d inputs", len(res.Verify), len(verify))
	}
	if !res.Verify[0].Verified {
		t.Fatalf("@digitalbazaar/vc refuses our credential: %s", res.Verify[0].Error)
	}
	for i, n := range names {
		if r := res.Verify[i+1]; r.Verified {
			t.Errorf("one-character change %q verified in @digitalbazaar/vc", n)
		}
	}
	if r := res.Verify[len(res.Verify)-1]; r.Verified {
		t.Error("@digitalbazaar/vc accepted an expired credential")
	}

	if len(res.Open) != 1 || res.Open[0].Plaintext == nil || *res.Open[0].Plaintext != string(toWallet.CredentialJSON) {
		t.Fatalf("tweetnacl box.open of our record: %+v", res.Open)
	}

	if len(res.Seal) != 1 {
		t.Fatalf("%d sealed records", len(res.Seal))
	}
	sealed := &Record{Content: res.Seal[0].Content, EncryptorPublicKey: res.Seal[0].EncryptorPublicKey}
	plain, err := sealed.Open(secret)
	if err != nil || !bytes.Equal(plain, good) {
		t.Fatalf("opening tweetnacl's record: %q, %v", plain, err)
	}

	if len(res.Issue) != 1 {
		t.Fatalf("%d JS-issued credentials", len(res.Issue))
	}
	c, err := VerifyCredential(res.Issue[0], f.key.PublicDocument(), testNow.Add(time.Hour))
	if err != nil {
		t.Fatalf("verifying @digitalbazaar/vc's credential: %v\n%s", err, res.Issue[0])
	}
	if c.CredentialSubject.FaceSignUserID != testUser {
		t.Fatalf("JS credential subject %q", c.CredentialSubject.FaceSignUserID)
	}
}
