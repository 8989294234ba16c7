package cms

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func key(t testing.TB) *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		testKey, err = rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
	})
	return testKey
}

func TestRoundTrip(t *testing.T) {
	k := key(t)
	for _, n := range []int{0, 1, 15, 16, 17, 32, 1000} {
		msg := bytes.Repeat([]byte{0xa5}, n)
		ski := sha256.Sum256([]byte("ski"))
		ct, err := Encrypt(rand.Reader, &k.PublicKey, ski[:], msg)
		if err != nil {
			t.Fatal(err)
		}
		env, err := Parse(ct)
		if err != nil {
			t.Fatalf("len %d: parse: %v", n, err)
		}
		if !bytes.Equal(env.SubjectKeyID, ski[:]) {
			t.Errorf("len %d: subject key id %x", n, env.SubjectKeyID)
		}
		got, err := Decrypt(ct, k)
		if err != nil {
			t.Fatalf("len %d: %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Errorf("len %d: got %x", n, got)
		}
	}
}

func TestRealKMSShape(t *testing.T) {
	data, err := os.ReadFile("testdata/aws_kms_ciphertext_for_recipient.ber")
	if err != nil {
		t.Fatal(err)
	}
	env, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(env.SubjectKeyID[:4]); got != "710d335f" || len(env.SubjectKeyID) != 32 {
		t.Errorf("subject key id %x", env.SubjectKeyID)
	}
	if len(env.EncryptedKey) != 256 {
		t.Errorf("encrypted key %d bytes, want 256 (RSA-2048)", len(env.EncryptedKey))
	}
	if got := hex.EncodeToString(env.IV); got != "37343df1470df625eeb6f4bfd2f1acc3" {
		t.Errorf("iv %s", got)
	}
	if got := hex.EncodeToString(env.Ciphertext); got != "cc74adf65d973c8b72cd51e1b927f0f0" {
		t.Errorf("ciphertext %s", got)
	}
	// Not our key: it must parse, then refuse to open.
	if _, err := Decrypt(data, key(t)); !errors.Is(err, ErrDecrypt) {
		t.Errorf("decrypt with a foreign key: %v, want ErrDecrypt", err)
	}
}

func TestSameShapeAsKMS(t *testing.T) {
	// Our encoder must produce the structure KMS produces, down to the
	// algorithm identifiers, so the enclave is tested on what Nitro sees.
	real, err := os.ReadFile("testdata/aws_kms_ciphertext_for_recipient.ber")
	if err != nil {
		t.Fatal(err)
	}
	k := key(t)
	ours, err := Encrypt(rand.Reader, &k.PublicKey, make([]byte, 32), make([]byte, 10))
	if err != nil {
		t.Fatal(err)
	}
	if len(ours) != len(real) {
		t.Errorf("length %d, KMS %d", len(ours), len(real))
	}
	// Identical bytes everywhere except key id, encrypted key, IV and content.
	var vary [][2]int = [][2]int{{33, 65}, {131, 387}, {415, 431}, {435, 451}}
	for i := range min(len(ours), len(real)) {
		inVary := false
		for _, r := range vary {
			if i >= r[0] && i < r[1] {
				inVary = true
			}
		}
		if !inVary && ours[i] != real[i] {
			t.Fatalf("byte %d: ours %02x, KMS %02x", i, ours[i], real[i])
		}
	}
}

// writeKeyAndCert writes the test key and a self-signed certificate for openssl.
func writeKeyAndCert(t *testing.T, dir string) (keyPath, certPath string) {
	k := key(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "cms test"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Unix(1<<33, 0),
		KeyUsage:     x509.KeyUsageKeyEncipherment,
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	keyPath, certPath = filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyPath, certPath
}

func openssl(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
}

// TestOpenSSLInterop checks both directions against OpenSSL's CMS
// implementation, a real peer: its DER and streamed BER output opens here,
// and what we seal opens there.
func TestOpenSSLInterop(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found: install Debian's openssl package")
	}
	dir := t.TempDir()
	keyPath, certPath := writeKeyAndCert(t, dir)
	plain := []byte("a 32-byte data key, or anything")
	in := filepath.Join(dir, "plain")
	if err := os.WriteFile(in, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, stream := range []bool{false, true} {
		out := filepath.Join(dir, "msg")
		args := []string{"cms", "-encrypt", "-binary", "-aes256", "-in", in, "-out", out, "-outform", "DER",
			"-recip", certPath, "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256"}
		if stream {
			args = append(args, "-stream")
		}
		openssl(t, args...)
		msg, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decrypt(msg, key(t))
		if err != nil {
			t.Fatalf("stream=%v: %v", stream, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("stream=%v: got %q", stream, got)
		}
	}

	ours, err := Encrypt(rand.Reader, &key(t).PublicKey, []byte("0123456789abcdef0123"), plain)
	if err != nil {
		t.Fatal(err)
	}
	msgPath, outPath := filepath.Join(dir, "ours"), filepath.Join(dir, "opened")
	if err := os.WriteFile(msgPath, ours, 0o600); err != nil {
		t.Fatal(err)
	}
	openssl(t, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", msgPath, "-inkey", keyPath, "-out", outPath)
	got, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Fatalf("openssl opened %q", got)
	}

	// OpenSSL's OAEP default is SHA-1: refused, not silently accepted.
	sha1Out := filepath.Join(dir, "sha1")
	openssl(t, "cms", "-encrypt", "-binary", "-aes256", "-in", in, "-out", sha1Out, "-outform", "DER",
		"-recip", certPath, "-keyopt", "rsa_padding_mode:oaep")
	msg, err := os.ReadFile(sha1Out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(msg, key(t)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("SHA-1 OAEP: %v, want ErrUnsupported", err)
	}
	// PKCS#1 v1.5 key transport: refused.
	v15 := filepath.Join(dir, "v15")
	openssl(t, "cms", "-encrypt", "-binary", "-aes256", "-in", in, "-out", v15, "-outform", "DER", "-recip", certPath)
	if msg, err = os.ReadFile(v15); err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(msg, key(t)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("PKCS#1 v1.5: %v, want ErrUnsupported", err)
	}
	// AES-128-CBC content: refused.
	a128 := filepath.Join(dir, "a128")
	openssl(t, "cms", "-encrypt", "-binary", "-aes128", "-in", in, "-out", a128, "-outform", "DER",
		"-recip", certPath, "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256")
	if msg, err = os.ReadFile(a128); err != nil {
		t.Fatal(err)
	}
	if _, err := Decrypt(msg, key(t)); !errors.Is(err, ErrUnsupported) {
		t.Errorf("AES-128: %v, want ErrUnsupported", err)
	}
}

func TestTamper(t *testing.T) {
	k := key(t)
	plain := []byte("secret data key material 32bytes")
	ct, err := Encrypt(rand.Reader, &k.PublicKey, make([]byte, 32), plain)
	if err != nil {
		t.Fatal(err)
	}
	env, err := Parse(ct)
	if err != nil {
		t.Fatal(err)
	}
	// CMS EnvelopedData has no integrity: flips in the IV or the CBC content
	// change the plaintext (the callers authenticate it by using it as an AEAD
	// key). Everywhere else a flip must be refused with a typed error, or be
	// in a field that does not affect the result (the recipient's key id).
	ivAt := bytes.Index(ct, env.IV)
	ski := bytes.Index(ct, make([]byte, 32))
	contentStart := bytes.Index(ct, env.Ciphertext[:16])
	malleable := func(i int) bool {
		return (i >= ivAt && i < ivAt+16) || (i >= contentStart && i < len(ct)-8)
	}
	for i := range ct {
		for _, bit := range []byte{0x01, 0x80} {
			bad := append([]byte{}, ct...)
			bad[i] ^= bit
			got, err := Decrypt(bad, k)
			switch {
			case err != nil:
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrDecrypt) {
					t.Fatalf("byte %d: untyped error %v", i, err)
				}
			case i >= ski && i < ski+32:
				if !bytes.Equal(got, plain) {
					t.Fatalf("key id byte %d changed the content", i)
				}
			case !malleable(i):
				t.Fatalf("byte %d bit %02x: accepted, decrypted to %q", i, bit, got)
			}
		}
	}
	for _, n := range []int{0, 1, 2, 10, len(ct) - 1} {
		if _, err := Decrypt(ct[:n], k); err == nil {
			t.Errorf("truncated to %d bytes: no error", n)
		}
	}
	if _, err := Decrypt(append(append([]byte{}, ct...), 0), k); !errors.Is(err, ErrMalformed) {
		t.Errorf("trailing byte: %v", err)
	}
}

func TestDepthBound(t *testing.T) {
	var b []byte
	for range 100 {
		b = append(b, 0x30, 0x80)
	}
	if _, err := Parse(b); !errors.Is(err, ErrMalformed) {
		t.Errorf("deep nesting: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	real, err := os.ReadFile("testdata/aws_kms_ciphertext_for_recipient.ber")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(real)
	k := key(f)
	ours, err := Encrypt(rand.Reader, &k.PublicKey, []byte{1, 2, 3}, []byte("x"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ours)
	f.Add([]byte{0x30, 0x80, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := Parse(data)
		if (env == nil) == (err == nil) {
			t.Fatalf("result %v with error %v", env, err)
		}
		if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
