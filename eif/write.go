package eif

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"time"
)

// Arch is the CPU architecture recorded in the header flags.
type Arch uint8

// Architectures.
const (
	ArchX86_64 Arch = iota
	ArchAArch64
)

// Input is everything an image is built from. Build reads nothing else: no
// clock, no environment, no file system, so the same Input always gives the
// same bytes.
type Input struct {
	Kernel   []byte   // bzImage (x86_64) or Image (aarch64)
	Cmdline  string   // kernel command line, without NUL
	Ramdisks [][]byte // ramdisk[0] is the boot ramdisk (init, nsm.ko); the rest are the application

	Arch          Arch
	DefaultMemory uint64 // 0 means DefaultMemory (what nitro-cli writes)
	DefaultCPUs   uint64 // 0 means DefaultCPUs

	// Metadata section (nitro-cli's EifIdentityInfo).
	Name, Version    string
	BuildTime        time.Time // required: a fixed time (e.g. SOURCE_DATE_EPOCH) keeps builds reproducible
	BuildTool        string
	BuildToolVersion string
	OperatingSystem  string // see KernelInfo
	KernelVersion    string
	DockerInfo       json.RawMessage // nil writes null
	CustomMetadata   json.RawMessage // nil writes null

	// Signer, when set, adds a signature section over PCR0 so PCR8 appears.
	Signer *Signer
}

// Build writes the image described by in to w, section order as nitro-cli
// writes it: kernel, cmdline, metadata, ramdisks, signature. It returns the
// image's measurements. Build is deterministic: equal inputs give equal bytes.
func Build(w io.Writer, in *Input) (Measurements, error) {
	b, m, err := build(in)
	if err != nil {
		return Measurements{}, err
	}
	if _, err := w.Write(b); err != nil {
		return Measurements{}, fmt.Errorf("eif: writing image: %w", err)
	}
	return m, nil
}

// rawSection is a section to assemble.
type rawSection struct {
	typ   SectionType
	flags uint16
	data  []byte
}

func build(in *Input) ([]byte, Measurements, error) {
	if in == nil || len(in.Kernel) == 0 {
		return nil, Measurements{}, fmt.Errorf("%w: no kernel", ErrInput)
	}
	if len(in.Ramdisks) == 0 {
		return nil, Measurements{}, fmt.Errorf("%w: no ramdisk", ErrInput)
	}
	for i, r := range in.Ramdisks {
		if len(r) == 0 {
			return nil, Measurements{}, fmt.Errorf("%w: ramdisk %d is empty", ErrInput, i)
		}
	}
	if bytes.IndexByte([]byte(in.Cmdline), 0) >= 0 {
		return nil, Measurements{}, fmt.Errorf("%w: contains NUL", ErrCmdline)
	}
	if len(in.Cmdline) > maxCmdlineSection {
		return nil, Measurements{}, fmt.Errorf("%w: cmdline is %d bytes, limit %d", ErrInput, len(in.Cmdline), maxCmdlineSection)
	}
	bt, err := FormatBuildTime(in.BuildTime)
	if err != nil {
		return nil, Measurements{}, err
	}
	md := Metadata{
		ImageName:    in.Name,
		ImageVersion: in.Version,
		BuildMetadata: BuildMetadata{
			BuildTime:        bt,
			BuildTool:        in.BuildTool,
			BuildToolVersion: in.BuildToolVersion,
			OperatingSystem:  in.OperatingSystem,
			KernelVersion:    in.KernelVersion,
		},
		DockerInfo:     in.DockerInfo,
		CustomMetadata: in.CustomMetadata,
	}
	mdBytes, err := md.marshal()
	if err != nil {
		return nil, Measurements{}, err
	}
	if len(mdBytes) > maxMetadataSection {
		return nil, Measurements{}, fmt.Errorf("%w: metadata is %d bytes, limit %d", ErrInput, len(mdBytes), maxMetadataSection)
	}

	secs := []rawSection{
		{typ: SectionKernel, data: in.Kernel},
		{typ: SectionCmdline, data: []byte(in.Cmdline)},
		{typ: SectionMetadata, data: mdBytes},
	}
	for _, r := range in.Ramdisks {
		secs = append(secs, rawSection{typ: SectionRamdisk, data: r})
	}
	if len(secs)+1 > MaxSections {
		return nil, Measurements{}, fmt.Errorf("%w: %d sections, limit %d", ErrInput, len(secs)+1, MaxSections)
	}

	mr := newMeasurer()
	for _, s := range secs {
		for _, h := range mr.writerFor(s.typ) {
			h.Write(s.data)
		}
	}
	m := mr.result()
	if in.Signer != nil {
		sig, err := in.Signer.section(m.PCR0)
		if err != nil {
			return nil, Measurements{}, err
		}
		secs = append(secs, rawSection{typ: SectionSignature, data: sig})
		m.PCR8 = in.Signer.PCR8()
		m.Signed = true
	}

	h := Header{Version: CurrentVersion, DefaultMemory: in.DefaultMemory, DefaultCPUs: in.DefaultCPUs}
	if h.DefaultMemory == 0 {
		h.DefaultMemory = DefaultMemory
	}
	if h.DefaultCPUs == 0 {
		h.DefaultCPUs = DefaultCPUs
	}
	switch in.Arch {
	case ArchX86_64:
	case ArchAArch64:
		h.Flags |= FlagARM64
	default:
		return nil, Measurements{}, fmt.Errorf("%w: unknown architecture %d", ErrInput, in.Arch)
	}
	return assemble(h, secs), m, nil
}

// assemble lays out h and secs contiguously, fills the section table and the CRC.
func assemble(h Header, secs []rawSection) []byte {
	total := HeaderSize
	for _, s := range secs {
		total += SectionHeaderSize + len(s.data)
	}
	h.SectionCount = uint16(len(secs))
	h.SectionOffsets = [MaxSections]uint64{}
	h.SectionSizes = [MaxSections]uint64{}
	pos := uint64(HeaderSize)
	for i, s := range secs {
		h.SectionOffsets[i] = pos
		h.SectionSizes[i] = uint64(len(s.data))
		pos += SectionHeaderSize + uint64(len(s.data))
	}
	h.CRC32 = 0
	out, _ := h.AppendBinary(make([]byte, 0, total))
	for _, s := range secs {
		out = sectionHeader{Type: s.typ, Flags: s.flags, Size: uint64(len(s.data))}.append(out)
		out = append(out, s.data...)
	}
	crc := crc32.NewIEEE()
	crc.Write(out[:crcOffset])
	crc.Write(out[HeaderSize:])
	c := crc.Sum32()
	out[crcOffset], out[crcOffset+1], out[crcOffset+2], out[crcOffset+3] = byte(c>>24), byte(c>>16), byte(c>>8), byte(c)
	return out
}
