package eif

import (
	"crypto/sha512"
	"encoding/hex"
	"hash"
)

// PCRSize is the size of a Nitro PCR: SHA-384.
const PCRSize = sha512.Size384

// PCR is one platform configuration register value.
type PCR [PCRSize]byte

// String returns the lowercase hex form nitro-cli prints.
func (p PCR) String() string { return hex.EncodeToString(p[:]) }

// HashAlgorithm is the string nitro-cli prints as Measurements.HashAlgorithm
// (the Rust Debug form of its SHA-384 hasher).
const HashAlgorithm = "Sha384 { ... }"

// Measurements are the PCRs a Nitro hypervisor extends when it boots the image.
//
//   - PCR0: kernel, cmdline and every ramdisk, in file order.
//   - PCR1: kernel, cmdline and the first (boot) ramdisk.
//   - PCR2: every ramdisk after the first (the application).
//   - PCR8: the DER signing certificate; present only for signed images.
//
// Each is SHA-384(48 zero bytes ‖ SHA-384(data)), a single TPM-style extend
// of a zero register with the digest of the concatenated section data.
type Measurements struct {
	PCR0, PCR1, PCR2 PCR
	PCR8             PCR
	Signed           bool // PCR8 is meaningful
}

// Map returns the PCRs by index as fresh slices (PCR8 only when signed), the
// shape an attestation document's pcrs map has.
func (m Measurements) Map() map[int][]byte {
	out := map[int][]byte{0: clone(m.PCR0[:]), 1: clone(m.PCR1[:]), 2: clone(m.PCR2[:])}
	if m.Signed {
		out[8] = clone(m.PCR8[:])
	}
	return out
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// Extend returns SHA-384(48 zero bytes ‖ SHA-384(data)): the value a
// zero-initialised PCR holds after one extend with the digest of data.
func Extend(data []byte) PCR {
	d := sha512.Sum384(data)
	return extendDigest(d[:])
}

func extendDigest(digest []byte) PCR {
	h := sha512.New384()
	h.Write(make([]byte, PCRSize))
	h.Write(digest)
	var p PCR
	h.Sum(p[:0])
	return p
}

// pcrHasher accumulates the data measured into one PCR.
type pcrHasher struct{ h hash.Hash }

func newPCRHasher() pcrHasher                   { return pcrHasher{sha512.New384()} }
func (p pcrHasher) Write(b []byte) (int, error) { return p.h.Write(b) }
func (p pcrHasher) pcr() PCR                    { return extendDigest(p.h.Sum(nil)) }

// measurer feeds sections, in file order, to the PCR hashers exactly as
// nitro-cli's describe-eif does.
type measurer struct {
	pcr0, pcr1, pcr2 pcrHasher
	ramdisks         int
}

func newMeasurer() *measurer {
	return &measurer{pcr0: newPCRHasher(), pcr1: newPCRHasher(), pcr2: newPCRHasher()}
}

// writerFor returns where the data of a section of type t goes, or nil for
// sections that are not measured (metadata, signature).
func (m *measurer) writerFor(t SectionType) []pcrHasher {
	switch t {
	case SectionKernel, SectionCmdline:
		return []pcrHasher{m.pcr0, m.pcr1}
	case SectionRamdisk:
		m.ramdisks++
		if m.ramdisks == 1 {
			return []pcrHasher{m.pcr0, m.pcr1}
		}
		return []pcrHasher{m.pcr0, m.pcr2}
	}
	return nil
}

func (m *measurer) result() Measurements {
	return Measurements{PCR0: m.pcr0.pcr(), PCR1: m.pcr1.pcr(), PCR2: m.pcr2.pcr()}
}
