package wire

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// HPKE algorithm identifiers (RFC 9180 §7 and draft-ietf-hpke-pq).
const (
	KEMX25519HKDFSHA256  uint16 = 0x0020
	KEMMLKEM768X25519    uint16 = 0x647a
	KDFHKDFSHA256        uint16 = 0x0001
	AEADAES128GCM        uint16 = 0x0001
	AEADAES256GCM        uint16 = 0x0002
	AEADChaCha20Poly1305 uint16 = 0x0003
)

// Media types of the encapsulated messages (RFC 9458 §9).
const (
	MediaTypeRequest  = "message/ohttp-req"
	MediaTypeResponse = "message/ohttp-res"
	MediaTypeKeys     = "application/ohttp-keys"
	MediaTypeCBOR     = "application/cbor"
)

// Labels FaceSign uses in place of RFC 9458's "message/bhttp request" and
// "message/bhttp response". The request label is followed by a space and the
// route, so that a request sealed for one route does not open on another.
const (
	RequestLabel  = "message/facesign-v1 request"
	ResponseLabel = "message/facesign-v1 response"
)

// Envelope errors. Each is one failure class of a message the client or the
// parent sent before the envelope opened; none of them reveals anything about
// the plaintext.
var (
	// ErrBadEnvelope reports bytes that are not an encapsulated message or a key configuration.
	ErrBadEnvelope = errors.New("wire: malformed envelope")
	// ErrUnknownKeyID reports a request sealed to a key this gateway does not hold.
	ErrUnknownKeyID = errors.New("wire: unknown key id")
	// ErrUnsupportedSuite reports a KEM, KDF or AEAD this side does not accept.
	ErrUnsupportedSuite = errors.New("wire: unsupported hpke suite")
	// ErrDecrypt reports an envelope whose authentication failed.
	ErrDecrypt = errors.New("wire: envelope does not decrypt")
)

// SymmetricSuite is one (KDF, AEAD) pair a key configuration offers.
type SymmetricSuite struct {
	KDF  uint16
	AEAD uint16
}

// KeyConfig is an RFC 9458 §3 key configuration:
//
//	key_id(8) kem_id(16) public_key(Npk) symmetric_algorithms_length(16) (kdf_id(16) aead_id(16))...
type KeyConfig struct {
	KeyID     uint8
	KEM       uint16
	PublicKey []byte
	Suites    []SymmetricSuite
}

// publicKeySize is Npk per KEM; encSize is Nenc.
func kemSizes(kem uint16) (npk, nenc int, ok bool) {
	switch kem {
	case KEMX25519HKDFSHA256:
		return 32, 32, true
	case KEMMLKEM768X25519:
		return 1216, 1120, true
	}
	return 0, 0, false
}

// MarshalBinary encodes c per RFC 9458 §3.
func (c KeyConfig) MarshalBinary() ([]byte, error) {
	npk, _, ok := kemSizes(c.KEM)
	if !ok {
		return nil, fmt.Errorf("%w: kem 0x%04x", ErrUnsupportedSuite, c.KEM)
	}
	if len(c.PublicKey) != npk {
		return nil, fmt.Errorf("%w: public key is %d bytes, want %d", ErrBadEnvelope, len(c.PublicKey), npk)
	}
	if len(c.Suites) == 0 || len(c.Suites)*4 > 0xfffc {
		return nil, fmt.Errorf("%w: %d symmetric suites", ErrBadEnvelope, len(c.Suites))
	}
	b := make([]byte, 0, 3+npk+2+4*len(c.Suites))
	b = append(b, c.KeyID)
	b = binary.BigEndian.AppendUint16(b, c.KEM)
	b = append(b, c.PublicKey...)
	b = binary.BigEndian.AppendUint16(b, uint16(4*len(c.Suites)))
	for _, s := range c.Suites {
		b = binary.BigEndian.AppendUint16(b, s.KDF)
		b = binary.BigEndian.AppendUint16(b, s.AEAD)
	}
	return b, nil
}

