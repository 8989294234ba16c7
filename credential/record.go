package credential

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"golang.org/x/crypto/curve25519"
	"golang.org/x/crypto/nacl/box"
)

// PublicNotes is what idOS stores in clear beside the encrypted credential.
type PublicNotes struct {
	Type   string `json:"type"`
	Level  string `json:"level"`
	Status string `json:"status"`
	Issuer string `json:"issuer"`
}

// FaceSignNotes are the public notes of every FaceSign credential.
var FaceSignNotes = PublicNotes{Type: "PoP", Level: Level, Status: "approved", Issuer: "FaceSign"}

// Record is an idOS credential record as an issuer submits it: the
// credential encrypted to the holder, and what idOS keeps in clear.
//
//   - Content: base64 (standard, padded) of nonce (24 bytes) ‖ NaCl box
//     (x25519-xsalsa20-poly1305) of the credential JSON, sealed from an
//     ephemeral key to the holder's x25519 key — the layout of idOS's
//     encrypt()/decrypt();
//   - EncryptorPublicKey: base64 of the ephemeral x25519 public key;
//   - IssuerAuthPublicKey: lower-case hex of the issuer's Ed25519 key;
//   - PublicNotes: the notes as a JSON string;
//   - PublicNotesSignature: base64 Ed25519 signature of the UTF-8 notes;
//   - BroaderSignature: base64 Ed25519 signature of the notes signature
//     (64 bytes) ‖ the decoded content, binding notes and content together
//     the way idOS's issuer SDK does.
type Record struct {
	Content              string `json:"content"`
	EncryptorPublicKey   string `json:"encryptor_public_key"`
	IssuerAuthPublicKey  string `json:"issuer_auth_public_key"`
	PublicNotes          string `json:"public_notes"`
	PublicNotesSignature string `json:"public_notes_signature"`
	BroaderSignature     string `json:"broader_signature"`
}

const nonceSize = 24

// MaxRecord bounds the size of a record file.
const MaxRecord = 2 * MaxCredential

// checkHolderKey refuses x25519 public keys of small order (the all-zero
// shared secret), which would make the box readable by anyone.
func checkHolderKey(pub [32]byte) error {
	probe := [32]byte{1}
	if _, err := curve25519.X25519(probe[:], pub[:]); err != nil {
		return fmt.Errorf("%w: holder encryption key is a low-order point", ErrOptions)
	}
	return nil
}

// SealRecord encrypts plaintext to the holder's x25519 public key from a
// fresh ephemeral key (ephemeral key and nonce read from rand) and signs the
// public notes and the record with the issuer key.
func SealRecord(rand io.Reader, plaintext []byte, holder [32]byte, issuer *IssuerKey, notes PublicNotes) (*Record, error) {
	if rand == nil {
		return nil, fmt.Errorf("%w: nil randomness", ErrOptions)
	}
	if issuer == nil || issuer.Private == nil {
		return nil, fmt.Errorf("%w: no issuer private key", ErrOptions)
	}
	if err := checkHolderKey(holder); err != nil {
		return nil, err
	}
	var nonce [nonceSize]byte
	if _, err := io.ReadFull(rand, nonce[:]); err != nil {
		return nil, fmt.Errorf("credential: reading randomness: %w", err)
	}
	ephPub, ephPriv, err := box.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("credential: reading randomness: %w", err)
	}
	content := box.Seal(nonce[:], plaintext, &nonce, &holder, ephPriv)
	clear(ephPriv[:])
	notesJSON, err := json.Marshal(notes)
	if err != nil {
		return nil, err
	}
	notesSig := ed25519.Sign(issuer.Private, notesJSON)
	broader := ed25519.Sign(issuer.Private, append(append([]byte(nil), notesSig...), content...))
	return &Record{
		Content:              base64.StdEncoding.EncodeToString(content),
		EncryptorPublicKey:   base64.StdEncoding.EncodeToString(ephPub[:]),
		IssuerAuthPublicKey:  hex.EncodeToString(issuer.Public),
		PublicNotes:          string(notesJSON),
		PublicNotesSignature: base64.StdEncoding.EncodeToString(notesSig),
		BroaderSignature:     base64.StdEncoding.EncodeToString(broader),
	}, nil
}

