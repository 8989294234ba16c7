package wallet

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"golang.org/x/crypto/ripemd160" //lint:ignore SA1019 BIP-32 fingerprints are defined with RIPEMD-160.
)

// HardenedOffset is added to a child index to ask for hardened derivation.
const HardenedOffset uint32 = 1 << 31

// Serialisation version bytes of BIP-32 (mainnet).
var (
	versionXprv = [4]byte{0x04, 0x88, 0xAD, 0xE4}
	versionXpub = [4]byte{0x04, 0x88, 0xB2, 0x1E}
)

// ExtendedKey is a BIP-32 extended key: a secp256k1 private scalar or public
// point, its chain code and its place in the tree. It is immutable; [Child]
// returns a new key.
type ExtendedKey struct {
	private   bool
	depth     uint8
	parentFP  [4]byte
	childNum  uint32
	chainCode [32]byte
	key       []byte // 32-byte scalar (private) or 33-byte compressed point (public)
}

// NewMasterKey is BIP-32's master key generation: I = HMAC-SHA512(key
// "Bitcoin seed", seed), the scalar is I[0:32] and the chain code I[32:64].
// The seed must be 16 to 64 bytes.
func NewMasterKey(seed []byte) (*ExtendedKey, error) {
	if len(seed) < 16 || len(seed) > 64 {
		return nil, fmt.Errorf("%w: seed of %d bytes, want 16 to 64", ErrInvalidKey, len(seed))
	}
	mac := hmac.New(sha512.New, []byte("Bitcoin seed"))
	mac.Write(seed)
	i := mac.Sum(nil)
	if !validScalar(i[:32]) {
		return nil, fmt.Errorf("%w: master scalar out of range", ErrInvalidKey)
	}
	k := &ExtendedKey{private: true, key: append([]byte(nil), i[:32]...)}
	copy(k.chainCode[:], i[32:])
	return k, nil
}

// validScalar reports whether b (32 bytes, big-endian) is in [1, n-1].
func validScalar(b []byte) bool {
	var s secp256k1.ModNScalar
	overflow := s.SetByteSlice(b)
	return !overflow && !s.IsZero()
}

// IsPrivate reports whether k holds a private key.
func (k *ExtendedKey) IsPrivate() bool { return k.private }

// Depth is the number of derivation steps from the master key.
func (k *ExtendedKey) Depth() uint8 { return k.depth }

// ChildNumber is the index this key was derived with (0 for a master key).
func (k *ExtendedKey) ChildNumber() uint32 { return k.childNum }

// ChainCode returns the 32-byte chain code.
func (k *ExtendedKey) ChainCode() [32]byte { return k.chainCode }

// PrivateKey returns the secp256k1 private key, or an error for a public
// extended key.
func (k *ExtendedKey) PrivateKey() (*secp256k1.PrivateKey, error) {
	if !k.private {
		return nil, ErrNotPrivate
	}
	return secp256k1.PrivKeyFromBytes(k.key), nil
}

// PublicKey returns the secp256k1 public key.
func (k *ExtendedKey) PublicKey() *secp256k1.PublicKey {
	if k.private {
		return secp256k1.PrivKeyFromBytes(k.key).PubKey()
	}
	pub, err := secp256k1.ParsePubKey(k.key)
	if err != nil {
		// Unreachable: public keys are validated when they are made or parsed.
		panic("wallet: invalid public key in extended key: " + err.Error())
	}
	return pub
}

// Fingerprint is the first 4 bytes of HASH160 (RIPEMD-160 of SHA-256) of the
// compressed public key.
func (k *ExtendedKey) Fingerprint() [4]byte {
	var fp [4]byte
	copy(fp[:], hash160(k.PublicKey().SerializeCompressed()))
	return fp
}

func hash160(b []byte) []byte {
	s := sha256.Sum256(b)
	r := ripemd160.New()
	r.Write(s[:])
	return r.Sum(nil)
}

