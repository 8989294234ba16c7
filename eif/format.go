package eif

import (
	"encoding/binary"
	"fmt"
)

// Wire constants of the Enclave Image File format (aws-nitro-enclaves-image-format, EIF v4).
const (
	// Magic is the first four bytes of every EIF: ".eif" in ASCII.
	Magic = ".eif"
	// CurrentVersion is the header version this package writes (v4: metadata section).
	CurrentVersion uint16 = 4
	// MaxSections is the size of the header's section offset and size tables.
	MaxSections = 32
	// HeaderSize is the encoded size of [Header]: 548 bytes, big-endian.
	HeaderSize = 4 + 2 + 2 + 8 + 8 + 2 + 2 + 8*MaxSections + 8*MaxSections + 4 + 4
	// SectionHeaderSize is the encoded size of a section header: type u16, flags u16, size u64.
	SectionHeaderSize = 12
	// FlagARM64 is the header flag bit set for aarch64 images (cleared for x86_64).
	FlagARM64 uint16 = 0x1

	// DefaultMemory and DefaultCPUs are what nitro-cli writes into every header.
	DefaultMemory uint64 = 1 << 30
	DefaultCPUs   uint64 = 2

	crcOffset = HeaderSize - 4 // the CRC is the header's last field and is not covered by itself
)

// SectionType identifies the content of a section.
type SectionType uint16

// Section types, numbered as in the format definition.
const (
	SectionInvalid   SectionType = 0
	SectionKernel    SectionType = 1
	SectionCmdline   SectionType = 2
	SectionRamdisk   SectionType = 3
	SectionSignature SectionType = 4
	SectionMetadata  SectionType = 5
)

func (t SectionType) String() string {
	switch t {
	case SectionInvalid:
		return "invalid"
	case SectionKernel:
		return "kernel"
	case SectionCmdline:
		return "cmdline"
	case SectionRamdisk:
		return "ramdisk"
	case SectionSignature:
		return "signature"
	case SectionMetadata:
		return "metadata"
	}
	return fmt.Sprintf("SectionType(%d)", uint16(t))
}

func (t SectionType) valid() bool { return t >= SectionKernel && t <= SectionMetadata }

// Header is the fixed 548-byte EIF header.
type Header struct {
	Version        uint16
	Flags          uint16
	DefaultMemory  uint64
	DefaultCPUs    uint64
	Reserved       uint16
	SectionCount   uint16
	SectionOffsets [MaxSections]uint64 // file offset of each section's 12-byte header
	SectionSizes   [MaxSections]uint64 // size of each section's data (without its header)
	Unused         uint32
	CRC32          uint32 // CRC-32 (IEEE) of the header without this field, then every section
}

// AppendBinary appends the big-endian encoding of h to b.
func (h *Header) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, Magic...)
	b = binary.BigEndian.AppendUint16(b, h.Version)
	b = binary.BigEndian.AppendUint16(b, h.Flags)
	b = binary.BigEndian.AppendUint64(b, h.DefaultMemory)
	b = binary.BigEndian.AppendUint64(b, h.DefaultCPUs)
	b = binary.BigEndian.AppendUint16(b, h.Reserved)
	b = binary.BigEndian.AppendUint16(b, h.SectionCount)
	for _, o := range h.SectionOffsets {
		b = binary.BigEndian.AppendUint64(b, o)
	}
	for _, s := range h.SectionSizes {
		b = binary.BigEndian.AppendUint64(b, s)
	}
	b = binary.BigEndian.AppendUint32(b, h.Unused)
	b = binary.BigEndian.AppendUint32(b, h.CRC32)
	return b, nil
}

// decodeHeader parses exactly HeaderSize bytes. It checks the magic only; the
// layout checks belong to Read.
func decodeHeader(b []byte) (Header, error) {
	var h Header
	if len(b) != HeaderSize {
		return h, fmt.Errorf("%w: header is %d bytes, want %d", ErrTruncated, len(b), HeaderSize)
	}
	if string(b[:4]) != Magic {
		return h, fmt.Errorf("%w: %q", ErrBadMagic, b[:4])
	}
	p := 4
	u16 := func() uint16 { v := binary.BigEndian.Uint16(b[p:]); p += 2; return v }
	u32 := func() uint32 { v := binary.BigEndian.Uint32(b[p:]); p += 4; return v }
	u64 := func() uint64 { v := binary.BigEndian.Uint64(b[p:]); p += 8; return v }
	h.Version = u16()
	h.Flags = u16()
	h.DefaultMemory = u64()
	h.DefaultCPUs = u64()
	h.Reserved = u16()
	h.SectionCount = u16()
	for i := range h.SectionOffsets {
		h.SectionOffsets[i] = u64()
	}
	for i := range h.SectionSizes {
		h.SectionSizes[i] = u64()
	}
	h.Unused = u32()
	h.CRC32 = u32()
	return h, nil
}

// sectionHeader is the 12-byte header in front of every section's data.
type sectionHeader struct {
	Type  SectionType
	Flags uint16
	Size  uint64
}

func (s sectionHeader) append(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(s.Type))
	b = binary.BigEndian.AppendUint16(b, s.Flags)
	return binary.BigEndian.AppendUint64(b, s.Size)
}

func decodeSectionHeader(b []byte) sectionHeader {
	return sectionHeader{
		Type:  SectionType(binary.BigEndian.Uint16(b)),
		Flags: binary.BigEndian.Uint16(b[2:]),
		Size:  binary.BigEndian.Uint64(b[4:]),
	}
}
