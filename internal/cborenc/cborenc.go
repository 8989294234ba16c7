// Package cborenc writes the few CBOR items that must come out byte for byte
// as another implementation frames them — the NSM's attestation documents,
// nitro-cli's EIF signatures, COSE Sig_structures — where a general encoder
// would be free to choose. Heads are always in the shortest form (RFC 8949
// §4.2.1 preferred serialization).
package cborenc

// Major types (RFC 8949 §3.1).
const (
	MajorUint  = 0
	MajorNeg   = 1
	MajorBytes = 2
	MajorText  = 3
	MajorArray = 4
	MajorMap   = 5
)

// AppendHead appends the head of an item of the major type with argument n.
func AppendHead(b []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(b, m|byte(n))
	case n <= 0xff:
		return append(b, m|24, byte(n))
	case n <= 0xffff:
		return append(b, m|25, byte(n>>8), byte(n))
	case n <= 0xffffffff:
		return append(b, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32),
		byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// AppendText appends a definite-length text string.
func AppendText(b []byte, s string) []byte {
	return append(AppendHead(b, MajorText, uint64(len(s))), s...)
}

// AppendBytes appends a definite-length byte string.
func AppendBytes(b, v []byte) []byte {
	return append(AppendHead(b, MajorBytes, uint64(len(v))), v...)
}

// SigStructure1 returns the COSE_Sign1 Sig_structure (RFC 9052 §4.4) with an
// empty external AAD: ["Signature1", protected, h”, payload].
func SigStructure1(protected, payload []byte) []byte {
	b := make([]byte, 0, 32+len(protected)+len(payload))
	b = AppendHead(b, MajorArray, 4)
	b = AppendText(b, "Signature1")
	b = AppendBytes(b, protected)
	b = AppendBytes(b, nil)
	return AppendBytes(b, payload)
}