// ParseKeyConfig decodes exactly one RFC 9458 §3 key configuration; trailing
// bytes are an error. Only KEMs whose key size this package knows parse.
func ParseKeyConfig(b []byte) (KeyConfig, error) {
	if len(b) < 3 {
		return KeyConfig{}, fmt.Errorf("%w: key config of %d bytes", ErrBadEnvelope, len(b))
	}
	c := KeyConfig{KeyID: b[0], KEM: binary.BigEndian.Uint16(b[1:3])}
	npk, _, ok := kemSizes(c.KEM)
	if !ok {
		return KeyConfig{}, fmt.Errorf("%w: kem 0x%04x", ErrUnsupportedSuite, c.KEM)
	}
	rest := b[3:]
	if len(rest) < npk+2 {
		return KeyConfig{}, fmt.Errorf("%w: key config truncated", ErrBadEnvelope)
	}
	c.PublicKey = append([]byte(nil), rest[:npk]...)
	n := int(binary.BigEndian.Uint16(rest[npk : npk+2]))
	rest = rest[npk+2:]
	if n == 0 || n%4 != 0 || len(rest) != n {
		return KeyConfig{}, fmt.Errorf("%w: symmetric algorithms length %d with %d bytes left", ErrBadEnvelope, n, len(rest))
	}
	for i := 0; i < n; i += 4 {
		c.Suites = append(c.Suites, SymmetricSuite{
			KDF:  binary.BigEndian.Uint16(rest[i:]),
			AEAD: binary.BigEndian.Uint16(rest[i+2:]),
		})
	}
	return c, nil
}

// FaceSignSuite is the one suite FaceSign seals with: MLKEM768X25519,
// HKDF-SHA256, ChaCha20Poly1305.
var FaceSignSuite = SymmetricSuite{KDF: KDFHKDFSHA256, AEAD: AEADChaCha20Poly1305}

// offers reports whether c offers the FaceSign suite on the FaceSign KEM.
func (c KeyConfig) offers(kem uint16, s SymmetricSuite) bool {
	if c.KEM != kem {
		return false
	}
	for _, x := range c.Suites {
		if x == s {
			return true
		}
	}
	return false
}

// labels parameterise the RFC 9458 construction: FaceSign uses its own
// labels; the RFC's are kept for the known-answer test of Appendix A.
type labels struct {
	request  string // full request label, route included
	response string
}

func faceSignLabels(route string) (labels, error) {
	if err := checkRoute(route); err != nil {
		return labels{}, err
	}
	return labels{request: RequestLabel + " " + route, response: ResponseLabel}, nil
}

// ErrBadRoute reports a route that cannot be bound into a label.
var ErrBadRoute = errors.New("wire: route must be a printable ASCII path starting with /")

func checkRoute(r string) error {
	if len(r) == 0 || len(r) > 128 || r[0] != '/' {
		return ErrBadRoute
	}
	for i := 0; i < len(r); i++ {
		if r[i] <= 0x20 || r[i] >= 0x7f {
			return ErrBadRoute
		}
	}
	return nil
}

func header(keyID uint8, kem uint16, s SymmetricSuite) []byte {
	h := []byte{keyID}
	h = binary.BigEndian.AppendUint16(h, kem)
	h = binary.BigEndian.AppendUint16(h, s.KDF)
	return binary.BigEndian.AppendUint16(h, s.AEAD)
}

func info(l labels, hdr []byte) []byte {
	b := make([]byte, 0, len(l.request)+1+len(hdr))
	b = append(b, l.request...)
	b = append(b, 0)
	return append(b, hdr...)
}

func hpkeSuite(kem uint16, s SymmetricSuite) (hpke.KEM, hpke.KDF, hpke.AEAD, error) {
	k, err := hpke.NewKEM(kem)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: kem 0x%04x", ErrUnsupportedSuite, kem)
	}
	if s.KDF != KDFHKDFSHA256 {
		return nil, nil, nil, fmt.Errorf("%w: kdf 0x%04x", ErrUnsupportedSuite, s.KDF)
	}
	a, err := hpke.NewAEAD(s.AEAD)
	if err != nil || s.AEAD == 0xffff {
		return nil, nil, nil, fmt.Errorf("%w: aead 0x%04x", ErrUnsupportedSuite, s.AEAD)
	}
	return k, hpke.HKDFSHA256(), a, nil
}

// aeadSizes returns Nk and Nn.
func aeadSizes(id uint16) (nk, nn int) {
	switch id {
	case AEADAES128GCM:
		return 16, 12
	case AEADAES256GCM, AEADChaCha20Poly1305:
		return 32, 12
	}
	return 0, 0
}

func newAEAD(id uint16, key []byte) (cipher.AEAD, error) {
	switch id {
	case AEADAES128GCM, AEADAES256GCM:
		b, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		return cipher.NewGCM(b)
	case AEADChaCha20Poly1305:
		return chacha20poly1305.New(key)
	}
	return nil, fmt.Errorf("%w: aead 0x%04x", ErrUnsupportedSuite, id)
}