// Child derives child i (BIP-32 CKDpriv for private keys, CKDpub for public
// ones; i ≥ [HardenedOffset] asks for a hardened child, which a public key
// cannot give). In the vanishingly rare case that I_L ≥ n or the child key
// is zero/infinity, [ErrInvalidChild] is returned and BIP-32 says to use the
// next index.
func (k *ExtendedKey) Child(i uint32) (*ExtendedKey, error) {
	if k.depth == 255 {
		return nil, fmt.Errorf("%w: depth 255 reached", ErrInvalidChild)
	}
	hardened := i >= HardenedOffset
	if hardened && !k.private {
		return nil, ErrHardenedFromPublic
	}
	parentPub := k.PublicKey().SerializeCompressed()
	data := make([]byte, 0, 37)
	if hardened {
		data = append(data, 0)
		data = append(data, k.key...)
	} else {
		data = append(data, parentPub...)
	}
	data = binary.BigEndian.AppendUint32(data, i)
	mac := hmac.New(sha512.New, k.chainCode[:])
	mac.Write(data)
	sum := mac.Sum(nil)
	var il secp256k1.ModNScalar
	if overflow := il.SetByteSlice(sum[:32]); overflow {
		return nil, fmt.Errorf("%w: I_L ≥ n at index %d", ErrInvalidChild, i)
	}
	child := &ExtendedKey{private: k.private, depth: k.depth + 1, childNum: i}
	copy(child.chainCode[:], sum[32:])
	copy(child.parentFP[:], hash160(parentPub))
	if k.private {
		var kp secp256k1.ModNScalar
		kp.SetByteSlice(k.key)
		il.Add(&kp)
		if il.IsZero() {
			return nil, fmt.Errorf("%w: zero key at index %d", ErrInvalidChild, i)
		}
		b := il.Bytes()
		child.key = b[:]
		return child, nil
	}
	var p, parent, sumPt secp256k1.JacobianPoint
	secp256k1.ScalarBaseMultNonConst(&il, &p)
	k.PublicKey().AsJacobian(&parent)
	secp256k1.AddNonConst(&p, &parent, &sumPt)
	if (sumPt.X.IsZero() && sumPt.Y.IsZero()) || sumPt.Z.IsZero() {
		return nil, fmt.Errorf("%w: point at infinity at index %d", ErrInvalidChild, i)
	}
	sumPt.ToAffine()
	child.key = secp256k1.NewPublicKey(&sumPt.X, &sumPt.Y).SerializeCompressed()
	return child, nil
}

// Neuter returns the public extended key of k (k itself if it is public).
func (k *ExtendedKey) Neuter() *ExtendedKey {
	if !k.private {
		return k
	}
	n := *k
	n.private = false
	n.key = k.PublicKey().SerializeCompressed()
	return &n
}

// Derive follows a path such as "m/44'/60'/0'/0/0" from k. Hardened steps
// are written with ', h or H. The path must start with "m" and k should be a
// master key (Derive does not check depth).
func (k *ExtendedKey) Derive(path string) (*ExtendedKey, error) {
	idx, err := ParsePath(path)
	if err != nil {
		return nil, err
	}
	cur := k
	for _, i := range idx {
		if cur, err = cur.Child(i); err != nil {
			return nil, err
		}
	}
	return cur, nil
}

