package attest

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Payload field names, in the order the NSM emits them.
var payloadKeys = [...]string{
	"module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle",
	"public_key", "user_data", "nonce",
}

// optionalKeys may be absent or CBOR null.
var optionalKeys = map[string]bool{"public_key": true, "user_data": true, "nonce": true}

// maxTimestampMillis is 9999-12-31T23:59:59.999Z.
const maxTimestampMillis = 253402300799999

// payload is the decoded, unverified document payload.
type payload struct {
	moduleID    string
	digest      string
	timestamp   uint64 // milliseconds since the Unix epoch
	pcrs        map[int][]byte
	certificate []byte
	cabundle    [][]byte
	publicKey   []byte
	userData    []byte
	nonce       []byte
}

// parsePayload decodes and checks every field of the payload map. It
// accepts the fields in any order but rejects unknown, duplicate and missing
// ones.
func parsePayload(data []byte) (*payload, error) {
	if major(data) != majorMap {
		return nil, fmt.Errorf("%w: not a CBOR map", ErrPayload)
	}
	var m map[string]cbor.RawMessage
	if err := decMode.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPayload, err)
	}
	known := make(map[string]bool, len(payloadKeys))
	for _, k := range payloadKeys {
		known[k] = true
		if _, ok := m[k]; !ok && !optionalKeys[k] {
			return nil, fmt.Errorf("%w: missing %s", ErrPayload, k)
		}
	}
	for k := range m {
		if !known[k] {
			return nil, fmt.Errorf("%w: unknown field %q", ErrPayload, k)
		}
	}
	p := new(payload)
	var err error
	if p.moduleID, err = decodeText(m["module_id"]); err != nil {
		return nil, fmt.Errorf("%w: module_id: %v", ErrPayload, err)
	}
	if p.moduleID == "" || len(p.moduleID) > maxModuleID {
		return nil, fmt.Errorf("%w: module_id of %d bytes", ErrPayload, len(p.moduleID))
	}
	if p.digest, err = decodeText(m["digest"]); err != nil {
		return nil, fmt.Errorf("%w: digest: %v", ErrPayload, err)
	}
	if p.digest != "SHA384" {
		return nil, fmt.Errorf("%w: digest %q, want SHA384", ErrPayload, p.digest)
	}
	if major(m["timestamp"]) != majorUint {
		return nil, fmt.Errorf("%w: timestamp is not an unsigned integer", ErrPayload)
	}
	if err := decMode.Unmarshal(m["timestamp"], &p.timestamp); err != nil {
		return nil, fmt.Errorf("%w: timestamp: %v", ErrPayload, err)
	}
	if p.timestamp == 0 || p.timestamp > maxTimestampMillis {
		return nil, fmt.Errorf("%w: timestamp %d out of range", ErrPayload, p.timestamp)
	}
	if p.pcrs, err = decodePCRs(m["pcrs"]); err != nil {
		return nil, fmt.Errorf("%w: pcrs: %v", ErrPayload, err)
	}
	if p.certificate, err = decodeCert(m["certificate"]); err != nil {
		return nil, fmt.Errorf("%w: certificate: %v", ErrPayload, err)
	}
	if p.cabundle, err = decodeBundle(m["cabundle"]); err != nil {
		return nil, fmt.Errorf("%w: cabundle: %v", ErrPayload, err)
	}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"public_key", &p.publicKey}, {"user_data", &p.userData}, {"nonce", &p.nonce}} {
		if *f.dst, err = decodeOptional(m[f.name]); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrPayload, f.name, err)
		}
	}
	return p, nil
}

func decodeText(raw cbor.RawMessage) (string, error) {
	if major(raw) != majorText {
		return "", fmt.Errorf("not a text string")
	}
	var s string
	err := decMode.Unmarshal(raw, &s)
	return s, err
}

func decodePCRs(raw cbor.RawMessage) (map[int][]byte, error) {
	if major(raw) != majorMap {
		return nil, fmt.Errorf("not a map")
	}
	var m map[uint64]cbor.RawMessage
	if err := decMode.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	if len(m) == 0 || len(m) > MaxPCRs {
		return nil, fmt.Errorf("%d PCRs, want 1..%d", len(m), MaxPCRs)
	}
	out := make(map[int][]byte, len(m))
	for i, v := range m {
		if i >= MaxPCRs {
			return nil, fmt.Errorf("index %d out of range 0..%d", i, MaxPCRs-1)
		}
		b, err := decodeBytes(v)
		if err != nil {
			return nil, fmt.Errorf("pcr %d: %v", i, err)
		}
		if n := len(b); n != 32 && n != 48 && n != 64 {
			return nil, fmt.Errorf("pcr %d is %d bytes, want 32, 48 or 64", i, n)
		}
		out[int(i)] = b
	}
	if _, ok := out[0]; !ok {
		return nil, fmt.Errorf("PCR0 missing")
	}
	return out, nil
}

func decodeCert(raw cbor.RawMessage) ([]byte, error) {
	b, err := decodeBytes(raw)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 || len(b) > MaxCertificateSize {
		return nil, fmt.Errorf("%d bytes, want 1..%d", len(b), MaxCertificateSize)
	}
	return b, nil
}

func decodeBundle(raw cbor.RawMessage) ([][]byte, error) {
	if major(raw) != majorArray {
		return nil, fmt.Errorf("not an array")
	}
	var items []cbor.RawMessage
	if err := decMode.Unmarshal(raw, &items); err != nil {
		return nil, err
	}
	if len(items) == 0 || len(items) > MaxCABundle {
		return nil, fmt.Errorf("%d certificates, want 1..%d", len(items), MaxCABundle)
	}
	out := make([][]byte, len(items))
	for i, it := range items {
		b, err := decodeCert(it)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", i, err)
		}
		out[i] = b
	}
	return out, nil
}

// decodeOptional decodes an absent field or CBOR null to nil, and a byte
// string of at most MaxFieldSize bytes to itself.
func decodeOptional(raw cbor.RawMessage) ([]byte, error) {
	if raw == nil || (len(raw) == 1 && raw[0] == cborNull) {
		return nil, nil
	}
	b, err := decodeBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("%v (want a byte string or null)", err)
	}
	if len(b) > MaxFieldSize {
		return nil, fmt.Errorf("%d bytes exceeds %d", len(b), MaxFieldSize)
	}
	return b, nil
}