// Gateway opens encapsulated requests sealed to its key and seals the
// matching responses: the enclave's side of the envelope.
type Gateway struct {
	cfg   KeyConfig
	suite SymmetricSuite
	priv  hpke.PrivateKey
}

// NewGateway makes a gateway for priv under keyID offering suite s.
// FaceSign uses [FaceSignSuite] with an MLKEM768X25519 key.
func NewGateway(keyID uint8, priv hpke.PrivateKey, s SymmetricSuite) (*Gateway, error) {
	kem := priv.KEM().ID()
	if _, _, _, err := hpkeSuite(kem, s); err != nil {
		return nil, err
	}
	if _, _, ok := kemSizes(kem); !ok {
		return nil, fmt.Errorf("%w: kem 0x%04x", ErrUnsupportedSuite, kem)
	}
	cfg := KeyConfig{KeyID: keyID, KEM: kem, PublicKey: priv.PublicKey().Bytes(), Suites: []SymmetricSuite{s}}
	return &Gateway{cfg: cfg, suite: s, priv: priv}, nil
}

// KeyConfig returns the configuration clients seal to.
func (g *Gateway) KeyConfig() KeyConfig {
	c := g.cfg
	c.PublicKey = append([]byte(nil), c.PublicKey...)
	c.Suites = append([]SymmetricSuite(nil), c.Suites...)
	return c
}

// OpenRequest opens an encapsulated request sent to route. It returns the
// plaintext and the context that seals the one response to it.
func (g *Gateway) OpenRequest(route string, msg []byte) ([]byte, *ResponseSealer, error) {
	l, err := faceSignLabels(route)
	if err != nil {
		return nil, nil, err
	}
	return g.open(l, msg)
}

func (g *Gateway) open(l labels, msg []byte) ([]byte, *ResponseSealer, error) {
	if len(msg) < 7 {
		return nil, nil, fmt.Errorf("%w: %d bytes", ErrBadEnvelope, len(msg))
	}
	keyID := msg[0]
	kem := binary.BigEndian.Uint16(msg[1:3])
	s := SymmetricSuite{KDF: binary.BigEndian.Uint16(msg[3:5]), AEAD: binary.BigEndian.Uint16(msg[5:7])}
	if keyID != g.cfg.KeyID {
		return nil, nil, fmt.Errorf("%w: %d", ErrUnknownKeyID, keyID)
	}
	if kem != g.cfg.KEM || s != g.suite {
		return nil, nil, fmt.Errorf("%w: kem 0x%04x kdf 0x%04x aead 0x%04x", ErrUnsupportedSuite, kem, s.KDF, s.AEAD)
	}
	_, nenc, _ := kemSizes(kem)
	rest := msg[7:]
	if len(rest) < nenc {
		return nil, nil, fmt.Errorf("%w: encapsulated key truncated", ErrBadEnvelope)
	}
	enc, ct := rest[:nenc], rest[nenc:]
	_, kdf, aead, err := hpkeSuite(kem, s)
	if err != nil {
		return nil, nil, err
	}
	r, err := hpke.NewRecipient(enc, g.priv, kdf, aead, info(l, msg[:7]))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	pt, err := r.Open(nil, ct)
	if err != nil {
		return nil, nil, ErrDecrypt
	}
	secret, err := r.Export(l.response, exportLen(s.AEAD))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	return pt, &ResponseSealer{secret: secret, enc: append([]byte(nil), enc...), aead: s.AEAD}, nil
}

func exportLen(aead uint16) int {
	nk, nn := aeadSizes(aead)
	return max(nk, nn)
}

// responseKeys derives the response AEAD from RFC 9458 §4.4:
// salt = enc ‖ response_nonce, prk = Extract(salt, secret), key = Expand(prk, "key", Nk),
// nonce = Expand(prk, "nonce", Nn).
func responseKeys(secret, enc, nonce []byte, aeadID uint16) (cipher.AEAD, []byte, error) {
	nk, nn := aeadSizes(aeadID)
	salt := make([]byte, 0, len(enc)+len(nonce))
	salt = append(append(salt, enc...), nonce...)
	prk, err := hkdf.Extract(sha256.New, secret, salt)
	if err != nil {
		return nil, nil, err
	}
	key, err := hkdf.Expand(sha256.New, prk, "key", nk)
	if err != nil {
		return nil, nil, err
	}
	iv, err := hkdf.Expand(sha256.New, prk, "nonce", nn)
	if err != nil {
		return nil, nil, err
	}
	a, err := newAEAD(aeadID, key)
	if err != nil {
		return nil, nil, err
	}
	return a, iv, nil
}