// ParseRecord reads a record strictly (exactly its six members) and decodes
// its fields; it checks sizes and encodings, not signatures.
func ParseRecord(b []byte) (*Record, error) {
	if len(b) > MaxRecord {
		return nil, fmt.Errorf("%w: record of %d bytes", ErrShape, len(b))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: record: %v", ErrShape, err)
	}
	if err := exactKeys("record", m, []string{"content", "encryptor_public_key", "issuer_auth_public_key", "public_notes", "public_notes_signature", "broader_signature"}, nil); err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: record: %v", ErrShape, err)
	}
	if _, err := r.decode(); err != nil {
		return nil, err
	}
	return &r, nil
}

type decodedRecord struct {
	content, notesSig, broader []byte
	encryptor                  [32]byte
	issuer                     ed25519.PublicKey
}

// decodeBox decodes what opening needs: content and encryptor key.
func (r *Record) decodeBox() (*decodedRecord, error) {
	var d decodedRecord
	var err error
	if d.content, err = base64.StdEncoding.DecodeString(r.Content); err != nil || len(d.content) < nonceSize+box.Overhead {
		return nil, fmt.Errorf("%w: content is not base64 of nonce ‖ box", ErrShape)
	}
	enc, err := base64.StdEncoding.DecodeString(r.EncryptorPublicKey)
	if err != nil || len(enc) != 32 {
		return nil, fmt.Errorf("%w: encryptor_public_key is not base64 of 32 bytes", ErrShape)
	}
	d.encryptor = [32]byte(enc)
	return &d, nil
}

func (r *Record) decode() (*decodedRecord, error) {
	d, err := r.decodeBox()
	if err != nil {
		return nil, err
	}
	iss, err := hex.DecodeString(r.IssuerAuthPublicKey)
	if err != nil || len(iss) != ed25519.PublicKeySize || hex.EncodeToString(iss) != r.IssuerAuthPublicKey {
		return nil, fmt.Errorf("%w: issuer_auth_public_key is not lower-case hex of 32 bytes", ErrShape)
	}
	d.issuer = iss
	if d.notesSig, err = base64.StdEncoding.DecodeString(r.PublicNotesSignature); err != nil || len(d.notesSig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: public_notes_signature is not base64 of 64 bytes", ErrShape)
	}
	if d.broader, err = base64.StdEncoding.DecodeString(r.BroaderSignature); err != nil || len(d.broader) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: broader_signature is not base64 of 64 bytes", ErrShape)
	}
	return d, nil
}

// Verify checks the record against the issuer's key: issuer_auth_public_key
// is that key, both signatures verify, and the public notes are exactly
// FaceSign's ([FaceSignNotes]).
func (r *Record) Verify(issuer ed25519.PublicKey) error {
	d, err := r.decode()
	if err != nil {
		return err
	}
	if !issuer.Equal(d.issuer) {
		return fmt.Errorf("%w: issuer_auth_public_key is not the issuer's key", ErrProof)
	}
	if !ed25519.Verify(issuer, []byte(r.PublicNotes), d.notesSig) {
		return fmt.Errorf("%w: public_notes_signature", ErrProof)
	}
	if !ed25519.Verify(issuer, append(append([]byte(nil), d.notesSig...), d.content...), d.broader) {
		return fmt.Errorf("%w: broader_signature", ErrProof)
	}
	var notes PublicNotes
	dec := json.NewDecoder(bytes.NewReader([]byte(r.PublicNotes)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&notes); err != nil || notes != FaceSignNotes {
		return fmt.Errorf("%w: public_notes %s, want FaceSign's", ErrShape, r.PublicNotes)
	}
	return nil
}

// Open decrypts the content with the holder's x25519 secret key. It needs
// only content and encryptor_public_key; check signatures with
// [Record.Verify].
func (r *Record) Open(holderSecret [32]byte) ([]byte, error) {
	d, err := r.decodeBox()
	if err != nil {
		return nil, err
	}
	nonce := [nonceSize]byte(d.content[:nonceSize])
	out, ok := box.Open(nil, d.content[nonceSize:], &nonce, &d.encryptor, &holderSecret)
	if !ok {
		return nil, fmt.Errorf("%w: box does not open with this key", ErrDecrypt)
	}
	return out, nil
}

// Marshal writes the record as indented JSON.
func (r *Record) Marshal() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }
