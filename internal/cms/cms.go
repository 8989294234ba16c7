package cms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
)

var (
	// ErrUnsupported reports a well-formed message using algorithms other
	// than RSAES-OAEP with SHA-256/MGF1-SHA-256 and AES-256-CBC.
	ErrUnsupported = errors.New("cms: unsupported algorithm")
	// ErrDecrypt reports a message that does not decrypt under the key.
	ErrDecrypt = errors.New("cms: decryption failed")
)

var (
	oidEnvelopedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidRSAESOAEP     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	oidMGF1          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

// MaxMessage bounds the messages Decrypt reads.
const MaxMessage = 1 << 20

// Envelope is the parsed content of an EnvelopedData with one key-transport
// recipient.
type Envelope struct {
	// SubjectKeyID is the recipient's subjectKeyIdentifier, if it is named
	// that way (AWS KMS does); nil for issuerAndSerialNumber.
	SubjectKeyID []byte
	EncryptedKey []byte
	IV           []byte
	Ciphertext   []byte
}

// Parse reads a BER or DER ContentInfo holding EnvelopedData whose single
// recipient uses RSAES-OAEP (SHA-256, MGF1-SHA-256) and whose content is
// AES-256-CBC encrypted, the shape AWS KMS returns as CiphertextForRecipient.
func Parse(msg []byte) (*Envelope, error) {
	if len(msg) > MaxMessage {
		return nil, malformed("message of %d bytes exceeds %d", len(msg), MaxMessage)
	}
	ci, err := parseBER(msg)
	if err != nil {
		return nil, err
	}
	if !ci.is(0, tagSequence) || len(ci.children) != 2 {
		return nil, malformed("ContentInfo is not a two-element sequence")
	}
	if err := expectOID(ci.children[0], oidEnvelopedData); err != nil {
		return nil, err
	}
	wrap := ci.children[1]
	if !wrap.is(2, 0) || !wrap.constructed || len(wrap.children) != 1 {
		return nil, malformed("ContentInfo content is not [0] EXPLICIT")
	}
	ed := wrap.children[0]
	if !ed.is(0, tagSequence) || len(ed.children) < 3 {
		return nil, malformed("EnvelopedData is not a sequence")
	}
	fields := ed.children
	version, ok := smallInt(fields[0])
	if !ok {
		return nil, malformed("EnvelopedData version missing")
	}
	fields = fields[1:]
	if fields[0].is(2, 0) { // originatorInfo: not used by KMS, skipped
		fields = fields[1:]
	}
	if len(fields) < 2 {
		return nil, malformed("EnvelopedData too short")
	}
	ris := fields[0]
	if !ris.is(0, tagSet) || len(ris.children) != 1 {
		return nil, malformed("want exactly one RecipientInfo, have %d", len(ris.children))
	}
	env := &Envelope{}
	if err := parseKeyTrans(ris.children[0], env); err != nil {
		return nil, err
	}
	if err := parseContent(fields[1], env); err != nil {
		return nil, err
	}
	// RFC 5652 §6.1: version 0 when every recipient is named by issuer and
	// serial number (and nothing else is present), 2 with a key identifier.
	want := 0
	if env.SubjectKeyID != nil || len(fields) > 2 || len(ed.children)-1 != len(fields) {
		want = 2
	}
	if version != want {
		return nil, malformed("EnvelopedData version %d, want %d", version, want)
	}
	return env, nil
}

func parseKeyTrans(ri element, env *Envelope) error {
	if !ri.is(0, tagSequence) || len(ri.children) != 4 {
		return malformed("RecipientInfo is not a KeyTransRecipientInfo")
	}
	version, ok := smallInt(ri.children[0])
	rid := ri.children[1]
	switch {
	case !ok:
		return malformed("KeyTransRecipientInfo version missing")
	case rid.is(2, 0) && !rid.constructed && version == 2:
		env.SubjectKeyID = rid.value
		if env.SubjectKeyID == nil {
			env.SubjectKeyID = []byte{}
		}
	case rid.is(0, tagSequence) && version == 0:
		// issuerAndSerialNumber: the caller holds one key, nothing to match.
	default:
		return malformed("recipient identifier does not match version %d", version)
	}
	alg := ri.children[2]
	if err := checkOAEP(alg); err != nil {
		return err
	}
	ek := ri.children[3]
	if !ek.is(0, tagOctetString) {
		return malformed("encryptedKey is not an octet string")
	}
	b, err := ek.octets()
	if err != nil {
		return err
	}
	env.EncryptedKey = b
	return nil
}

// checkOAEP accepts RSAES-OAEP with SHA-256 and MGF1-SHA-256 only (the
// parameters' defaults would mean SHA-1, which is refused).
func checkOAEP(alg element) error {
	if !alg.is(0, tagSequence) || len(alg.children) != 2 {
		return fmt.Errorf("%w: key encryption algorithm without RSAES-OAEP parameters", ErrUnsupported)
	}
	if err := expectOID(alg.children[0], oidRSAESOAEP); err != nil {
		return fmt.Errorf("%w: key encryption is not RSAES-OAEP", ErrUnsupported)
	}
	params := alg.children[1]
	if !params.is(0, tagSequence) {
		return malformed("RSAES-OAEP parameters are not a sequence")
	}
	var hashOK, mgfOK bool
	for _, p := range params.children {
		if len(p.children) != 1 {
			return malformed("RSAES-OAEP parameter is not explicitly tagged")
		}
		inner := p.children[0]
		switch {
		case p.is(2, 0):
			hashOK = isSHA256(inner)
		case p.is(2, 1):
			mgfOK = algorithmIs(inner, oidMGF1) && len(inner.children) == 2 && isSHA256(inner.children[1])
		case p.is(2, 2):
			// pSourceAlgorithm: only the default (empty label) is produced by KMS.
			return fmt.Errorf("%w: RSAES-OAEP with a label", ErrUnsupported)
		}
	}
	if !hashOK || !mgfOK {
		return fmt.Errorf("%w: RSAES-OAEP must use SHA-256 and MGF1-SHA-256", ErrUnsupported)
	}
	return nil
}

// isSHA256 accepts the SHA-256 AlgorithmIdentifier with absent or NULL parameters.
func isSHA256(alg element) bool {
	if !algorithmIs(alg, oidSHA256) {
		return false
	}
	switch len(alg.children) {
	case 1:
		return true
	case 2:
		p := alg.children[1]
		return p.is(0, tagNull) && !p.constructed && len(p.value) == 0
	}
	return false
}

// smallInt reads a one-byte non-negative INTEGER (CMS versions).
func smallInt(e element) (int, bool) {
	if !e.is(0, tagInteger) || e.constructed || len(e.value) != 1 || e.value[0] > 0x7f {
		return 0, false
	}
	return int(e.value[0]), true
}

func algorithmIs(alg element, oid asn1.ObjectIdentifier) bool {
	return alg.is(0, tagSequence) && len(alg.children) >= 1 && expectOID(alg.children[0], oid) == nil
}

func parseContent(eci element, env *Envelope) error {
	if !eci.is(0, tagSequence) || len(eci.children) != 3 {
		return malformed("EncryptedContentInfo has no encrypted content")
	}
	if err := expectOID(eci.children[0], oidData); err != nil {
		return err
	}
	alg := eci.children[1]
	if !algorithmIs(alg, oidAES256CBC) || len(alg.children) != 2 {
		return fmt.Errorf("%w: content encryption is not AES-256-CBC", ErrUnsupported)
	}
	iv := alg.children[1]
	if !iv.is(0, tagOctetString) || iv.constructed || len(iv.value) != aes.BlockSize {
		return malformed("AES-256-CBC IV is not a 16-byte octet string")
	}
	env.IV = iv.value
	ct := eci.children[2]
	if !ct.is(2, 0) {
		return malformed("encryptedContent is not [0] IMPLICIT")
	}
	b, err := ct.octets()
	if err != nil {
		return err
	}
	if len(b) == 0 || len(b)%aes.BlockSize != 0 {
		return malformed("encrypted content of %d bytes is not whole AES blocks", len(b))
	}
	env.Ciphertext = b
	return nil
}

func expectOID(e element, want asn1.ObjectIdentifier) error {
	if !e.is(0, tagOID) || e.constructed {
		return malformed("expected an object identifier")
	}
	var got asn1.ObjectIdentifier
	der := append([]byte{tagOID, byte(len(e.value))}, e.value...)
	if len(e.value) > 127 {
		return malformed("object identifier too long")
	}
	if rest, err := asn1.Unmarshal(der, &got); err != nil || len(rest) != 0 {
		return malformed("bad object identifier")
	}
	if !got.Equal(want) {
		return malformed("object identifier %v, want %v", got, want)
	}
	return nil
}

// Decrypt opens msg with key and returns the content.
func Decrypt(msg []byte, key *rsa.PrivateKey) ([]byte, error) {
	env, err := Parse(msg)
	if err != nil {
		return nil, err
	}
	cek, err := rsa.DecryptOAEP(sha256.New(), nil, key, env.EncryptedKey, nil)
	if err != nil || len(cek) != 32 {
		return nil, fmt.Errorf("%w: content key does not unwrap", ErrDecrypt)
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	out := make([]byte, len(env.Ciphertext))
	cipher.NewCBCDecrypter(block, env.IV).CryptBlocks(out, env.Ciphertext)
	pad := int(out[len(out)-1])
	if pad == 0 || pad > aes.BlockSize || pad > len(out) {
		return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
	}
	if subtle.ConstantTimeCompare(out[len(out)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) != 1 {
		return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
	}
	return out[:len(out)-pad], nil
}

// Encrypt seals plaintext to pub the way AWS KMS answers a Recipient: a BER
// (indefinite-length) ContentInfo with EnvelopedData, one
// KeyTransRecipientInfo named by subjectKeyID using RSAES-OAEP-SHA-256, and
// AES-256-CBC content in 16-byte octet string chunks. Randomness comes from rand.
func Encrypt(rand io.Reader, pub *rsa.PublicKey, subjectKeyID, plaintext []byte) ([]byte, error) {
	cek := make([]byte, 32)
	iv := make([]byte, aes.BlockSize)
	if _, err := io.ReadFull(rand, cek); err != nil {
		return nil, err
	}
	if _, err := io.ReadFull(rand, iv); err != nil {
		return nil, err
	}
	ek, err := rsa.EncryptOAEP(sha256.New(), rand, pub, cek, nil)
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	padded := append(append([]byte{}, plaintext...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)

	sha256Alg := der(0x30, der(tagOID, oidBytes(oidSHA256)), der(tagNull))
	oaep := der(0x30,
		der(tagOID, oidBytes(oidRSAESOAEP)),
		der(0x30,
			der(0xa0, sha256Alg),
			der(0xa1, der(0x30, der(tagOID, oidBytes(oidMGF1)), sha256Alg))))
	ktri := der(0x30, der(tagInteger, []byte{2}), der(0x80, subjectKeyID), oaep, der(tagOctetString, ek))
	var chunks [][]byte
	for i := 0; i < len(ct); i += aes.BlockSize {
		chunks = append(chunks, der(tagOctetString, ct[i:i+aes.BlockSize]))
	}
	eci := indef(0x30,
		der(tagOID, oidBytes(oidData)),
		der(0x30, der(tagOID, oidBytes(oidAES256CBC)), der(tagOctetString, iv)),
		indef(0xa0, chunks...))
	ed := indef(0x30, der(tagInteger, []byte{2}), der(0x31, ktri), eci)
	return indef(0x30, der(tagOID, oidBytes(oidEnvelopedData)), indef(0xa0, ed)), nil
}

func oidBytes(oid asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(oid)
	if err != nil {
		panic(err)
	}
	return b[2:]
}

// der encodes a definite-length TLV whose content is the concatenation of parts.
func der(tag byte, parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	out := []byte{tag}
	switch n := len(body); {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, body...)
}

// indef encodes a constructed, indefinite-length TLV.
func indef(tag byte, parts ...[]byte) []byte {
	out := append([]byte{tag, 0x80}, bytes.Join(parts, nil)...)
	return append(out, 0, 0)
}
