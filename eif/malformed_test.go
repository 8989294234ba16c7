package eif

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/veraison/go-cose"

	"github.com/facesign/facesign/internal/cborenc"
)

const validMD = `{"ImageName":"n","ImageVersion":"v","BuildMetadata":{"BuildTime":"t","BuildTool":"b","BuildToolVersion":"1","OperatingSystem":"Linux","KernelVersion":"6"},"DockerInfo":null,"CustomMetadata":null}`

func baseSections() []rawSection {
	return []rawSection{
		{typ: SectionKernel, data: []byte("kernel-bytes")},
		{typ: SectionCmdline, data: []byte("console=ttyS0")},
		{typ: SectionMetadata, data: []byte(validMD)},
		{typ: SectionRamdisk, data: []byte("boot-ramdisk")},
		{typ: SectionRamdisk, data: []byte("app-ramdisk")},
	}
}

func image(secs []rawSection) []byte {
	return assemble(Header{Version: CurrentVersion, DefaultMemory: DefaultMemory, DefaultCPUs: DefaultCPUs}, secs)
}

func put16(b []byte, off int, v uint16) []byte { binary.BigEndian.PutUint16(b[off:], v); return b }
func put64(b []byte, off int, v uint64) []byte { binary.BigEndian.PutUint64(b[off:], v); return b }

// Byte offsets of header fields.
const (
	offVersion = 4
	offCount   = 26
	offOffsets = 28
	offSizes   = 28 + 8*MaxSections
)

// secHdr returns the file offset of section i's header in a base image.
func secHdr(b []byte, i int) int { return int(binary.BigEndian.Uint64(b[offOffsets+8*i:])) }

