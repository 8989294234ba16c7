package eif

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// Default limits of [Read]; see [ReadOptions].
const (
	DefaultMaxImageSize   int64 = 8 << 30
	DefaultMaxSectionSize int64 = 4 << 30
	maxCmdlineSection           = 64 << 10
)

// ReadOptions bounds what [Read] accepts. The zero value uses the defaults.
type ReadOptions struct {
	MaxImageSize   int64 // whole file; 0 means DefaultMaxImageSize
	MaxSectionSize int64 // any one section; 0 means DefaultMaxSectionSize
}

// Section is one section of an image, in file order.
type Section struct {
	Type   SectionType
	Flags  uint16
	Offset int64 // file offset of the section's data (after its 12-byte header)
	Size   int64
}

// Image is a parsed, structurally valid EIF. Kernel and ramdisk data stay in
// the underlying [io.ReaderAt]; cmdline, metadata and signature are held in
// memory (they are small and bounded).
type Image struct {
	Header   Header
	Sections []Section

	r            io.ReaderAt
	crc          uint32
	measurements Measurements
	cmdline      string
	metadata     *Metadata
	signature    *Signature
	sigErr       error // result of checking the signature against PCR0 (nil: valid)
}

// Read parses the EIF of the given size in r: header, section table, every
// section header and the sections themselves. It streams every byte once to
// compute the CRC and the PCRs, so its memory use does not depend on the
// kernel or ramdisk sizes.
//
// Read rejects, with an error wrapping one of the package's sentinels:
// truncated files, files or sections over the limits, a bad magic or
// version, section counts outside 1..32, unknown section types, sections
// whose header table entries disagree with their section headers, overlap or
// leave gaps, trailing bytes, a missing kernel/cmdline/ramdisk, duplicate
// kernel/cmdline/metadata/signature sections, a cmdline with NUL, metadata
// that is not nitro-cli's JSON and signature sections that do not decode.
//
// A CRC mismatch or a signature that does not verify are not read errors
// (nitro-cli describe-eif reports them as CheckCRC and SignatureCheck): see
// [Image.CRCValid], [Image.Verify] and [Image.VerifySignature].
func Read(r io.ReaderAt, size int64, opts *ReadOptions) (*Image, error) {
	maxImage, maxSection := DefaultMaxImageSize, DefaultMaxSectionSize
	if opts != nil && opts.MaxImageSize > 0 {
		maxImage = opts.MaxImageSize
	}
	if opts != nil && opts.MaxSectionSize > 0 {
		maxSection = opts.MaxSectionSize
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: negative size", ErrInput)
	}
	if size > maxImage {
		return nil, fmt.Errorf("%w: image is %d bytes, limit %d", ErrTooLarge, size, maxImage)
	}
	if size < HeaderSize {
		return nil, fmt.Errorf("%w: %d bytes, a header alone is %d", ErrTruncated, size, HeaderSize)
	}
	hb := make([]byte, HeaderSize)
	if err := readFull(r, hb, 0); err != nil {
		return nil, err
	}
	h, err := decodeHeader(hb)
	if err != nil {
		return nil, err
	}
	if h.Version == 0 || h.Version > CurrentVersion {
		return nil, fmt.Errorf("%w: %d (this reader knows 1..%d)", ErrUnsupportedVersion, h.Version, CurrentVersion)
	}
	if h.SectionCount == 0 || h.SectionCount > MaxSections {
		return nil, fmt.Errorf("%w: %d", ErrSectionCount, h.SectionCount)
	}
	for i := int(h.SectionCount); i < MaxSections; i++ {
		if h.SectionOffsets[i] != 0 || h.SectionSizes[i] != 0 {
			return nil, fmt.Errorf("%w: table entry %d is past the section count %d but not zero", ErrLayout, i, h.SectionCount)
		}
	}

	// Pass 1: the section table, checked against every section header before
	// anything is allocated or hashed.
	im := &Image{Header: h, r: r, Sections: make([]Section, 0, h.SectionCount)}
	var counts [SectionMetadata + 1]int
	pos := int64(HeaderSize)
	shb := make([]byte, SectionHeaderSize)
	for i := 0; i < int(h.SectionCount); i++ {
		serr := func(t SectionType, err error) error {
			return &SectionError{Index: i, Offset: pos, Type: t, Err: err}
		}
		switch off := h.SectionOffsets[i]; {
		case off == 0 && h.SectionSizes[i] == 0:
			return nil, serr(SectionInvalid, fmt.Errorf("%w: no table entry for section %d of %d", ErrLayout, i, h.SectionCount))
		case off < uint64(pos):
			return nil, serr(SectionInvalid, fmt.Errorf("%w: table offset %d is before the end of the previous section at %d", ErrOverlap, off, pos))
		case off > uint64(pos):
			return nil, serr(SectionInvalid, fmt.Errorf("%w: table offset %d leaves a gap after %d", ErrLayout, off, pos))
		}
		if size-pos < SectionHeaderSize {
			return nil, serr(SectionInvalid, fmt.Errorf("%w: section header needs %d bytes, %d left", ErrTruncated, SectionHeaderSize, size-pos))
		}
		if err := readFull(r, shb, pos); err != nil {
			return nil, serr(SectionInvalid, err)
		}
		sh := decodeSectionHeader(shb)
		if !sh.Type.valid() {
			return nil, serr(sh.Type, ErrSectionType)
		}
		if sh.Size != h.SectionSizes[i] {
			return nil, serr(sh.Type, fmt.Errorf("%w: section header size %d, table size %d", ErrLayout, sh.Size, h.SectionSizes[i]))
		}
		if sh.Size > uint64(maxSection) || sh.Size > uint64(limitFor(sh.Type, maxSection)) {
			return nil, serr(sh.Type, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, sh.Size, limitFor(sh.Type, maxSection)))
		}
		dataOff := pos + SectionHeaderSize
		if sh.Size > uint64(size-dataOff) {
			return nil, serr(sh.Type, fmt.Errorf("%w: section of %d bytes, %d left in the file", ErrTruncated, sh.Size, size-dataOff))
		}
		counts[sh.Type]++
		if sh.Type != SectionRamdisk && counts[sh.Type] > 1 {
			return nil, serr(sh.Type, ErrDuplicateSection)
		}
		im.Sections = append(im.Sections, Section{Type: sh.Type, Flags: sh.Flags, Offset: dataOff, Size: int64(sh.Size)})
		pos = dataOff + int64(sh.Size)
	}
	if pos != size {
		return nil, fmt.Errorf("%w: %d bytes after offset %d", ErrTrailingData, size-pos, pos)
	}
	for _, t := range []SectionType{SectionKernel, SectionCmdline, SectionRamdisk} {
		if counts[t] == 0 {
			return nil, fmt.Errorf("%w: no %s section", ErrMissingSection, t)
		}
	}

	// Pass 2: stream every section once into the CRC and the PCR hashers.
	crc := crc32.NewIEEE()
	crc.Write(hb[:crcOffset])
	m := newMeasurer()
	buf := make([]byte, 256<<10)
	var sigSection []byte
	for i, s := range im.Sections {
		serr := func(err error) error {
			return &SectionError{Index: i, Offset: s.Offset - SectionHeaderSize, Type: s.Type, Err: err}
		}
		crc.Write(sectionHeader{Type: s.Type, Flags: s.Flags, Size: uint64(s.Size)}.append(shb[:0]))
		var keep *bytes.Buffer
		if s.Type == SectionCmdline || s.Type == SectionMetadata || s.Type == SectionSignature {
			keep = bytes.NewBuffer(make([]byte, 0, s.Size)) // bounded by limitFor
		}
		hs := m.writerFor(s.Type)
		for off := int64(0); off < s.Size; {
			n := int64(len(buf))
			if s.Size-off < n {
				n = s.Size - off
			}
			if err := readFull(r, buf[:n], s.Offset+off); err != nil {
				return nil, serr(err)
			}
			crc.Write(buf[:n])
			for _, h := range hs {
				h.Write(buf[:n])
			}
			if keep != nil {
				keep.Write(buf[:n])
			}
			off += n
		}
		switch s.Type {
		case SectionCmdline:
			if bytes.IndexByte(keep.Bytes(), 0) >= 0 {
				return nil, serr(fmt.Errorf("%w: contains NUL", ErrCmdline))
			}
			im.cmdline = keep.String()
		case SectionMetadata:
			md, err := parseMetadata(keep.Bytes())
			if err != nil {
				return nil, serr(err)
			}
			im.metadata = md
		case SectionSignature:
			sigSection = keep.Bytes()
		}
	}
	im.crc = crc.Sum32()
	im.measurements = m.result()
	if sigSection != nil {
		sig, err := decodeSignature(sigSection)
		if err != nil {
			return nil, err
		}
		im.signature = sig
		im.measurements.PCR8 = sig.PCR8()
		im.measurements.Signed = true
		im.sigErr = sig.check(im.measurements.PCR0)
	}
	return im, nil
}

