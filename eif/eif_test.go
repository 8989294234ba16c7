package eif_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha512"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/facesign/facesign/eif"
	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"
)

var buildTime = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// fakeKernel etc. are arbitrary bytes: the format does not look inside them.
func testInput(t testing.TB) *eif.Input {
	t.Helper()
	boot, err := eif.BootRamdisk([]byte("#!init stand-in\n"), []byte("nsm.ko stand-in"), 0)
	if err != nil {
		t.Fatal(err)
	}
	app, err := (&eif.AppRamdisk{Binary: []byte("\x7fELF enclave stand-in"), Env: []string{"A=1"}}).Build()
	if err != nil {
		t.Fatal(err)
	}
	return &eif.Input{
		Kernel:           bytes.Repeat([]byte("kernel"), 1000),
		Cmdline:          "reboot=k panic=30 pci=off nomodules console=ttyS0",
		Ramdisks:         [][]byte{boot, app},
		Name:             "facesign-enclave",
		Version:          "test",
		BuildTime:        buildTime,
		BuildTool:        "facesign",
		BuildToolVersion: "dev",
		OperatingSystem:  "Linux",
		KernelVersion:    "6.1.0",
		CustomMetadata:   json.RawMessage(`{"b": 1, "a": "<x>"}`),
	}
}