func TestMalformed(t *testing.T) {
	base := image(baseSections())
	if _, err := Read(bytes.NewReader(base), int64(len(base)), nil); err != nil {
		t.Fatalf("base image: %v", err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(base)) }
	with := func(f func([]rawSection) []rawSection) []byte { return image(f(baseSections())) }

	cases := []struct {
		name    string
		img     []byte
		opts    *ReadOptions
		want    error
		section bool // also a *SectionError
	}{
		{"empty", nil, nil, ErrTruncated, false},
		{"header only partly", base[:HeaderSize-1], nil, ErrTruncated, false},
		{"bad magic", mut(func(b []byte) []byte { b[0] = 'E'; return b }), nil, ErrBadMagic, false},
		{"version 0", mut(func(b []byte) []byte { return put16(b, offVersion, 0) }), nil, ErrUnsupportedVersion, false},
		{"version 5", mut(func(b []byte) []byte { return put16(b, offVersion, 5) }), nil, ErrUnsupportedVersion, false},
		{"zero sections", mut(func(b []byte) []byte { return put16(b, offCount, 0) }), nil, ErrSectionCount, false},
		{"33 sections", mut(func(b []byte) []byte { return put16(b, offCount, 33) }), nil, ErrSectionCount, false},
		{"count below table", mut(func(b []byte) []byte { return put16(b, offCount, 4) }), nil, ErrLayout, false},
		{"count above table", mut(func(b []byte) []byte { return put16(b, offCount, 6) }), nil, ErrLayout, true},
		{"section type 0", mut(func(b []byte) []byte { return put16(b, secHdr(b, 1), 0) }), nil, ErrSectionType, true},
		{"section type 6", mut(func(b []byte) []byte { return put16(b, secHdr(b, 3), 6) }), nil, ErrSectionType, true},
		{"section type 0xffff", mut(func(b []byte) []byte { return put16(b, secHdr(b, 0), 0xffff) }), nil, ErrSectionType, true},
		{"truncated in last section", base[:len(base)-3], nil, ErrTruncated, true},
		{"truncated in section header", base[:secHdr(base, 4)+5], nil, ErrTruncated, true},
		{"section size past end", mut(func(b []byte) []byte {
			put64(b, offSizes+8*4, 1<<20)
			return put64(b, secHdr(b, 4)+4, 1<<20)
		}), nil, ErrTruncated, true},
		{"huge section size", mut(func(b []byte) []byte {
			put64(b, offSizes+8*4, 1<<62)
			return put64(b, secHdr(b, 4)+4, 1<<62)
		}), nil, ErrTooLarge, true},
		{"table size differs from section header", mut(func(b []byte) []byte { return put64(b, offSizes+8*1, 3) }), nil, ErrLayout, true},
		{"overlap", mut(func(b []byte) []byte { return put64(b, offOffsets+8*2, uint64(secHdr(b, 2)-4)) }), nil, ErrOverlap, true},
		{"overlap with header", mut(func(b []byte) []byte { return put64(b, offOffsets, 100) }), nil, ErrOverlap, true},
		{"gap", mut(func(b []byte) []byte { return put64(b, offOffsets+8*2, uint64(secHdr(b, 2)+4)) }), nil, ErrLayout, true},
		{"stale table entry past count", mut(func(b []byte) []byte { return put64(b, offOffsets+8*20, 4096) }), nil, ErrLayout, false},
		{"trailing data", append(bytes.Clone(base), 0, 0, 0, 0), nil, ErrTrailingData, false},
		{"no kernel", with(func(s []rawSection) []rawSection { return s[1:] }), nil, ErrMissingSection, false},
		{"no cmdline", with(func(s []rawSection) []rawSection { return append(s[:1:1], s[2:]...) }), nil, ErrMissingSection, false},
		{"no ramdisk", with(func(s []rawSection) []rawSection { return s[:3] }), nil, ErrMissingSection, false},
		{"two kernels", with(func(s []rawSection) []rawSection { return append(s, s[0]) }), nil, ErrDuplicateSection, true},
		{"two cmdlines", with(func(s []rawSection) []rawSection { return append(s, s[1]) }), nil, ErrDuplicateSection, true},
		{"two metadata", with(func(s []rawSection) []rawSection { return append(s, s[2]) }), nil, ErrDuplicateSection, true},
		{"NUL in cmdline", with(func(s []rawSection) []rawSection { s[1].data = []byte("a\x00b"); return s }), nil, ErrCmdline, true},
		{"cmdline too large", with(func(s []rawSection) []rawSection { s[1].data = bytes.Repeat([]byte("a"), 64<<10+1); return s }), nil, ErrTooLarge, true},
		{"metadata not JSON", with(func(s []rawSection) []rawSection { s[2].data = []byte("{"); return s }), nil, ErrMetadata, true},
		{"metadata missing key", with(func(s []rawSection) []rawSection { s[2].data = []byte(`{"ImageName":"x"}`); return s }), nil, ErrMetadata, true},
		{"metadata name null", with(func(s []rawSection) []rawSection {
			s[2].data = bytes.Replace([]byte(validMD), []byte(`"ImageName":"n"`), []byte(`"ImageName":null`), 1)
			return s
		}), nil, ErrMetadata, true},
		{"metadata build time number", with(func(s []rawSection) []rawSection {
			s[2].data = bytes.Replace([]byte(validMD), []byte(`"BuildTime":"t"`), []byte(`"BuildTime":1`), 1)
			return s
		}), nil, ErrMetadata, true},
		{"metadata trailing", with(func(s []rawSection) []rawSection { s[2].data = []byte(validMD + "{}"); return s }), nil, ErrMetadata, true},
		{"metadata too large", with(func(s []rawSection) []rawSection { s[2].data = make([]byte, 1<<20+1); return s }), nil, ErrTooLarge, true},
		{"signature not CBOR", with(func(s []rawSection) []rawSection {
			return append(s, rawSection{typ: SectionSignature, data: []byte{0xff}})
		}), nil, ErrSignatureFormat, false},
		{"signature empty array", with(func(s []rawSection) []rawSection {
			return append(s, rawSection{typ: SectionSignature, data: []byte{0x80}})
		}), nil, ErrSignatureFormat, false},
		{"signature with non-byte integers", with(func(s []rawSection) []rawSection {
			d := cborenc.AppendHead(nil, majorArray, 1)
			d = cborenc.AppendHead(d, majorMap, 2)
			d = cborenc.AppendText(d, "signing_certificate")
			d = cborenc.AppendHead(d, majorArray, 1)
			d = cborenc.AppendHead(d, majorUint, 256)
			d = cborenc.AppendText(d, "signature")
			d = appendU8Array(d, []byte{1})
			return append(s, rawSection{typ: SectionSignature, data: d})
		}), nil, ErrSignatureFormat, false},
		{"signature certificate not PEM", with(func(s []rawSection) []rawSection {
			d := cborenc.AppendHead(nil, majorArray, 1)
			d = cborenc.AppendHead(d, majorMap, 2)
			d = cborenc.AppendText(d, "signing_certificate")
			d = appendU8Array(d, []byte("not a certificate"))
			d = cborenc.AppendText(d, "signature")
			d = appendU8Array(d, []byte{0x84, 0x40, 0xa0, 0x40, 0x40})
			return append(s, rawSection{typ: SectionSignature, data: d})
		}), nil, ErrSignatureFormat, false},
		{"image over limit", base, &ReadOptions{MaxImageSize: int64(len(base)) - 1}, ErrTooLarge, false},
		{"section over limit", base, &ReadOptions{MaxSectionSize: 11}, ErrTooLarge, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			im, err := Read(bytes.NewReader(tc.img), int64(len(tc.img)), tc.opts)
			if im != nil || !errors.Is(err, tc.want) {
				t.Fatalf("got (%v, %v), want %v", im != nil, err, tc.want)
			}
			var se *SectionError
			if errors.As(err, &se) != tc.section {
				t.Fatalf("SectionError=%v, want %v: %v", !tc.section, tc.section, err)
			}
		})
	}
}

