package simulator

import (
	"crypto/ecdsa"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/facesign/facesign/attest"

	"github.com/facesign/facesign/internal/cborenc"
)

var (
	_ attest.Attester = (*NSM)(nil)
	_ attest.PCRBank  = (*NSM)(nil)
)

// Boot PCRs: the hypervisor measures the image into PCR 0..15 and locks
// them before the enclave runs.
const (
	BootPCRs   = 16
	pcrSize    = sha512.Size384
	maxExtend  = 4096 - 64 // the NSM request buffer is 4 KiB
	nsmVersion = "1.0.0"
)

// ErrNSMConfig reports unusable [NSMOptions].
var ErrNSMConfig = errors.New("simulator: invalid NSM options")

// NSMOptions configures [NewNSM].
type NSMOptions struct {
	// CA signs the module's certificate chain. Required.
	CA *CA
	// PCRs are the boot measurements (index 0..15 → 48 bytes), for example
	// the EIF's PCR0/1/2/8. Indices not given stay all zero — and a zero
	// PCR0 is what a debug-mode enclave reports, which attest.Verify
	// rejects unless told otherwise.
	PCRs map[int][]byte
	// ModuleID is the enclave's id; empty picks a random one shaped like
	// AWS's ("i-<17 hex>-enc<16 hex>").
	ModuleID string
	// Clock stamps documents and certificates. Required; a zero time from it
	// fails the attestation.
	Clock func() time.Time
	// Rand is the module's randomness: GetRandom ([NSM.Random]), serial
	// numbers, identifiers. Required.
	Rand io.Reader
}

// NSM is a CPU stand-in for the Nitro Security Module. Its documents are
// encoded exactly like the real module's: untagged COSE_Sign1, protected
// header bytes a1 01 38 22 ({1: -35}), empty unprotected map, payload map in
// the order module_id, digest, timestamp (ms), pcrs, certificate, cabundle
// (root first), public_key, user_data, nonce with CBOR null for absent
// fields, and a raw 96-byte ES384 r‖s signature. The chain is root →
// regional → zonal → instance → per-document leaf, with AWS-like lifetimes
// and names under "simulator.nitro-enclaves", O=FaceSign Simulator.
//
// PCR semantics follow the NSM: 32 PCRs of 48 bytes; 0..15 hold the boot
// measurements and are locked; ExtendPCR sets PCR = SHA-384(PCR ‖ data) on
// unlocked PCRs; a document carries every locked PCR (so 16 after boot,
// more once the enclave locks others). It is safe for concurrent use.
type NSM struct {
	ca       *CA
	clock    func() time.Time
	rand     *lockedReader
	moduleID string
	instance string // the instance id part of moduleID

	mu       sync.Mutex
	pcrs     [attest.NumPCRs][pcrSize]byte
	locked   [attest.NumPCRs]bool
	regional issued
	zonal    issued
	inst     issued
}