func loadSigner(t testing.TB, name string) *eif.Signer {
	t.Helper()
	cert, err := os.ReadFile(filepath.Join("testdata", name+"-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join("testdata", name+"-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := eif.NewSigner(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func build(t testing.TB, in *eif.Input) ([]byte, eif.Measurements) {
	t.Helper()
	var buf bytes.Buffer
	m, err := eif.Build(&buf, in)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), m
}

func read(t testing.TB, b []byte) *eif.Image {
	t.Helper()
	im, err := eif.Read(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// refPCR is the formula written out independently of the package:
// SHA-384(48 zero bytes ‖ SHA-384(parts...)).
func refPCR(parts ...[]byte) string {
	inner := sha512.New384()
	for _, p := range parts {
		inner.Write(p)
	}
	outer := sha512.New384()
	outer.Write(make([]byte, 48))
	outer.Write(inner.Sum(nil))
	return hex.EncodeToString(outer.Sum(nil))
}

// refCRC is CRC-32/IEEE of the file without bytes 544..547 (the CRC field).
func refCRC(b []byte) uint32 {
	c := crc32.ChecksumIEEE(b[:544])
	return crc32.Update(c, crc32.IEEETable, b[548:])
}

func TestSizes(t *testing.T) {
	if eif.HeaderSize != 548 || eif.SectionHeaderSize != 12 {
		t.Fatalf("header %d section header %d", eif.HeaderSize, eif.SectionHeaderSize)
	}
}

func TestRoundTrip(t *testing.T) {
	in := testInput(t)
	b, m := build(t, in)
	im := read(t, b)

	// Section order and contents, as nitro-cli lays them out.
	wantTypes := []eif.SectionType{eif.SectionKernel, eif.SectionCmdline, eif.SectionMetadata, eif.SectionRamdisk, eif.SectionRamdisk}
	if len(im.Sections) != len(wantTypes) {
		t.Fatalf("%d sections", len(im.Sections))
	}
	wantData := [][]byte{in.Kernel, []byte(in.Cmdline), nil, in.Ramdisks[0], in.Ramdisks[1]}
	pos := int64(eif.HeaderSize)
	for i, s := range im.Sections {
		if s.Type != wantTypes[i] {
			t.Errorf("section %d type %v, want %v", i, s.Type, wantTypes[i])
		}
		if s.Offset != pos+eif.SectionHeaderSize || im.Header.SectionOffsets[i] != uint64(pos) {
			t.Errorf("section %d at %d (table %d), want header at %d", i, s.Offset, im.Header.SectionOffsets[i], pos)
		}
		pos = s.Offset + s.Size
		got := make([]byte, s.Size)
		if _, err := im.SectionReader(i).ReadAt(got, 0); err != nil && s.Size > 0 {
			t.Fatal(err)
		}
		if wantData[i] != nil && !bytes.Equal(got, wantData[i]) {
			t.Errorf("section %d data differs", i)
		}
	}
	if pos != int64(len(b)) {
		t.Errorf("sections end at %d, file is %d", pos, len(b))
	}
	h := im.Header
	if h.Version != 4 || h.Flags != 0 || h.DefaultMemory != 1<<30 || h.DefaultCPUs != 2 || h.SectionCount != 5 {
		t.Errorf("header %+v", h)
	}
	if string(b[:4]) != ".eif" || binary.BigEndian.Uint16(b[4:]) != 4 {
		t.Errorf("magic/version bytes % x", b[:6])
	}
	if im.Cmdline() != in.Cmdline {
		t.Errorf("cmdline %q", im.Cmdline())
	}

	// CRC and PCRs recomputed from the formula.
	if got, want := binary.BigEndian.Uint32(b[544:]), refCRC(b); got != want || !im.CRCValid() || im.CRC() != want {
		t.Errorf("crc header %08x computed %08x ref %08x", got, im.CRC(), want)
	}
	want0 := refPCR(in.Kernel, []byte(in.Cmdline), in.Ramdisks[0], in.Ramdisks[1])
	want1 := refPCR(in.Kernel, []byte(in.Cmdline), in.Ramdisks[0])
	want2 := refPCR(in.Ramdisks[1])
	for _, mm := range []eif.Measurements{m, im.Measurements()} {
		if mm.PCR0.String() != want0 || mm.PCR1.String() != want1 || mm.PCR2.String() != want2 || mm.Signed {
			t.Errorf("measurements %v %v %v signed=%v", mm.PCR0, mm.PCR1, mm.PCR2, mm.Signed)
		}
	}
	if im.IsSigned() || im.SignatureValid() {
		t.Error("unsigned image reads as signed")
	}
	if err := im.VerifySignature(buildTime); !errors.Is(err, eif.ErrUnsigned) {
		t.Errorf("VerifySignature on unsigned: %v", err)
	}
	if err := im.Verify(buildTime); err != nil {
		t.Errorf("Verify: %v", err)
	}

	// Metadata: nitro-cli's keys and order, serde_json compact, sorted custom keys, no HTML escaping.
	md := im.Metadata()
	if md == nil || md.ImageName != "facesign-enclave" || md.BuildMetadata.BuildTime != "2025-06-01T12:00:00+00:00" {
		t.Fatalf("metadata %+v", md)
	}
	raw := make([]byte, im.Sections[2].Size)
	im.SectionReader(2).ReadAt(raw, 0)
	const wantMD = `{"ImageName":"facesign-enclave","ImageVersion":"test","BuildMetadata":{"BuildTime":"2025-06-01T12:00:00+00:00","BuildTool":"facesign","BuildToolVersion":"dev","OperatingSystem":"Linux","KernelVersion":"6.1.0"},"DockerInfo":null,"CustomMetadata":{"a":"<x>","b":1}}`
	if string(raw) != wantMD {
		t.Errorf("metadata JSON\n got %s\nwant %s", raw, wantMD)
	}
	pcrs := m.Map()
	if len(pcrs) != 3 || hex.EncodeToString(pcrs[2]) != want2 {
		t.Errorf("Map %v", pcrs)
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	a, _ := build(t, testInput(t))
	b, _ := build(t, testInput(t))
	if !bytes.Equal(a, b) {
		t.Fatal("two builds differ")
	}
	in := testInput(t)
	in.BuildTime = in.BuildTime.Add(time.Second)
	c, mc := build(t, in)
	_, ma := build(t, testInput(t))
	if bytes.Equal(a, c) {
		t.Error("build time does not reach the metadata")
	}
	if mc != ma {
		t.Error("metadata must not change the PCRs")
	}
}

func TestSigned(t *testing.T) {
	in := testInput(t)
	in.Signer = loadSigner(t, "sign")
	b, m := build(t, in)
	im := read(t, b)

	certPEM, _ := os.ReadFile("testdata/sign-cert.pem")
	block, _ := pem.Decode(certPEM)
	wantPCR8 := refPCR(block.Bytes)
	if !m.Signed || m.PCR8.String() != wantPCR8 || im.Measurements() != m {
		t.Fatalf("PCR8 %v (read %v), want %s", m.PCR8, im.Measurements().PCR8, wantPCR8)
	}
	if in.Signer.PCR8().String() != wantPCR8 {
		t.Error("Signer.PCR8")
	}
	unsigned, mu := build(t, testInput(t))
	if mu.PCR0 != m.PCR0 || mu.PCR1 != m.PCR1 || mu.PCR2 != m.PCR2 {
		t.Error("signing changed PCR0..2")
	}
	if !bytes.Equal(unsigned[548:], b[548:len(unsigned)]) {
		t.Error("signing changed the sections before the signature")
	}
	if !im.IsSigned() || !im.SignatureValid() || !im.CRCValid() {
		t.Fatalf("signed=%v valid=%v crc=%v", im.IsSigned(), im.SignatureValid(), im.CRCValid())
	}
	if len(m.Map()) != 4 {
		t.Error("Map lacks PCR8")
	}
	last := im.Sections[len(im.Sections)-1]
	if last.Type != eif.SectionSignature {
		t.Fatalf("last section %v", last.Type)
	}
	for _, tc := range []struct {
		name string
		at   time.Time
		want error
	}{
		{"valid", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{"before", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), eif.ErrCertificateTime},
		{"after", time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC), eif.ErrCertificateTime},
		{"zero", time.Time{}, eif.ErrInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := im.VerifySignature(tc.at)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	// The section is serde_cbor's encoding of Vec<PcrSignature>: byte
	// vectors as arrays of integers, PEM certificate as given.
	sec := make([]byte, last.Size)
	im.SectionReader(len(im.Sections)-1).ReadAt(sec, 0)
	var generic []map[string][]uint64
	if err := cbor.Unmarshal(sec, &generic); err != nil || len(generic) != 1 {
		t.Fatalf("signature section shape: %v", err)
	}
	toBytes := func(v []uint64) []byte {
		out := make([]byte, len(v))
		for i, x := range v {
			out[i] = byte(x)
		}
		return out
	}
	if !bytes.Equal(toBytes(generic[0]["signing_certificate"]), certPEM) {
		t.Error("signing_certificate is not the PEM file")
	}
	coseBytes := toBytes(generic[0]["signature"])

	// Independent COSE check with veraison/go-cose.
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(coseBytes); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(block.Bytes)
	verifier, err := cose.NewVerifier(cose.AlgorithmES384, cert.PublicKey.(*ecdsa.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	if err := msg.Verify(nil, verifier); err != nil {
		t.Fatalf("go-cose rejects the signature: %v", err)
	}
	var payload struct {
		Index int      `cbor:"register_index"`
		Value []uint64 `cbor:"register_value"`
	}
	if err := cbor.Unmarshal(msg.Payload, &payload); err != nil || payload.Index != 0 || hex.EncodeToString(toBytes(payload.Value)) != m.PCR0.String() {
		t.Fatalf("payload %+v: %v", payload, err)
	}

	// Deterministic (RFC 6979) signatures: a second signed build is identical.
	in2 := testInput(t)
	in2.Signer = loadSigner(t, "sign")
	if b2, _ := build(t, in2); !bytes.Equal(b, b2) {
		t.Error("signed builds differ")
	}
}

func TestSignedP256(t *testing.T) {
	in := testInput(t)
	in.Signer = loadSigner(t, "p256")
	b, _ := build(t, in)
	im := read(t, b)
	if !im.SignatureValid() || im.Signature().Algorithm != -7 {
		t.Fatalf("valid=%v alg=%d", im.SignatureValid(), im.Signature().Algorithm)
	}
}

func TestExpiredCertificate(t *testing.T) {
	in := testInput(t)
	in.Signer = loadSigner(t, "expired")
	b, _ := build(t, in)
	im := read(t, b)
	if !im.SignatureValid() {
		t.Fatal("signature over PCR0 should still check")
	}
	if err := im.Verify(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, eif.ErrCertificateTime) {
		t.Fatalf("Verify: %v", err)
	}
}

func TestNewSignerRejects(t *testing.T) {
	cert, _ := os.ReadFile("testdata/sign-cert.pem")
	key, _ := os.ReadFile("testdata/sign-key.pem")
	otherKey, _ := os.ReadFile("testdata/p256-key.pem")
	for _, tc := range []struct {
		name      string
		cert, key []byte
	}{
		{"no cert", nil, key},
		{"no key", cert, nil},
		{"key is cert", cert, cert},
		{"mismatched key", cert, otherKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := eif.NewSigner(tc.cert, tc.key); !errors.Is(err, eif.ErrInput) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestTamper(t *testing.T) {
	in := testInput(t)
	in.Signer = loadSigner(t, "sign")
	good, _ := build(t, in)
	t.Run("kernel byte", func(t *testing.T) {
		b := bytes.Clone(good)
		b[eif.HeaderSize+eif.SectionHeaderSize+10] ^= 1
		im := read(t, b)
		if im.CRCValid() || im.SignatureValid() {
			t.Fatalf("crc=%v sig=%v after flipping a kernel bit", im.CRCValid(), im.SignatureValid())
		}
		if err := im.Verify(buildTime); !errors.Is(err, eif.ErrCRCMismatch) {
			t.Fatalf("Verify: %v", err)
		}
	})
	t.Run("crc field", func(t *testing.T) {
		b := bytes.Clone(good)
		b[545] ^= 0x80
		im := read(t, b)
		if im.CRCValid() {
			t.Fatal("CRC accepted")
		}
		if im.Measurements() != read(t, good).Measurements() {
			t.Fatal("CRC field changed the PCRs")
		}
	})
}

func TestBuildRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*eif.Input)
		want error
	}{
		{"no kernel", func(in *eif.Input) { in.Kernel = nil }, eif.ErrInput},
		{"no ramdisk", func(in *eif.Input) { in.Ramdisks = nil }, eif.ErrInput},
		{"empty ramdisk", func(in *eif.Input) { in.Ramdisks[1] = nil }, eif.ErrInput},
		{"NUL in cmdline", func(in *eif.Input) { in.Cmdline = "a\x00b" }, eif.ErrCmdline},
		{"zero build time", func(in *eif.Input) { in.BuildTime = time.Time{} }, eif.ErrInput},
		{"bad custom JSON", func(in *eif.Input) { in.CustomMetadata = json.RawMessage("{") }, eif.ErrInput},
		{"too many ramdisks", func(in *eif.Input) {
			for len(in.Ramdisks) < 30 {
				in.Ramdisks = append(in.Ramdisks, []byte("x"))
			}
		}, eif.ErrInput},
		{"bad arch", func(in *eif.Input) { in.Arch = 7 }, eif.ErrInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := testInput(t)
			tc.mod(in)
			var buf bytes.Buffer
			_, err := eif.Build(&buf, in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if buf.Len() != 0 {
				t.Fatal("bytes written on error")
			}
		})
	}
}

func TestARM64Flag(t *testing.T) {
	in := testInput(t)
	in.Arch = eif.ArchAArch64
	b, _ := build(t, in)
	im := read(t, b)
	if im.Header.Flags != eif.FlagARM64 || im.Arch() != "aarch64" {
		t.Fatalf("flags %#x arch %s", im.Header.Flags, im.Arch())
	}
}

func TestFormatBuildTime(t *testing.T) {
	for _, tc := range []struct {
		in   time.Time
		want string
	}{
		{time.Unix(0, 0), "1970-01-01T00:00:00+00:00"},
		{time.Date(2024, 2, 3, 4, 5, 6, 0, time.FixedZone("X", 3600)), "2024-02-03T03:05:06+00:00"},
		{time.Date(2024, 2, 3, 4, 5, 6, 5e8, time.UTC), "2024-02-03T04:05:06.500+00:00"},
		{time.Date(2024, 2, 3, 4, 5, 6, 1000, time.UTC), "2024-02-03T04:05:06.000001+00:00"},
		{time.Date(2024, 2, 3, 4, 5, 6, 1, time.UTC), "2024-02-03T04:05:06.000000001+00:00"},
	} {
		got, err := eif.FormatBuildTime(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%v: %q %v, want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := eif.FormatBuildTime(time.Time{}); !errors.Is(err, eif.ErrInput) {
		t.Errorf("zero time: %v", err)
	}
}

func TestKernelInfo(t *testing.T) {
	for _, tc := range []struct{ cfg, os, ver string }{
		{"#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86_64 4.14.177-104.253.amzn2.x86_64 Kernel Configuration\n", "Linux", "4.14.177"},
		{"#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.1.170 Kernel Configuration\n", "Linux", "6.1.170"},
		{"one line\n", "Unknown", "Unknown"},
		{"", "Unknown", "Unknown"},
	} {
		os, ver := eif.KernelInfo([]byte(tc.cfg))
		if os != tc.os || ver != tc.ver {
			t.Errorf("%q: %q %q, want %q %q", tc.cfg, os, ver, tc.os, tc.ver)
		}
	}
}

func TestDescribe(t *testing.T) {
	in := testInput(t)
	in.Signer = loadSigner(t, "sign")
	b, m := build(t, in)
	out, err := read(t, b).Describe()
	if err != nil {
		t.Fatal(err)
	}
	// Keys in nitro-cli's order.
	order := []string{`"EifVersion": 4`, `"Measurements": {`, `"HashAlgorithm": "Sha384 { ... }"`, `"PCR0": "` + m.PCR0.String(),
		`"PCR1"`, `"PCR2"`, `"PCR8": "` + m.PCR8.String(), `"IsSigned": true`, `"SigningCertificate": {`,
		`"IssuerName": {`, `"commonName": "facesign eif test signer sign"`, `"Algorithm": "ecdsa-with-SHA384"`,
		`"NotBefore": "Jan  1 00:00:00 2024 GMT"`, `"NotAfter": "Jan  1 00:00:00 2044 GMT"`, `"Signature": "`,
		`"CheckCRC": true`, `"SignatureCheck": true`, `"ImageName": "facesign-enclave"`, `"ImageVersion": "test"`,
		`"Metadata": {`, `"BuildTime": "2025-06-01T12:00:00+00:00"`, `"BuildTool": "facesign"`, `"BuildToolVersion": "dev"`,
		`"OperatingSystem": "Linux"`, `"KernelVersion": "6.1.0"`, `"DockerInfo": null`, `"a": "<x>"`, `"b": 1`}
	s := string(out)
	pos := 0
	for _, o := range order {
		i := strings.Index(s[pos:], o)
		if i < 0 {
			t.Fatalf("%s missing or out of order in\n%s", o, s)
		}
		pos += i + len(o)
	}
	if !strings.HasPrefix(s, "{\n  \"EifVersion\"") {
		t.Errorf("indentation:\n%s", s)
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
}

// Images without a metadata section (EIF v3 and earlier) read, and describe
// without ImageName/ImageVersion/Metadata, as nitro-cli does.
func TestNoMetadata(t *testing.T) {
	b, _ := build(t, testInput(t))
	im := read(t, b)
	// Drop the metadata section (index 2) and rebuild the header by hand.
	md := im.Sections[2]
	start, end := md.Offset-eif.SectionHeaderSize, md.Offset+md.Size
	nb := append(bytes.Clone(b[:start]), b[end:]...)
	binary.BigEndian.PutUint16(nb[4:], 3)
	binary.BigEndian.PutUint16(nb[26:], 4)
	shift := uint64(end - start)
	for i := 2; i < 5; i++ {
		off := binary.BigEndian.Uint64(b[28+8*(i+1):])
		size := binary.BigEndian.Uint64(b[284+8*(i+1):])
		if i == 4 {
			off, size = 0, 0
		} else {
			off -= shift
		}
		binary.BigEndian.PutUint64(nb[28+8*i:], off)
		binary.BigEndian.PutUint64(nb[284+8*i:], size)
	}
	binary.BigEndian.PutUint32(nb[544:], refCRC(nb))
	im2 := read(t, nb)
	if im2.Metadata() != nil || !im2.CRCValid() || im2.Measurements() != im.Measurements() {
		t.Fatalf("metadata %v crc %v", im2.Metadata(), im2.CRCValid())
	}
	out, err := im2.Describe()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "ImageName") || !strings.Contains(string(out), `"EifVersion": 3`) {
		t.Fatalf("describe:\n%s", out)
	}
}
