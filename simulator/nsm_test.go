package simulator

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facesign/facesign/attest"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var (
	testCAOnce sync.Once
	testCA     *CA
)

func sharedCA(t testing.TB) *CA {
	testCAOnce.Do(func() {
		var err error
		if testCA, err = NewCA(rand.Reader, epoch.Add(-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	})
	return testCA
}

func measurement(b byte) []byte { return bytes.Repeat([]byte{b}, 48) }

func newNSM(t testing.TB, pcrs map[int][]byte) (*NSM, *clock) {
	t.Helper()
	c := &clock{t: epoch}
	n, err := NewNSM(NSMOptions{CA: sharedCA(t), PCRs: pcrs, Clock: c.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	return n, c
}

var bootPCRs = map[int][]byte{0: measurement(0xa0), 1: measurement(0xa1), 2: measurement(0xa2), 8: measurement(0xa8)}

func TestNSMRoundTrip(t *testing.T) {
	n, c := newNSM(t, bootPCRs)
	req := attest.Request{Nonce: []byte("nonce-1"), UserData: []byte("binding hash"), PublicKey: []byte("spki")}
	doc, err := n.Attest(req)
	if err != nil {
		t.Fatal(err)
	}
	d, err := attest.Verify(doc, attest.VerifyOptions{
		Roots: []*x509.Certificate{n.Root()}, CurrentTime: c.Now().Add(time.Minute), Nonce: req.Nonce, PCRs: bootPCRs,
	})
	if err != nil {
		t.Fatal(err)
	}
	if d.ModuleID != n.ModuleID() || !d.Timestamp.Equal(epoch) || d.Digest != "SHA384" {
		t.Errorf("module %q time %v digest %q", d.ModuleID, d.Timestamp, d.Digest)
	}
	if !bytes.Equal(d.UserData, req.UserData) || !bytes.Equal(d.PublicKey, req.PublicKey) || !bytes.Equal(d.Nonce, req.Nonce) {
		t.Error("request fields not carried into the document")
	}
	if len(d.PCRs) != BootPCRs {
		t.Errorf("%d PCRs, want %d", len(d.PCRs), BootPCRs)
	}
	for i := range BootPCRs {
		want := make([]byte, 48)
		if v, ok := bootPCRs[i]; ok {
			want = v
		}
		if !bytes.Equal(d.PCRs[i], want) {
			t.Errorf("PCR%d = %x", i, d.PCRs[i])
		}
	}
	if !strings.HasPrefix(n.ModuleID(), "i-") || !strings.Contains(n.ModuleID(), "-enc") {
		t.Errorf("module id %q is not shaped like AWS's", n.ModuleID())
	}
}

func TestNSMDocumentsRejected(t *testing.T) {
	n, c := newNSM(t, bootPCRs)
	doc, err := n.Attest(attest.Request{Nonce: []byte("n")})
	if err != nil {
		t.Fatal(err)
	}
	dbg, _ := newNSM(t, nil) // no measurements: PCR0 all zero
	dbgDoc, err := dbg.Attest(attest.Request{})
	if err != nil {
		t.Fatal(err)
	}
	own := []*x509.Certificate{n.Root()}
	for _, tc := range []struct {
		name string
		doc  []byte
		opts attest.VerifyOptions
		want error
	}{
		{"without the simulator root", doc, attest.VerifyOptions{CurrentTime: c.Now()}, attest.ErrUntrustedRoot},
		{"against the AWS root", doc, attest.VerifyOptions{CurrentTime: c.Now(), Roots: []*x509.Certificate{attest.AWSNitroRoot()}}, attest.ErrUntrustedRoot},
		{"against another simulator", doc, attest.VerifyOptions{CurrentTime: c.Now(), Roots: []*x509.Certificate{otherRoot(t)}}, attest.ErrUntrustedRoot},
		{"expired leaf", doc, attest.VerifyOptions{CurrentTime: c.Now().Add(LeafLifetime + time.Second), Roots: own}, attest.ErrExpired},
		{"wrong nonce", doc, attest.VerifyOptions{CurrentTime: c.Now(), Roots: own, Nonce: []byte("m")}, attest.ErrNonce},
		{"wrong PCR", doc, attest.VerifyOptions{CurrentTime: c.Now(), Roots: own, PCRs: map[int][]byte{2: measurement(1)}}, attest.ErrPCR},
		{"debug enclave", dbgDoc, attest.VerifyOptions{CurrentTime: c.Now(), Roots: own}, attest.ErrDebugEnclave},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := attest.Verify(tc.doc, tc.opts)
			if d != nil || !errors.Is(err, tc.want) {
				t.Fatalf("got %v, %v; want %v", d != nil, err, tc.want)
			}
		})
	}
	if _, err := attest.Verify(dbgDoc, attest.VerifyOptions{CurrentTime: c.Now(), Roots: own, AllowDebug: true}); err != nil {
		t.Fatalf("debug document with AllowDebug: %v", err)
	}
}

func otherRoot(t *testing.T) *x509.Certificate {
	ca, err := NewCA(rand.Reader, epoch)
	if err != nil {
		t.Fatal(err)
	}
	return ca.Root()
}

func TestNSMChainShape(t *testing.T) {
	n, c := newNSM(t, bootPCRs)
	doc, err := n.Attest(attest.Request{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := attest.Verify(doc, attest.VerifyOptions{Roots: []*x509.Certificate{n.Root()}, CurrentTime: c.Now()})
	if err != nil {
		t.Fatal(err)
	}
	chain := append([]*x509.Certificate{d.Certificate}, d.CABundle...)
	want := []struct {
		life    time.Duration
		pathLen int
		isCA    bool
		cn      string
	}{
		{LeafLifetime, -1, false, n.ModuleID() + "." + SimRegion + ".simulator"},
		{RootLifetime, -1, true, "simulator.nitro-enclaves"},
		{RegionalLifetime, 2, true, "." + SimRegion + ".simulator.nitro-enclaves"},
		{ZonalLifetime, 1, true, ".zonal." + SimRegion + ".simulator.nitro-enclaves"},
		{InstanceLifetime, 0, true, "." + SimRegion + ".simulator.nitro-enclaves"},
	}
	for i, c := range chain {
		w := want[i]
		if got := c.NotAfter.Sub(c.NotBefore); got != w.life {
			t.Errorf("%s lives %v, want %v", c.Subject.CommonName, got, w.life)
		}
		if c.IsCA != w.isCA || (w.isCA && c.MaxPathLen != w.pathLen) {
			t.Errorf("%s: CA %v pathlen %d", c.Subject.CommonName, c.IsCA, c.MaxPathLen)
		}
		if !strings.HasSuffix(c.Subject.CommonName, w.cn) {
			t.Errorf("CN %q, want suffix %q", c.Subject.CommonName, w.cn)
		}
		if len(c.Subject.Organization) != 1 || c.Subject.Organization[0] != "FaceSign Simulator" {
			t.Errorf("%s: organization %v does not mark the simulator", c.Subject.CommonName, c.Subject.Organization)
		}
		if strings.Contains(c.Subject.String(), "Amazon") || strings.Contains(c.Subject.CommonName, ".aws") {
			t.Errorf("%s could pass for an AWS certificate", c.Subject)
		}
	}
	if d.Certificate.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Errorf("leaf key usage %v", d.Certificate.KeyUsage)
	}
	if d.CABundle[4-1].KeyUsage != x509.KeyUsageCertSign {
		t.Errorf("instance CA key usage %v", d.CABundle[3].KeyUsage)
	}
}

func TestNSMChainRenewal(t *testing.T) {
	n, c := newNSM(t, bootPCRs)
	roots := []*x509.Certificate{n.Root()}
	var prev *attest.Document
	// Documents keep verifying at their own time as the clock crosses the
	// leaf, instance, zonal and regional lifetimes.
	for _, step := range []time.Duration{0, 2 * time.Hour, 23 * time.Hour, 6 * 24 * time.Hour, 21 * 24 * time.Hour} {
		c.Add(step)
		doc, err := n.Attest(attest.Request{})
		if err != nil {
			t.Fatal(err)
		}
		d, err := attest.Verify(doc, attest.VerifyOptions{Roots: roots, CurrentTime: c.Now()})
		if err != nil {
			t.Fatalf("after %v: %v", step, err)
		}
		if prev != nil && step > 20*24*time.Hour && d.CABundle[1].Equal(prev.CABundle[1]) {
			t.Error("regional CA not renewed after its lifetime")
		}
		prev = d
	}
}

func TestNSMPCRs(t *testing.T) {
	n, c := newNSM(t, bootPCRs)
	v, locked, err := n.DescribePCR(0)
	if err != nil || !locked || !bytes.Equal(v, bootPCRs[0]) {
		t.Fatalf("PCR0 = %x locked %v err %v", v, locked, err)
	}
	if _, err := n.ExtendPCR(0, []byte("x")); !errors.Is(err, attest.ErrPCRLocked) {
		t.Fatalf("extend boot PCR: %v", err)
	}
	got, err := n.ExtendPCR(16, []byte("app v1"))
	if err != nil {
		t.Fatal(err)
	}
	want := sha512.Sum384(append(make([]byte, 48), "app v1"...))
	if !bytes.Equal(got, want[:]) {
		t.Fatalf("extend = %x, want SHA384(zero48 ‖ data) = %x", got, want)
	}
	got, _ = n.ExtendPCR(16, []byte("more"))
	want = sha512.Sum384(append(want[:], "more"...))
	if !bytes.Equal(got, want[:]) {
		t.Fatal("second extend is not SHA384(old ‖ data)")
	}
	// Unlocked PCRs are not in documents; locking adds them.
	doc, _ := n.Attest(attest.Request{})
	d, err := attest.Verify(doc, attest.VerifyOptions{Roots: []*x509.Certificate{n.Root()}, CurrentTime: c.Now()})
	if err != nil || len(d.PCRs) != 16 {
		t.Fatalf("%v, %d PCRs", err, len(d.PCRs))
	}
	if err := n.LockPCR(16); err != nil {
		t.Fatal(err)
	}
	doc, _ = n.Attest(attest.Request{})
	d, err = attest.Verify(doc, attest.VerifyOptions{Roots: []*x509.Certificate{n.Root()}, CurrentTime: c.Now(),
		PCRs: map[int][]byte{16: want[:]}})
	if err != nil || len(d.PCRs) != 17 {
		t.Fatalf("after LockPCR(16): %v, %d PCRs", err, len(d.PCRs))
	}
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"extend locked", func() error { _, err := n.ExtendPCR(16, nil); return err }(), attest.ErrPCRLocked},
		{"relock", n.LockPCR(16), attest.ErrPCRLocked},
		{"lock index 32", n.LockPCR(32), attest.ErrPCRIndex},
		{"extend index -1", func() error { _, err := n.ExtendPCR(-1, nil); return err }(), attest.ErrPCRIndex},
		{"describe index 32", func() error { _, _, err := n.DescribePCR(32); return err }(), attest.ErrPCRIndex},
		{"lock range 33", n.LockPCRs(33), attest.ErrPCRIndex},
		{"extend too large", func() error { _, err := n.ExtendPCR(17, make([]byte, 5000)); return err }(), attest.ErrRequest},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	// A rejected extend changed nothing.
	if v, _, _ := n.DescribePCR(17); !bytes.Equal(v, make([]byte, 48)) {
		t.Error("a rejected extend changed PCR17")
	}
	if err := n.LockPCRs(20); err != nil {
		t.Fatal(err)
	}
	if d := n.Describe(); len(d.LockedPCRs) != 20 || d.MaxPCRs != 32 || d.Digest != "SHA384" || d.ModuleID != n.ModuleID() {
		t.Fatalf("Describe = %+v", d)
	}
}

func TestNSMRejectsBadInput(t *testing.T) {
	ca := sharedCA(t)
	c := &clock{t: epoch}
	for _, tc := range []struct {
		name string
		opts NSMOptions
	}{
		{"no CA", NSMOptions{Clock: c.Now, Rand: rand.Reader}},
		{"no clock", NSMOptions{CA: ca, Rand: rand.Reader}},
		{"no rand", NSMOptions{CA: ca, Clock: c.Now}},
		{"zero clock", NSMOptions{CA: ca, Clock: func() time.Time { return time.Time{} }, Rand: rand.Reader}},
		{"PCR 16 at boot", NSMOptions{CA: ca, Clock: c.Now, Rand: rand.Reader, PCRs: map[int][]byte{16: measurement(1)}}},
		{"short PCR", NSMOptions{CA: ca, Clock: c.Now, Rand: rand.Reader, PCRs: map[int][]byte{0: make([]byte, 32)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if n, err := NewNSM(tc.opts); n != nil || !errors.Is(err, ErrNSMConfig) {
				t.Fatalf("got %v, %v", n != nil, err)
			}
		})
	}
	n, c := newNSM(t, bootPCRs)
	if doc, err := n.Attest(attest.Request{Nonce: make([]byte, attest.MaxFieldSize+1)}); doc != nil || !errors.Is(err, attest.ErrRequest) {
		t.Fatalf("oversized nonce: %v", err)
	}
	c.t = time.Unix(-1, 0)
	if doc, err := n.Attest(attest.Request{}); doc != nil || err == nil {
		t.Fatal("attested at a time before 1970")
	}
	c.t = epoch
	if _, err := n.Attest(attest.Request{Nonce: make([]byte, attest.MaxFieldSize)}); err != nil {
		t.Fatalf("nonce of exactly MaxFieldSize: %v", err)
	}
}

func TestNSMConcurrent(t *testing.T) {
	n, c := newNSM(t, bootPCRs)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 4 {
		wg.Go(func() {
			doc, err := n.Attest(attest.Request{Nonce: []byte{byte(i)}})
			if err == nil {
				_, err = attest.Verify(doc, attest.VerifyOptions{Roots: []*x509.Certificate{n.Root()}, CurrentTime: c.Now(), Nonce: []byte{byte(i)}})
			}
			errs <- err
		})
		wg.Go(func() {
			_, err := n.ExtendPCR(20, []byte{byte(i)})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 64)
	if _, err := n.Random().Read(buf); err != nil || bytes.Equal(buf, make([]byte, 64)) {
		t.Fatal("Random does not read the injected source")
	}
}