// A reader that fails is reported as such, not as a format error.
type failingReader struct{}

func (failingReader) ReadAt([]byte, int64) (int, error) { return 0, errors.New("disk on fire") }

func TestReadIOError(t *testing.T) {
	_, err := Read(failingReader{}, 4096, nil)
	if err == nil || errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v", err)
	}
}

// A signature section made by an independent COSE implementation (veraison
// go-cose, tagged, byte strings instead of integer arrays) is accepted.
func TestSignatureFromGoCOSE(t *testing.T) {
	certPEM, err := os.ReadFile("testdata/sign-cert.pem")
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := os.ReadFile("testdata/sign-key.pem")
	key, err := parseECKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	secs := baseSections()
	m := newMeasurer()
	for _, s := range secs {
		for _, h := range m.writerFor(s.typ) {
			h.Write(s.data)
		}
	}
	pcr0 := m.result().PCR0
	signer, err := cose.NewSigner(cose.AlgorithmES384, key)
	if err != nil {
		t.Fatal(err)
	}
	msg := cose.NewSign1Message()
	msg.Headers.Protected.SetAlgorithm(cose.AlgorithmES384)
	msg.Payload = pcrPayload(0, pcr0[:])
	if err := msg.Sign(rand.Reader, nil, signer); err != nil {
		t.Fatal(err)
	}
	coseBytes, err := msg.MarshalCBOR() // tagged 18
	if err != nil {
		t.Fatal(err)
	}
	d := cborenc.AppendHead(nil, majorArray, 1)
	d = cborenc.AppendHead(d, majorMap, 2)
	d = cborenc.AppendText(d, "signing_certificate")
	d = cborenc.AppendBytes(d, certPEM)
	d = cborenc.AppendText(d, "signature")
	d = cborenc.AppendBytes(d, coseBytes)
	img := image(append(secs, rawSection{typ: SectionSignature, data: d}))
	im, err := Read(bytes.NewReader(img), int64(len(img)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !im.SignatureValid() {
		t.Fatalf("signature from go-cose rejected: %v", im.sigErr)
	}
	if err := im.Verify(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}

	// The same signature over a different PCR0 is a mismatch, not a pass.
	other := baseSections()
	other[0].data = []byte("another kernel")
	img2 := image(append(other, rawSection{typ: SectionSignature, data: d}))
	im2, err := Read(bytes.NewReader(img2), int64(len(img2)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if im2.SignatureValid() || !errors.Is(im2.VerifySignature(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), ErrSignatureMismatch) {
		t.Fatal("signature over another PCR0 accepted")
	}

	// A corrupted signature does not verify.
	bad := bytes.Clone(coseBytes)
	bad[len(bad)-1] ^= 1
	d2 := cborenc.AppendHead(nil, majorArray, 1)
	d2 = cborenc.AppendHead(d2, majorMap, 2)
	d2 = cborenc.AppendText(d2, "signing_certificate")
	d2 = cborenc.AppendBytes(d2, certPEM)
	d2 = cborenc.AppendText(d2, "signature")
	d2 = cborenc.AppendBytes(d2, bad)
	img3 := image(append(baseSections(), rawSection{typ: SectionSignature, data: d2}))
	im3, err := Read(bytes.NewReader(img3), int64(len(img3)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(im3.VerifySignature(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), ErrSignatureInvalid) {
		t.Fatal("corrupted signature accepted")
	}
}

func FuzzRead(f *testing.F) {
	base := image(baseSections())
	f.Add(base)
	f.Add(base[:HeaderSize])
	f.Add(append(bytes.Clone(base), 1, 2, 3))
	certPEM, _ := os.ReadFile("testdata/sign-cert.pem")
	keyPEM, _ := os.ReadFile("testdata/sign-key.pem")
	if s, err := NewSigner(certPEM, keyPEM); err == nil {
		secs := baseSections()
		m := newMeasurer()
		for _, sec := range secs {
			for _, h := range m.writerFor(sec.typ) {
				h.Write(sec.data)
			}
		}
		sig, _ := s.section(m.result().PCR0)
		f.Add(image(append(secs, rawSection{typ: SectionSignature, data: sig})))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := Read(bytes.NewReader(b), int64(len(b)), &ReadOptions{MaxImageSize: 1 << 20})
		if err != nil {
			if im != nil {
				t.Fatal("image and error")
			}
			return
		}
		// Parse → assemble gives the same bytes (CRC field aside).
		secs := make([]rawSection, len(im.Sections))
		for i, s := range im.Sections {
			secs[i] = rawSection{typ: s.Type, flags: s.Flags, data: b[s.Offset : s.Offset+s.Size]}
		}
		out := assemble(im.Header, secs)
		if !bytes.Equal(out[:crcOffset], b[:crcOffset]) || !bytes.Equal(out[HeaderSize:], b[HeaderSize:]) {
			t.Fatal("re-assembled image differs")
		}
		if im.CRCValid() != bytes.Equal(out, b) {
			t.Fatal("CRCValid disagrees with the recomputed CRC")
		}
		if _, err := im.Describe(); err != nil {
			t.Fatalf("Describe of a readable image: %v", err)
		}
	})
}

func FuzzDecodeSignature(f *testing.F) {
	certPEM, _ := os.ReadFile("testdata/sign-cert.pem")
	keyPEM, _ := os.ReadFile("testdata/sign-key.pem")
	s, err := NewSigner(certPEM, keyPEM)
	if err != nil {
		f.Fatal(err)
	}
	var pcr0 PCR
	sec, err := s.section(pcr0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sec)
	f.Add([]byte{0x81, 0xa0})
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := decodeSignature(b)
		if err != nil {
			if sig != nil {
				t.Fatal("signature and error")
			}
			return
		}
		// Whatever decodes can be checked without panicking.
		_ = sig.check(pcr0)
		_ = sig.PCR8()
	})
}
