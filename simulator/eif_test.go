package simulator

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/eif"
)

func eifImage(t *testing.T, sign bool) ([]byte, [][]byte) {
	t.Helper()
	boot, err := eif.BootRamdisk([]byte("init"), []byte("nsm.ko"), 0)
	if err != nil {
		t.Fatal(err)
	}
	app, err := (&eif.AppRamdisk{Binary: []byte("enclave")}).Build()
	if err != nil {
		t.Fatal(err)
	}
	in := &eif.Input{Kernel: []byte("kernel"), Cmdline: "console=ttyS0", Ramdisks: [][]byte{boot, app}, BuildTime: time.Unix(1, 0)}
	if sign {
		cert, err := os.ReadFile("../eif/testdata/sign-cert.pem")
		if err != nil {
			t.Fatal(err)
		}
		key, _ := os.ReadFile("../eif/testdata/sign-key.pem")
		if in.Signer, err = eif.NewSigner(cert, key); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := eif.Build(&buf, in); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), [][]byte{[]byte("kernel"), []byte("console=ttyS0"), boot, app}
}

func extend(parts ...[]byte) []byte {
	h := sha512.New384()
	for _, p := range parts {
		h.Write(p)
	}
	o := sha512.New384()
	o.Write(make([]byte, 48))
	o.Write(h.Sum(nil))
	return o.Sum(nil)
}

var now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func TestPCRsFromEIF(t *testing.T) {
	img, parts := eifImage(t, false)
	pcrs, err := PCRsFromEIF(bytes.NewReader(img), int64(len(img)), now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][]byte{0: extend(parts...), 1: extend(parts[:3]...), 2: extend(parts[3])}
	if len(pcrs) != len(want) {
		t.Fatalf("PCRs %v", pcrs)
	}
	for i, w := range want {
		if !bytes.Equal(pcrs[i], w) {
			t.Errorf("PCR%d %x, want %x", i, pcrs[i], w)
		}
	}

	signed, _ := eifImage(t, true)
	path := filepath.Join(t.TempDir(), "signed.eif")
	if err := os.WriteFile(path, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := PCRsFromEIFFile(path, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(sp[8]) != 48 || !bytes.Equal(sp[0], pcrs[0]) {
		t.Fatalf("signed PCRs %x", sp)
	}
}

func TestPCRsFromEIFRejects(t *testing.T) {
	img, _ := eifImage(t, false)
	signed, _ := eifImage(t, true)
	flipped := bytes.Clone(img)
	flipped[eif.HeaderSize+eif.SectionHeaderSize] ^= 1
	for _, tc := range []struct {
		name string
		img  []byte
		at   time.Time
		want error
	}{
		{"bad CRC", flipped, now, eif.ErrCRCMismatch},
		{"truncated", img[:len(img)-1], now, eif.ErrTruncated},
		{"certificate expired", signed, time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC), eif.ErrCertificateTime},
		{"zero time", img, time.Time{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pcrs, err := PCRsFromEIF(bytes.NewReader(tc.img), int64(len(tc.img)), tc.at)
			if pcrs != nil || err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v %v, want %v", pcrs, err, tc.want)
			}
		})
	}
}

// The simulated NSM booted "from" an image attests exactly the image's
// measurements: a verifier pinning the PCRs published for the EIF (PCR0,
// PCR1, PCR2, PCR8) accepts the document, one pinning another image rejects it.
func TestNSMAttestsEIFMeasurements(t *testing.T) {
	img, _ := eifImage(t, true)
	im, err := eif.Read(bytes.NewReader(img), int64(len(img)), nil)
	if err != nil {
		t.Fatal(err)
	}
	pcrs, err := PCRsFromEIF(bytes.NewReader(img), int64(len(img)), now)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := NewCA(rand.Reader, now)
	if err != nil {
		t.Fatal(err)
	}
	nsm, err := NewNSM(NSMOptions{CA: ca, PCRs: pcrs, Clock: func() time.Time { return now }, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := nsm.Attest(attest.Request{Nonce: []byte("n")})
	if err != nil {
		t.Fatal(err)
	}
	pins := im.Measurements().Map() // what an operator publishes from `facesign eif pcrs`
	d, err := attest.Verify(doc, attest.VerifyOptions{Roots: []*x509.Certificate{ca.Root()}, CurrentTime: now, Nonce: []byte("n"), PCRs: pins})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range pins {
		if !bytes.Equal(d.PCRs[i], w) {
			t.Errorf("document PCR%d %x, image %x", i, d.PCRs[i], w)
		}
	}
	other, _ := eifImage(t, false)
	oim, err := eif.Read(bytes.NewReader(other), int64(len(other)), nil)
	if err != nil {
		t.Fatal(err)
	}
	wrong := oim.Measurements().Map()
	wrong[2] = bytes.Repeat([]byte{0xee}, 48) // a different application
	if _, err := attest.Verify(doc, attest.VerifyOptions{Roots: []*x509.Certificate{ca.Root()}, CurrentTime: now, Nonce: []byte("n"), PCRs: wrong}); !errors.Is(err, attest.ErrPCR) {
		t.Fatalf("document under another image's PCRs: %v", err)
	}
}
