package attest

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/facesign/facesign/internal/cborenc"
)

// Limits of the decoder. A Nitro document is about 4.5 KiB; the NSM's own
// response buffer is 12 KiB.
const (
	// MaxDocumentSize is the largest document [Verify] decodes.
	MaxDocumentSize = 32 << 10
	// MaxCertificateSize bounds each DER certificate in a document.
	MaxCertificateSize = 4 << 10
	// MaxCABundle bounds the number of certificates in the cabundle.
	MaxCABundle = 8
	// MaxPCRs is the number of PCR indices a document may carry (0..31).
	MaxPCRs = 32
	// maxModuleID bounds the module_id string.
	maxModuleID = 256
)

// COSE constants (RFC 9052).
const (
	coseTagSign1    = 0xd2 // tag 18, one-byte head
	coseHeaderAlg   = 1
	coseAlgES384    = -35
	es384SigSize    = 96 // r ‖ s, 48 bytes each
	sigContextSign1 = "Signature1"
)

// decMode is strict: definite lengths only, no tags, no duplicate map keys,
// unknown struct fields rejected, case-sensitive field names, and small
// nesting / element limits. Input size is bounded by the callers, and the
// decoder checks well-formedness (so declared lengths cannot exceed the
// input) before it allocates.
var decMode = mustDecMode(cbor.DecOptions{
	DupMapKey:          cbor.DupMapKeyEnforcedAPF,
	IndefLength:        cbor.IndefLengthForbidden,
	TagsMd:             cbor.TagsForbidden,
	MaxNestedLevels:    4,
	MaxArrayElements:   64,
	MaxMapPairs:        64,
	UTF8:               cbor.UTF8RejectInvalid,
	FieldNameMatching:  cbor.FieldNameMatchingCaseSensitive,
	ExtraReturnErrors:  cbor.ExtraDecErrorUnknownField,
	ByteStringToString: cbor.ByteStringToStringForbidden,
})

func mustDecMode(o cbor.DecOptions) cbor.DecMode {
	m, err := o.DecMode()
	if err != nil {
		panic("attest: bad cbor options: " + err.Error())
	}
	return m
}

// CBOR major types (RFC 8949 §3.1).
const (
	majorUint  = cborenc.MajorUint
	majorBytes = cborenc.MajorBytes
	majorText  = cborenc.MajorText
	majorArray = cborenc.MajorArray
	majorMap   = cborenc.MajorMap
	cborNull   = 0xf6
)

func major(raw cbor.RawMessage) int {
	if len(raw) == 0 {
		return -1
	}
	return int(raw[0] >> 5)
}

// coseSign1 is a decoded COSE_Sign1 whose structure, but not signature, has
// been checked.
type coseSign1 struct {
	protected []byte
	payload   []byte
	signature []byte
}

type rawSign1 struct {
	_           struct{} `cbor:",toarray"`
	Protected   cbor.RawMessage
	Unprotected cbor.RawMessage
	Payload     cbor.RawMessage
	Signature   cbor.RawMessage
}

// parseSign1 decodes an untagged or tag-18 COSE_Sign1 with the header rules
// of a Nitro document: protected header exactly {1: -35}, empty unprotected
// header, attached payload, 96-byte signature.
func parseSign1(data []byte) (*coseSign1, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty document", ErrCOSE)
	}
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: document of %d bytes exceeds %d", ErrCOSE, len(data), MaxDocumentSize)
	}
	if data[0] == coseTagSign1 {
		data = data[1:]
	}
	if major(data) != majorArray {
		return nil, fmt.Errorf("%w: not a CBOR array", ErrCOSE)
	}
	var r rawSign1
	if err := decMode.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCOSE, err)
	}
	protected, err := decodeBytes(r.Protected)
	if err != nil {
		return nil, fmt.Errorf("%w: protected header: %v", ErrCOSE, err)
	}
	if err := checkProtected(protected); err != nil {
		return nil, err
	}
	if !bytes.Equal(r.Unprotected, []byte{0xa0}) {
		return nil, fmt.Errorf("%w: unprotected header must be an empty map", ErrCOSE)
	}
	payload, err := decodeBytes(r.Payload)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrCOSE, err)
	}
	if len(payload) == 0 {
		return nil, fmt.Errorf("%w: empty payload", ErrCOSE)
	}
	sig, err := decodeBytes(r.Signature)
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrCOSE, err)
	}
	if len(sig) != es384SigSize {
		return nil, fmt.Errorf("%w: ES384 signature is %d bytes, want %d", ErrCOSE, len(sig), es384SigSize)
	}
	// The signature covers only the protected header and the payload, so
	// the framing around them must be the one canonical encoding: otherwise
	// one signed document would have many byte strings.
	canon := make([]byte, 0, len(data))
	canon = append(canon, 0x84)
	canon = cborenc.AppendHead(canon, majorBytes, uint64(len(protected)))
	canon = append(canon, protected...)
	canon = append(canon, 0xa0)
	canon = cborenc.AppendHead(canon, majorBytes, uint64(len(payload)))
	canon = append(canon, payload...)
	canon = cborenc.AppendHead(canon, majorBytes, uint64(len(sig)))
	canon = append(canon, sig...)
	if !bytes.Equal(canon, data) {
		return nil, fmt.Errorf("%w: non-canonical COSE_Sign1 framing", ErrCOSE)
	}
	return &coseSign1{protected: protected, payload: payload, signature: sig}, nil
}

// checkProtected accepts only the serialized map {1: -35}.
func checkProtected(p []byte) error {
	if major(p) != majorMap {
		return fmt.Errorf("%w: protected header is not a map", ErrCOSE)
	}
	var m map[int64]cbor.RawMessage
	if err := decMode.Unmarshal(p, &m); err != nil {
		return fmt.Errorf("%w: protected header: %v", ErrCOSE, err)
	}
	alg, ok := m[coseHeaderAlg]
	if !ok {
		return fmt.Errorf("%w: protected header has no alg", ErrAlgorithm)
	}
	var a int64
	if err := decMode.Unmarshal(alg, &a); err != nil || a != coseAlgES384 {
		return fmt.Errorf("%w: alg %x, want ES384 (-35)", ErrAlgorithm, []byte(alg))
	}
	if len(m) != 1 {
		return fmt.Errorf("%w: protected header has parameters besides alg", ErrCOSE)
	}
	return nil
}

// decodeBytes decodes a definite-length CBOR byte string (not null).
func decodeBytes(raw cbor.RawMessage) ([]byte, error) {
	if major(raw) != majorBytes {
		return nil, errors.New("not a byte string")
	}
	var b []byte
	if err := decMode.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	if b == nil {
		b = []byte{}
	}
	return b, nil
}
