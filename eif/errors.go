package eif

import (
	"errors"
	"fmt"
)

// Failure classes. Every error returned by this package wraps exactly one of
// them (test with [errors.Is]); errors about one section are also a
// [*SectionError] (test with [errors.As]).
var (
	// ErrTruncated: the file ends inside the header, a section header or a section.
	ErrTruncated = errors.New("eif: truncated image")
	// ErrTooLarge: the image or one section is larger than the configured limit.
	ErrTooLarge = errors.New("eif: image or section too large")
	// ErrBadMagic: the file does not start with ".eif".
	ErrBadMagic = errors.New("eif: bad magic")
	// ErrUnsupportedVersion: the header version is 0 or newer than [CurrentVersion].
	ErrUnsupportedVersion = errors.New("eif: unsupported version")
	// ErrSectionCount: the header declares no sections or more than [MaxSections].
	ErrSectionCount = errors.New("eif: bad section count")
	// ErrSectionType: a section header carries the invalid type 0 or an unknown type.
	ErrSectionType = errors.New("eif: unknown section type")
	// ErrOverlap: a section starts before the previous one ends.
	ErrOverlap = errors.New("eif: overlapping sections")
	// ErrLayout: the header's offset/size tables disagree with the section headers,
	// leave a gap between sections, or have entries past the section count.
	ErrLayout = errors.New("eif: inconsistent section layout")
	// ErrTrailingData: bytes follow the last section.
	ErrTrailingData = errors.New("eif: trailing data after the last section")
	// ErrMissingSection: no kernel, no cmdline or no ramdisk.
	ErrMissingSection = errors.New("eif: required section missing")
	// ErrDuplicateSection: more than one kernel, cmdline, metadata or signature section.
	ErrDuplicateSection = errors.New("eif: duplicate section")
	// ErrCmdline: the kernel command line contains a NUL byte.
	ErrCmdline = errors.New("eif: invalid kernel command line")
	// ErrMetadata: the metadata section is not the JSON object nitro-cli writes.
	ErrMetadata = errors.New("eif: invalid metadata")
	// ErrSignatureFormat: the signature section, its certificate or its COSE_Sign1 cannot be decoded.
	ErrSignatureFormat = errors.New("eif: malformed signature section")
	// ErrSignatureInvalid: the COSE_Sign1 signature does not verify under the certificate's key.
	ErrSignatureInvalid = errors.New("eif: signature does not verify")
	// ErrSignatureMismatch: the signed payload is not this image's PCR0.
	ErrSignatureMismatch = errors.New("eif: signature is not over this image's PCR0")
	// ErrCertificateTime: the signing certificate is not valid at the verification time.
	ErrCertificateTime = errors.New("eif: signing certificate not valid at verification time")
	// ErrUnsigned: the image has no signature section.
	ErrUnsigned = errors.New("eif: image is not signed")
	// ErrCRCMismatch: the header CRC does not match the image.
	ErrCRCMismatch = errors.New("eif: CRC mismatch")
	// ErrInput: the writer or ramdisk builder was given unusable input.
	ErrInput = errors.New("eif: invalid input")
)

// SectionError reports a problem with one section. Err wraps one of the
// package's sentinel errors.
type SectionError struct {
	Index  int         // position in the header's section table
	Offset int64       // file offset of the section header
	Type   SectionType // as read from the section header, if it could be read
	Err    error
}

func (e *SectionError) Error() string {
	return fmt.Sprintf("section %d (%s at offset %d): %v", e.Index, e.Type, e.Offset, e.Err)
}

func (e *SectionError) Unwrap() error { return e.Err }