// NewNSM boots a simulated module: it sets and locks the boot PCRs and
// issues the regional, zonal and instance CAs under opts.CA.
func NewNSM(opts NSMOptions) (*NSM, error) {
	if opts.CA == nil || opts.Clock == nil || opts.Rand == nil {
		return nil, fmt.Errorf("%w: CA, Clock and Rand are required", ErrNSMConfig)
	}
	n := &NSM{ca: opts.CA, clock: opts.Clock, rand: &lockedReader{r: opts.Rand}}
	for i, v := range opts.PCRs {
		if i < 0 || i >= BootPCRs {
			return nil, fmt.Errorf("%w: boot PCR index %d outside 0..%d", ErrNSMConfig, i, BootPCRs-1)
		}
		if len(v) != pcrSize {
			return nil, fmt.Errorf("%w: PCR%d is %d bytes, want %d", ErrNSMConfig, i, len(v), pcrSize)
		}
		copy(n.pcrs[i][:], v)
	}
	for i := range BootPCRs {
		n.locked[i] = true
	}
	n.moduleID = opts.ModuleID
	if n.moduleID == "" {
		inst, err := n.randomHex(17)
		if err != nil {
			return nil, err
		}
		enc, err := n.randomHex(16)
		if err != nil {
			return nil, err
		}
		n.moduleID = "i-" + inst + "-enc" + enc
	}
	if len(n.moduleID) > 200 {
		return nil, fmt.Errorf("%w: module id of %d bytes", ErrNSMConfig, len(n.moduleID))
	}
	n.instance = n.moduleID
	if i := len(n.moduleID) - len("-enc0123456789abcdef"); i > 0 && n.moduleID[i:i+4] == "-enc" {
		n.instance = n.moduleID[:i]
	}
	now := opts.Clock()
	if now.IsZero() {
		return nil, fmt.Errorf("%w: the clock returned the zero time", ErrNSMConfig)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.refreshChain(now); err != nil {
		return nil, err
	}
	return n, nil
}

// ModuleID returns the module's id, as in its documents.
func (n *NSM) ModuleID() string { return n.moduleID }

// Root returns the root certificate the module's chain ends at.
func (n *NSM) Root() *x509.Certificate { return n.ca.Root() }

// Random returns the module's randomness (the NSM's GetRandom); reads are
// serialised, so the injected reader need not be concurrency-safe.
func (n *NSM) Random() io.Reader { return n.rand }

type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

func (n *NSM) randomHex(digits int) (string, error) {
	b := make([]byte, (digits+1)/2)
	if _, err := io.ReadFull(n.rand, b); err != nil {
		return "", fmt.Errorf("simulator: randomness: %w", err)
	}
	return hex.EncodeToString(b)[:digits], nil
}

// Attest returns a signed document over req, stamped with the clock's time.
func (n *NSM) Attest(req attest.Request) ([]byte, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	now := n.clock()
	if now.IsZero() || now.UnixMilli() <= 0 {
		return nil, fmt.Errorf("simulator: attest: the clock returned %v, not a time after 1970", now)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.refreshChain(now); err != nil {
		return nil, err
	}
	nb := now.UTC().Truncate(time.Second)
	leaf, err := issue(n.rand, n.inst, &x509.Certificate{
		Subject:               n.subject(n.moduleID+"."+SimRegion+".simulator", true),
		NotBefore:             nb,
		NotAfter:              nb.Add(LeafLifetime),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
	})
	if err != nil {
		return nil, fmt.Errorf("simulator: leaf certificate: %w", err)
	}
	var pcrs []int
	for i := range attest.NumPCRs {
		if n.locked[i] {
			pcrs = append(pcrs, i)
		}
	}
	p := documentPayload{
		moduleID:  n.moduleID,
		timestamp: uint64(now.UnixMilli()),
		pcrIndex:  pcrs,
		pcrs:      &n.pcrs,
		leaf:      leaf.cert.Raw,
		bundle:    [][]byte{n.ca.root.Raw, n.regional.cert.Raw, n.zonal.cert.Raw, n.inst.cert.Raw},
		publicKey: req.PublicKey,
		userData:  req.UserData,
		nonce:     req.Nonce,
	}
	return signDocument(n.rand, leaf.key, p.encode())
}

// refreshChain (re)issues the regional, zonal and instance CAs whenever now
// is outside the span in which they can cover a fresh leaf. n.mu is held.
func (n *NSM) refreshChain(now time.Time) error {
	usable := func(c issued) bool {
		return c.cert != nil && !now.Before(c.cert.NotBefore) && !now.Add(LeafLifetime).After(c.cert.NotAfter)
	}
	root := issued{cert: n.ca.root, key: n.ca.key}
	t := now.UTC().Truncate(time.Second)
	renew := !usable(n.regional)
	if renew {
		id, err := n.randomHex(16)
		if err != nil {
			return err
		}
		nb := t.Add(-time.Hour)
		if n.regional, err = issue(n.rand, root, n.caTemplate(id+"."+SimRegion+".simulator.nitro-enclaves", false, nb, RegionalLifetime, 2)); err != nil {
			return fmt.Errorf("simulator: regional CA: %w", err)
		}
	}
	renew = renew || !usable(n.zonal)
	if renew {
		id, err := n.randomHex(16)
		if err != nil {
			return err
		}
		nb := t.Add(-time.Hour)
		if n.zonal, err = issue(n.rand, n.regional, n.caTemplate(id+".zonal."+SimRegion+".simulator.nitro-enclaves", true, nb, ZonalLifetime, 1)); err != nil {
			return fmt.Errorf("simulator: zonal CA: %w", err)
		}
	}
	renew = renew || !usable(n.inst)
	if renew {
		var err error
		nb := t.Add(-time.Minute)
		tmpl := n.caTemplate(n.instance+"."+SimRegion+".simulator.nitro-enclaves", true, nb, InstanceLifetime, 0)
		tmpl.KeyUsage = x509.KeyUsageCertSign
		if n.inst, err = issue(n.rand, n.zonal, tmpl); err != nil {
			return fmt.Errorf("simulator: instance CA: %w", err)
		}
	}
	return nil
}

func (n *NSM) subject(cn string, withLocality bool) pkix.Name {
	name := pkix.Name{
		Country:            []string{"US"},
		Organization:       []string{simOrg},
		OrganizationalUnit: []string{"NOT FOR PRODUCTION"},
		CommonName:         cn,
	}
	if withLocality {
		name.Province = []string{"Simulated"}
		name.Locality = []string{"Localhost"}
	}
	return name
}

func (n *NSM) caTemplate(cn string, withLocality bool, nb time.Time, life time.Duration, pathLen int) *x509.Certificate {
	return &x509.Certificate{
		Subject:               n.subject(cn, withLocality),
		NotBefore:             nb,
		NotAfter:              nb.Add(life),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            pathLen,
		MaxPathLenZero:        pathLen == 0,
	}
}

// nsmError returns the error the real NSM would answer with.
func nsmError(op, code string) error { return &attest.NSMError{Op: op, Code: code} }

// DescribePCR implements attest.PCRBank.
func (n *NSM) DescribePCR(index int) ([]byte, bool, error) {
	if index < 0 || index >= attest.NumPCRs {
		return nil, false, nsmError("DescribePCR", "InvalidIndex")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]byte(nil), n.pcrs[index][:]...), n.locked[index], nil
}

// ExtendPCR implements attest.PCRBank: PCR = SHA-384(PCR ‖ data) on an
// unlocked PCR; locked ones answer ReadOnlyIndex (attest.ErrPCRLocked).
func (n *NSM) ExtendPCR(index int, data []byte) ([]byte, error) {
	if index < 0 || index >= attest.NumPCRs {
		return nil, nsmError("ExtendPCR", "InvalidIndex")
	}
	if len(data) > maxExtend {
		return nil, nsmError("ExtendPCR", "InputTooLarge")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.locked[index] {
		return nil, nsmError("ExtendPCR", "ReadOnlyIndex")
	}
	h := sha512.New384()
	h.Write(n.pcrs[index][:])
	h.Write(data)
	h.Sum(n.pcrs[index][:0])
	return append([]byte(nil), n.pcrs[index][:]...), nil
}

// LockPCR implements attest.PCRBank. Locking a locked PCR answers
// ReadOnlyIndex, as the NSM does.
func (n *NSM) LockPCR(index int) error {
	if index < 0 || index >= attest.NumPCRs {
		return nsmError("LockPCR", "InvalidIndex")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.locked[index] {
		return nsmError("LockPCR", "ReadOnlyIndex")
	}
	n.locked[index] = true
	return nil
}

// LockPCRs implements attest.PCRBank: it locks PCRs 0..count-1.
func (n *NSM) LockPCRs(count int) error {
	if count < 0 || count > attest.NumPCRs {
		return nsmError("LockPCRs", "InvalidIndex")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for i := range count {
		n.locked[i] = true
	}
	return nil
}

// Description is the NSM's DescribeNSM answer.
type Description struct {
	Version    string // "major.minor.patch"
	ModuleID   string
	MaxPCRs    int
	LockedPCRs []int
	Digest     string
}

// Describe returns what DescribeNSM would.
func (n *NSM) Describe() Description {
	n.mu.Lock()
	defer n.mu.Unlock()
	d := Description{Version: nsmVersion, ModuleID: n.moduleID, MaxPCRs: attest.NumPCRs, Digest: "SHA384"}
	for i, l := range n.locked {
		if l {
			d.LockedPCRs = append(d.LockedPCRs, i)
		}
	}
	sort.Ints(d.LockedPCRs)
	return d
}

// documentPayload is the attestation payload in NSM field order.
type documentPayload struct {
	moduleID                   string
	timestamp                  uint64
	pcrIndex                   []int
	pcrs                       *[attest.NumPCRs][pcrSize]byte
	leaf                       []byte
	bundle                     [][]byte
	publicKey, userData, nonce []byte
}

// encode writes the payload map exactly as the NSM does: nine text keys in
// NSM order, shortest-form heads, null for absent optional fields.
func (p *documentPayload) encode() []byte {
	b := make([]byte, 0, 4096)
	b = append(b, 0xa9)
	b = cborenc.AppendText(b, "module_id")
	b = cborenc.AppendText(b, p.moduleID)
	b = cborenc.AppendText(b, "digest")
	b = cborenc.AppendText(b, "SHA384")
	b = cborenc.AppendText(b, "timestamp")
	b = cborenc.AppendHead(b, majorUint, p.timestamp)
	b = cborenc.AppendText(b, "pcrs")
	b = cborenc.AppendHead(b, majorMap, uint64(len(p.pcrIndex)))
	for _, i := range p.pcrIndex {
		b = cborenc.AppendHead(b, majorUint, uint64(i))
		b = cborenc.AppendBytes(b, p.pcrs[i][:])
	}
	b = cborenc.AppendText(b, "certificate")
	b = cborenc.AppendBytes(b, p.leaf)
	b = cborenc.AppendText(b, "cabundle")
	b = cborenc.AppendHead(b, majorArray, uint64(len(p.bundle)))
	for _, c := range p.bundle {
		b = cborenc.AppendBytes(b, c)
	}
	for _, f := range []struct {
		k string
		v []byte
	}{{"public_key", p.publicKey}, {"user_data", p.userData}, {"nonce", p.nonce}} {
		b = cborenc.AppendText(b, f.k)
		if f.v == nil {
			b = append(b, cborNull)
		} else {
			b = cborenc.AppendBytes(b, f.v)
		}
	}
	return b
}

// protectedES384 is the NSM's protected header, {1: -35}, serialized.
var protectedES384 = []byte{0xa1, 0x01, 0x38, 0x22}

// signDocument wraps payload in an untagged COSE_Sign1 signed with key.
func signDocument(rand io.Reader, key *ecdsa.PrivateKey, payload []byte) ([]byte, error) {
	h := sha512.Sum384(cborenc.SigStructure1(protectedES384, payload))
	r, s, err := ecdsa.Sign(rand, key, h[:])
	if err != nil {
		return nil, fmt.Errorf("simulator: sign: %w", err)
	}
	sig := make([]byte, 96)
	r.FillBytes(sig[:48])
	s.FillBytes(sig[48:])
	out := make([]byte, 0, len(payload)+128)
	out = append(out, 0x84)
	out = cborenc.AppendBytes(out, protectedES384)
	out = append(out, 0xa0)
	out = cborenc.AppendBytes(out, payload)
	return cborenc.AppendBytes(out, sig), nil
}

// CBOR encoding helpers (RFC 8949, shortest-form heads).
const (
	majorUint  = cborenc.MajorUint
	majorBytes = cborenc.MajorBytes
	majorText  = cborenc.MajorText
	majorArray = cborenc.MajorArray
	majorMap   = cborenc.MajorMap
	cborNull   = 0xf6
)