// ResponseSealer seals the single response to one opened request.
type ResponseSealer struct {
	secret []byte
	enc    []byte
	aead   uint16
	used   bool
}

// ErrResponseSealed reports a second response on one request context: the
// response key and nonce must never be reused.
var ErrResponseSealed = errors.New("wire: response already sealed for this request")

// Seal encapsulates the response: response_nonce ‖ ciphertext. The nonce
// (max(Nn, Nk) bytes) is read from rand.
func (s *ResponseSealer) Seal(rand io.Reader, plaintext []byte) ([]byte, error) {
	if s.used {
		return nil, ErrResponseSealed
	}
	nonce := make([]byte, exportLen(s.aead))
	if _, err := io.ReadFull(rand, nonce); err != nil {
		return nil, fmt.Errorf("wire: response nonce: %w", err)
	}
	a, iv, err := responseKeys(s.secret, s.enc, nonce, s.aead)
	if err != nil {
		return nil, err
	}
	s.used = true
	clear(s.secret)
	return a.Seal(nonce, iv, plaintext, nil), nil
}

// SealRequest encapsulates plaintext for route to the gateway described by
// cfg, with [FaceSignSuite]. The HPKE ephemeral key comes from crypto/rand.
// It returns the encapsulated request and the context that opens the response.
func SealRequest(cfg KeyConfig, route string, plaintext []byte) ([]byte, *ResponseOpener, error) {
	l, err := faceSignLabels(route)
	if err != nil {
		return nil, nil, err
	}
	if !cfg.offers(KEMMLKEM768X25519, FaceSignSuite) {
		return nil, nil, fmt.Errorf("%w: key config does not offer MLKEM768X25519/HKDF-SHA256/ChaCha20Poly1305", ErrUnsupportedSuite)
	}
	return seal(cfg, FaceSignSuite, l, plaintext)
}

func seal(cfg KeyConfig, s SymmetricSuite, l labels, plaintext []byte) ([]byte, *ResponseOpener, error) {
	kem, kdf, aead, err := hpkeSuite(cfg.KEM, s)
	if err != nil {
		return nil, nil, err
	}
	pk, err := kem.NewPublicKey(cfg.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: public key: %v", ErrBadEnvelope, err)
	}
	hdr := header(cfg.KeyID, cfg.KEM, s)
	enc, sender, err := hpke.NewSender(pk, kdf, aead, info(l, hdr))
	if err != nil {
		return nil, nil, fmt.Errorf("wire: hpke sender: %w", err)
	}
	ct, err := sender.Seal(nil, plaintext)
	if err != nil {
		return nil, nil, fmt.Errorf("wire: hpke seal: %w", err)
	}
	secret, err := sender.Export(l.response, exportLen(s.AEAD))
	if err != nil {
		return nil, nil, fmt.Errorf("wire: hpke export: %w", err)
	}
	msg := make([]byte, 0, len(hdr)+len(enc)+len(ct))
	msg = append(append(append(msg, hdr...), enc...), ct...)
	return msg, &ResponseOpener{secret: secret, enc: enc, aead: s.AEAD}, nil
}

// ResponseOpener opens the response to one sealed request.
type ResponseOpener struct {
	secret []byte
	enc    []byte
	aead   uint16
}

// Open decapsulates response_nonce ‖ ciphertext.
func (o *ResponseOpener) Open(msg []byte) ([]byte, error) {
	n := exportLen(o.aead)
	if len(msg) < n+16 {
		return nil, fmt.Errorf("%w: response of %d bytes", ErrBadEnvelope, len(msg))
	}
	a, iv, err := responseKeys(o.secret, o.enc, msg[:n], o.aead)
	if err != nil {
		return nil, err
	}
	pt, err := a.Open(nil, iv, msg[n:], nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// NewKeyPair derives the gateway's MLKEM768X25519 key pair from 64 bytes of
// input keying material (RFC 9180 DeriveKeyPair), so the enclave can draw it
// from its security module's randomness rather than the kernel's.
func NewKeyPair(ikm []byte) (hpke.PrivateKey, error) {
	if len(ikm) < 32 {
		return nil, fmt.Errorf("wire: key pair needs at least 32 bytes of keying material, got %d", len(ikm))
	}
	return hpke.MLKEM768X25519().DeriveKeyPair(ikm)
}