// ParsePath parses a BIP-32 path ("m", "m/0'/1", …) into child indices.
func ParsePath(path string) ([]uint32, error) {
	parts := strings.Split(path, "/")
	if parts[0] != "m" {
		return nil, fmt.Errorf("%w: %q does not start with m", ErrPath, path)
	}
	out := make([]uint32, 0, len(parts)-1)
	for _, p := range parts[1:] {
		var hard uint32
		if s := strings.TrimRight(p, "'hH"); len(s) == len(p)-1 {
			hard, p = HardenedOffset, s
		} else if len(s) != len(p) {
			return nil, fmt.Errorf("%w: bad step %q", ErrPath, p)
		}
		if p == "" || (len(p) > 1 && p[0] == '0') || strings.ContainsAny(p, "+-") {
			return nil, fmt.Errorf("%w: bad step %q", ErrPath, p)
		}
		n, err := strconv.ParseUint(p, 10, 32)
		if err != nil || uint32(n) >= HardenedOffset {
			return nil, fmt.Errorf("%w: bad step %q", ErrPath, p)
		}
		out = append(out, uint32(n)|hard)
	}
	return out, nil
}

// FormatPath writes child indices as a path, hardened steps marked with '.
func FormatPath(idx []uint32) string {
	var b strings.Builder
	b.WriteString("m")
	for _, i := range idx {
		b.WriteString("/")
		b.WriteString(strconv.FormatUint(uint64(i&^HardenedOffset), 10))
		if i >= HardenedOffset {
			b.WriteString("'")
		}
	}
	return b.String()
}

// String serialises k the BIP-32 way: version ‖ depth ‖ parent fingerprint ‖
// child number ‖ chain code ‖ key (0x00 ‖ scalar, or the compressed point),
// Base58Check encoded ("xprv…" / "xpub…").
func (k *ExtendedKey) String() string {
	b := make([]byte, 0, 78)
	if k.private {
		b = append(b, versionXprv[:]...)
	} else {
		b = append(b, versionXpub[:]...)
	}
	b = append(b, k.depth)
	b = append(b, k.parentFP[:]...)
	b = binary.BigEndian.AppendUint32(b, k.childNum)
	b = append(b, k.chainCode[:]...)
	if k.private {
		b = append(b, 0)
	}
	b = append(b, k.key...)
	return base58CheckEncode(b)
}

// ParseExtendedKey parses a Base58Check "xprv…" or "xpub…" string and rejects
// everything BIP-32 calls invalid: a bad checksum or length, an unknown
// version, a private key outside [1, n-1] or without its 0x00 prefix, a public
// key that is not a compressed point on the curve, and a depth-0 key with a
// parent fingerprint or child number.
func ParseExtendedKey(s string) (*ExtendedKey, error) {
	b, err := base58CheckDecode(s)
	if err != nil {
		return nil, err
	}
	if len(b) != 78 {
		return nil, fmt.Errorf("%w: %d bytes, want 78", ErrExtendedKey, len(b))
	}
	k := &ExtendedKey{depth: b[4], childNum: binary.BigEndian.Uint32(b[9:13])}
	copy(k.parentFP[:], b[5:9])
	copy(k.chainCode[:], b[13:45])
	key := b[45:78]
	switch {
	case bytes.Equal(b[:4], versionXprv[:]):
		k.private = true
		if key[0] != 0 {
			return nil, fmt.Errorf("%w: private key without 0x00 prefix", ErrExtendedKey)
		}
		if !validScalar(key[1:]) {
			return nil, fmt.Errorf("%w: private key not in [1, n-1]", ErrExtendedKey)
		}
		k.key = append([]byte(nil), key[1:]...)
	case bytes.Equal(b[:4], versionXpub[:]):
		if key[0] != 2 && key[0] != 3 {
			return nil, fmt.Errorf("%w: public key prefix %#02x", ErrExtendedKey, key[0])
		}
		if _, err := secp256k1.ParsePubKey(key); err != nil {
			return nil, fmt.Errorf("%w: public key not on the curve", ErrExtendedKey)
		}
		k.key = append([]byte(nil), key...)
	default:
		return nil, fmt.Errorf("%w: unknown version %x", ErrExtendedKey, b[:4])
	}
	if k.depth == 0 && (k.parentFP != [4]byte{} || k.childNum != 0) {
		return nil, fmt.Errorf("%w: depth 0 with a parent fingerprint or child number", ErrExtendedKey)
	}
	return k, nil
}
