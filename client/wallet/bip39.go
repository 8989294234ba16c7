package wallet

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/tyler-smith/go-bip39/wordlists"
	"golang.org/x/text/unicode/norm"
)

// englishSHA256 is the SHA-256 of BIP-39's english.txt (2048 words, one per
// line, each line ending in "\n"), as published in bitcoin/bips/bip-0039.
const englishSHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"

// EntropySize is the size of the entropy the enclave hands out: 256 bits,
// a 24-word mnemonic.
const EntropySize = 32

// MnemonicWords is the number of words of a FaceSign mnemonic.
const MnemonicWords = 24

var english struct {
	once  sync.Once
	words [2048]string
	index map[string]uint16
	err   error
}

// englishWords returns a private copy of the BIP-39 English word list, checked
// against the published SHA-256 once. The copy means that no other package
// (go-bip39 exposes its lists as mutable globals) can change our mnemonics.
func englishWords() (*[2048]string, map[string]uint16, error) {
	english.once.Do(func() {
		src := wordlists.English
		if len(src) != 2048 {
			english.err = fmt.Errorf("%w: %d words", ErrWordlist, len(src))
			return
		}
		h := sha256.New()
		for _, w := range src {
			h.Write([]byte(w))
			h.Write([]byte{'\n'})
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != englishSHA256 {
			english.err = fmt.Errorf("%w: sha-256 %s", ErrWordlist, got)
			return
		}
		english.index = make(map[string]uint16, 2048)
		for i, w := range src {
			english.words[i] = w
			english.index[w] = uint16(i)
		}
	})
	return &english.words, english.index, english.err
}

// EntropyToMnemonic encodes entropy (16, 20, 24, 28 or 32 bytes) as a BIP-39
// English mnemonic: the entropy bits followed by the first len/4 bits of its
// SHA-256, cut into 11-bit word indices, words joined by single spaces.
func EntropyToMnemonic(entropy []byte) (string, error) {
	n := len(entropy)
	if n < 16 || n > 32 || n%4 != 0 {
		return "", fmt.Errorf("%w: %d bytes, want 16, 20, 24, 28 or 32", ErrEntropyLength, n)
	}
	words, _, err := englishWords()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(entropy)
	// bits(i) reads bit i of entropy ‖ checksum, most significant first.
	bit := func(i int) uint16 {
		if i < 8*n {
			return uint16(entropy[i/8]>>(7-i%8)) & 1
		}
		i -= 8 * n
		return uint16(sum[i/8]>>(7-i%8)) & 1
	}
	count := (8*n + n/4) / 11
	out := make([]string, count)
	for w := range count {
		var idx uint16
		for b := range 11 {
			idx = idx<<1 | bit(11*w+b)
		}
		out[w] = words[idx]
	}
	return strings.Join(out, " "), nil
}

// MnemonicToEntropy decodes a BIP-39 English mnemonic of 12 to 24 words and
// checks its checksum. Words are separated by whitespace and must be
// lower-case list words; the caller gets the entropy, from which
// [EntropyToMnemonic] rebuilds the one canonical spelling.
func MnemonicToEntropy(mnemonic string) ([]byte, error) {
	_, index, err := englishWords()
	if err != nil {
		return nil, err
	}
	fields := strings.Fields(mnemonic)
	switch len(fields) {
	case 12, 15, 18, 21, 24:
	default:
		return nil, fmt.Errorf("%w: %d words, want 12, 15, 18, 21 or 24", ErrMnemonic, len(fields))
	}
	total := 11 * len(fields)
	csBits := total / 33
	n := (total - csBits) / 8
	buf := make([]byte, (total+7)/8)
	for w, f := range fields {
		idx, ok := index[f]
		if !ok {
			return nil, fmt.Errorf("%w: word %d is not in the BIP-39 English list", ErrMnemonic, w+1)
		}
		for b := range 11 {
			if idx>>(10-b)&1 == 1 {
				pos := 11*w + b
				buf[pos/8] |= 1 << (7 - pos%8)
			}
		}
	}
	entropy := buf[:n:n]
	sum := sha256.Sum256(entropy)
	for i := range csBits {
		pos := 8*n + i
		got := buf[pos/8] >> (7 - pos%8) & 1
		want := sum[i/8] >> (7 - i%8) & 1
		if got != want {
			return nil, fmt.Errorf("%w: bad checksum", ErrMnemonic)
		}
	}
	return append([]byte(nil), entropy...), nil
}

// MnemonicToSeed is BIP-39's mnemonicToSeed: PBKDF2-HMAC-SHA512 of the
// mnemonic with salt "mnemonic" ‖ passphrase, 2048 iterations, 64 bytes, both
// strings first normalised to Unicode NFKD as BIP-39 says. The mnemonic is
// not validated here: [FromMnemonic] does that.
func MnemonicToSeed(mnemonic, passphrase string) ([64]byte, error) {
	var seed [64]byte
	k, err := pbkdf2.Key(sha512.New, norm.NFKD.String(mnemonic), []byte("mnemonic"+norm.NFKD.String(passphrase)), 2048, 64)
	if err != nil {
		return seed, err
	}
	copy(seed[:], k)
	return seed, nil
}