func limitFor(t SectionType, maxSection int64) int64 {
	switch t {
	case SectionCmdline:
		return maxCmdlineSection
	case SectionMetadata:
		return maxMetadataSection
	case SectionSignature:
		return maxSignatureSection
	}
	return maxSection
}

func readFull(r io.ReaderAt, b []byte, off int64) error {
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: short read at offset %d", ErrTruncated, off)
	}
	return fmt.Errorf("eif: reading at offset %d: %w", off, err)
}

// Measurements returns the image's PCRs as nitro-cli computes them.
func (im *Image) Measurements() Measurements { return im.measurements }

// CRC returns the CRC-32 (IEEE) computed over the image.
func (im *Image) CRC() uint32 { return im.crc }

// CRCValid reports whether the header's CRC matches the image (CheckCRC).
func (im *Image) CRCValid() bool { return im.crc == im.Header.CRC32 }

// Arch returns "aarch64" or "x86_64" from the header flags.
func (im *Image) Arch() string {
	if im.Header.Flags&FlagARM64 != 0 {
		return "aarch64"
	}
	return "x86_64"
}

// Cmdline returns the kernel command line.
func (im *Image) Cmdline() string { return im.cmdline }

// Metadata returns the metadata section, or nil if the image has none (EIF before v4).
func (im *Image) Metadata() *Metadata { return im.metadata }

// IsSigned reports whether the image has a signature section.
func (im *Image) IsSigned() bool { return im.signature != nil }

// Signature returns the decoded signature section, or nil if unsigned.
func (im *Image) Signature() *Signature { return im.signature }

// SignatureValid reports whether the image is signed and its signature is a
// valid signature over its PCR0 (describe-eif's SignatureCheck). It ignores
// the certificate's validity period; [Image.VerifySignature] does not.
func (im *Image) SignatureValid() bool { return im.signature != nil && im.sigErr == nil }

// VerifySignature checks the signature over PCR0 and the certificate's
// validity at now. Unsigned images fail with [ErrUnsigned].
func (im *Image) VerifySignature(now time.Time) error {
	if im.signature == nil {
		return ErrUnsigned
	}
	return im.signature.Verify(im.measurements.PCR0, now)
}

// Verify checks the CRC and, for signed images, the signature at now.
func (im *Image) Verify(now time.Time) error {
	if !im.CRCValid() {
		return fmt.Errorf("%w: header %08x, computed %08x", ErrCRCMismatch, im.Header.CRC32, im.crc)
	}
	if im.signature == nil {
		return nil
	}
	return im.VerifySignature(now)
}

// SectionReader returns a reader over the data of section i.
func (im *Image) SectionReader(i int) *io.SectionReader {
	s := im.Sections[i]
	return io.NewSectionReader(im.r, s.Offset, s.Size)
}
