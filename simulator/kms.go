package simulator

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/internal/cms"
)

// KMSPolicy is the part of an AWS KMS key policy the simulator enforces: the
// kms:RecipientAttestation:PCR<n> conditions (StringEqualsIgnoreCase on the
// hex value). kms:RecipientAttestation:ImageSha384 is PCR0. A key with an
// empty policy still demands a valid attestation document: the simulator
// never returns plaintext key material.
type KMSPolicy struct {
	PCRs map[int][]byte
}

// KMSOptions configures a simulated KMS.
type KMSOptions struct {
	// Roots verify recipients' attestation documents: the simulator NSM's
	// root. Required.
	Roots []*x509.Certificate
	// Clock is the verification time source. Required.
	Clock func() time.Time
	// Rand is the randomness for key material and envelopes. Required.
	Rand io.Reader
	// Dir, if set, persists the keys (keys.json, mode 0600) so a restarted
	// simulator can decrypt what it wrapped before.
	Dir string
	// Region and Account shape the key ARNs.
	Region, Account string
}

// KMS is a CPU stand-in for AWS KMS that speaks the service's JSON protocol
// (TrentService, awsJson1_1) for GenerateDataKey, Decrypt and DescribeKey, so
// the enclave's aws-sdk-go-v2 client runs unchanged against it. Like AWS KMS
// with a Nitro key policy, it releases key material only as
// CiphertextForRecipient: CMS EnvelopedData to the RSA key inside a verified
// attestation document whose PCRs satisfy the key's policy.
//
// Key material lives in the simulator's memory (and in Dir): it protects
// nothing from whoever runs the simulator, and is not meant to.
type KMS struct {
	opts KMSOptions
	mu   sync.Mutex
	keys map[string]*kmsKey // by key id (uuid)
}

type kmsKey struct {
	ID       string            `json:"id"`
	Material []byte            `json:"material"`
	PCRs     map[string]string `json:"pcrs"` // index → lowercase hex
}

var _ http.Handler = (*KMS)(nil)

// ErrKMSOptions reports a KMS configured without roots, clock or randomness.
var ErrKMSOptions = errors.New("simulator: kms needs roots, a clock and randomness")

// NewKMS returns a simulated KMS, loading keys from opts.Dir when present.
func NewKMS(opts KMSOptions) (*KMS, error) {
	if len(opts.Roots) == 0 || opts.Clock == nil || opts.Rand == nil {
		return nil, ErrKMSOptions
	}
	if opts.Region == "" {
		opts.Region = "sim-local-1"
	}
	if opts.Account == "" {
		opts.Account = "000000000000"
	}
	k := &KMS{opts: opts, keys: map[string]*kmsKey{}}
	if opts.Dir != "" {
		b, err := os.ReadFile(filepath.Join(opts.Dir, "keys.json"))
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("simulator: kms: %w", err)
		default:
			var keys []*kmsKey
			if err := json.Unmarshal(b, &keys); err != nil {
				return nil, fmt.Errorf("simulator: kms: keys.json: %w", err)
			}
			for _, key := range keys {
				if len(key.Material) != 32 {
					return nil, fmt.Errorf("simulator: kms: key %s has %d bytes of material", key.ID, len(key.Material))
				}
				k.keys[key.ID] = key
			}
		}
	}
	return k, nil
}

// CreateKey makes a symmetric key governed by policy and returns its ARN.
func (k *KMS) CreateKey(policy KMSPolicy) (string, error) {
	var id [16]byte
	material := make([]byte, 32)
	if _, err := io.ReadFull(k.opts.Rand, id[:]); err != nil {
		return "", err
	}
	if _, err := io.ReadFull(k.opts.Rand, material); err != nil {
		return "", err
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	key := &kmsKey{
		ID:       fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:]),
		Material: material,
		PCRs:     map[string]string{},
	}
	for i, v := range policy.PCRs {
		key.PCRs[fmt.Sprint(i)] = hex.EncodeToString(v)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys[key.ID] = key
	if err := k.saveLocked(); err != nil {
		delete(k.keys, key.ID)
		return "", err
	}
	return k.arn(key.ID), nil
}

func (k *KMS) arn(id string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", k.opts.Region, k.opts.Account, id)
}

func (k *KMS) saveLocked() error {
	if k.opts.Dir == "" {
		return nil
	}
	keys := make([]*kmsKey, 0, len(k.keys))
	for _, key := range k.keys {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID < keys[j].ID })
	b, err := json.Marshal(keys)
	if err != nil {
		return err
	}
	tmp := filepath.Join(k.opts.Dir, "keys.json.tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(k.opts.Dir, "keys.json"))
}

// kmsError is an AWS JSON protocol error.
type kmsError struct {
	status int
	Type   string `json:"__type"`
	Msg    string `json:"message"`
}

func (e *kmsError) Error() string { return e.Type + ": " + e.Msg }

func denied(format string, args ...any) *kmsError {
	return &kmsError{http.StatusBadRequest, "AccessDeniedException", fmt.Sprintf(format, args...)}
}

func invalid(typ, format string, args ...any) *kmsError {
	return &kmsError{http.StatusBadRequest, typ, fmt.Sprintf(format, args...)}
}

type recipientInfo struct {
	AttestationDocument    []byte
	KeyEncryptionAlgorithm string
}

type kmsRequest struct {
	KeyId               string
	KeySpec             string
	NumberOfBytes       int
	EncryptionContext   map[string]string
	CiphertextBlob      []byte
	EncryptionAlgorithm string
	Recipient           *recipientInfo
	GrantTokens         []string
	DryRun              bool
}

const maxKMSRequest = 64 << 10

// ServeHTTP implements the subset of the AWS KMS JSON API the enclave uses.
func (k *KMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, err := k.serve(r)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if err != nil {
		var ke *kmsError
		if !errors.As(err, &ke) {
			ke = &kmsError{http.StatusInternalServerError, "KMSInternalException", err.Error()}
		}
		w.Header().Set("X-Amzn-Errortype", ke.Type)
		w.WriteHeader(ke.status)
		_ = json.NewEncoder(w).Encode(ke)
		return
	}
	_ = json.NewEncoder(w).Encode(resp)
}

func (k *KMS) serve(r *http.Request) (any, error) {
	if r.Method != http.MethodPost {
		return nil, invalid("UnsupportedOperationException", "method %s", r.Method)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		return nil, invalid("MissingAuthenticationTokenException", "request is not signed with SigV4")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxKMSRequest+1))
	if err != nil {
		return nil, invalid("ValidationException", "reading request: %v", err)
	}
	if len(body) > maxKMSRequest {
		return nil, invalid("ValidationException", "request larger than %d bytes", maxKMSRequest)
	}
	var req kmsRequest
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&req); err != nil {
		return nil, invalid("SerializationException", "%v", err)
	}
	switch target := r.Header.Get("X-Amz-Target"); target {
	case "TrentService.GenerateDataKey":
		return k.generateDataKey(&req)
	case "TrentService.Decrypt":
		return k.decrypt(&req)
	case "TrentService.DescribeKey":
		key, err := k.lookup(req.KeyId)
		if err != nil {
			return nil, err
		}
		return map[string]any{"KeyMetadata": map[string]any{
			"KeyId": key.ID, "Arn": k.arn(key.ID), "Enabled": true, "KeyState": "Enabled",
			"KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "Origin": "AWS_KMS",
		}}, nil
	default:
		return nil, invalid("UnknownOperationException", "operation %q is not simulated", target)
	}
}

func (k *KMS) lookup(keyID string) (*kmsKey, error) {
	id := keyID
	if i := strings.LastIndex(keyID, ":key/"); i >= 0 {
		id = keyID[i+len(":key/"):]
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	key, ok := k.keys[id]
	if !ok {
		return nil, invalid("NotFoundException", "key %q does not exist", keyID)
	}
	return key, nil
}

// authorize verifies the recipient's attestation document against the
// simulator root, at the simulator's clock, with the key's PCR conditions,
// and returns the RSA key to encrypt to.
func (k *KMS) authorize(key *kmsKey, rcpt *recipientInfo) (*rsa.PublicKey, []byte, error) {
	if rcpt == nil {
		return nil, nil, denied("key policy requires a Nitro Enclave recipient attestation")
	}
	if rcpt.KeyEncryptionAlgorithm != "RSAES_OAEP_SHA_256" {
		return nil, nil, invalid("ValidationException", "KeyEncryptionAlgorithm %q", rcpt.KeyEncryptionAlgorithm)
	}
	pcrs := map[int][]byte{}
	for idx, h := range key.PCRs {
		var i int
		if _, err := fmt.Sscan(idx, &i); err != nil {
			return nil, nil, fmt.Errorf("simulator: kms: policy index %q", idx)
		}
		v, err := hex.DecodeString(h)
		if err != nil {
			return nil, nil, fmt.Errorf("simulator: kms: policy value for PCR%d", i)
		}
		pcrs[i] = v
	}
	doc, err := attest.Verify(rcpt.AttestationDocument, attest.VerifyOptions{
		Roots:       k.opts.Roots,
		CurrentTime: k.opts.Clock(),
		PCRs:        pcrs,
	})
	if err != nil {
		return nil, nil, denied("recipient attestation refused: %v", err)
	}
	if doc.PublicKey == nil {
		return nil, nil, invalid("ValidationException", "attestation document carries no public key")
	}
	pub, err := x509.ParsePKIXPublicKey(doc.PublicKey)
	if err != nil {
		return nil, nil, invalid("ValidationException", "attestation public key: %v", err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok || rsaPub.N.BitLen() < 2048 {
		return nil, nil, invalid("ValidationException", "attestation public key is not RSA-2048 or larger")
	}
	ski := sha256.Sum256(doc.PublicKey)
	return rsaPub, ski[:], nil
}

type generateDataKeyResponse struct {
	KeyId                  string
	CiphertextBlob         []byte
	CiphertextForRecipient []byte
}

func (k *KMS) generateDataKey(req *kmsRequest) (any, error) {
	key, err := k.lookup(req.KeyId)
	if err != nil {
		return nil, err
	}
	n := 32
	switch {
	case req.KeySpec == "AES_256" && req.NumberOfBytes == 0:
	case req.KeySpec == "AES_128" && req.NumberOfBytes == 0:
		n = 16
	case req.KeySpec == "" && req.NumberOfBytes > 0 && req.NumberOfBytes <= 1024:
		n = req.NumberOfBytes
	default:
		return nil, invalid("ValidationException", "give exactly one of KeySpec (AES_128, AES_256) and NumberOfBytes (1..1024)")
	}
	pub, ski, err := k.authorize(key, req.Recipient)
	if err != nil {
		return nil, err
	}
	plain := make([]byte, n)
	if _, err := io.ReadFull(k.opts.Rand, plain); err != nil {
		return nil, err
	}
	blob, err := k.wrap(key, plain, req.EncryptionContext)
	if err != nil {
		return nil, err
	}
	env, err := cms.Encrypt(k.opts.Rand, pub, ski, plain)
	if err != nil {
		return nil, err
	}
	return generateDataKeyResponse{KeyId: k.arn(key.ID), CiphertextBlob: blob, CiphertextForRecipient: env}, nil
}

type decryptResponse struct {
	KeyId                  string
	CiphertextForRecipient []byte
	EncryptionAlgorithm    string
}

func (k *KMS) decrypt(req *kmsRequest) (any, error) {
	if req.EncryptionAlgorithm != "" && req.EncryptionAlgorithm != "SYMMETRIC_DEFAULT" {
		return nil, invalid("ValidationException", "EncryptionAlgorithm %q", req.EncryptionAlgorithm)
	}
	id, err := blobKeyID(req.CiphertextBlob)
	if err != nil {
		return nil, err
	}
	if req.KeyId != "" {
		named, err := k.lookup(req.KeyId)
		if err != nil {
			return nil, err
		}
		if named.ID != id {
			return nil, invalid("IncorrectKeyException", "ciphertext was not made under %s", req.KeyId)
		}
	}
	key, err := k.lookup(id)
	if err != nil {
		return nil, invalid("InvalidCiphertextException", "ciphertext names an unknown key")
	}
	pub, ski, err := k.authorize(key, req.Recipient)
	if err != nil {
		return nil, err
	}
	plain, err := k.unwrap(key, req.CiphertextBlob, req.EncryptionContext)
	if err != nil {
		return nil, err
	}
	env, err := cms.Encrypt(k.opts.Rand, pub, ski, plain)
	if err != nil {
		return nil, err
	}
	return decryptResponse{KeyId: k.arn(key.ID), CiphertextForRecipient: env, EncryptionAlgorithm: "SYMMETRIC_DEFAULT"}, nil
}

// Ciphertext blobs: "fsk1" ‖ len(id) ‖ id ‖ nonce(12) ‖ AES-256-GCM(material,
// plaintext, aad = id ‖ canonical encryption context).
const blobMagic = "fsk1"

func blobKeyID(blob []byte) (string, error) {
	if len(blob) < len(blobMagic)+1 || string(blob[:len(blobMagic)]) != blobMagic {
		return "", invalid("InvalidCiphertextException", "not a ciphertext blob of this KMS")
	}
	n := int(blob[len(blobMagic)])
	if len(blob) < len(blobMagic)+1+n+12+16 {
		return "", invalid("InvalidCiphertextException", "ciphertext blob truncated")
	}
	return string(blob[len(blobMagic)+1 : len(blobMagic)+1+n]), nil
}

func contextAAD(id string, ec map[string]string) []byte {
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	aad := []byte(id)
	for _, k := range keys {
		aad = fmt.Appendf(aad, "\x00%d:%s%d:%s", len(k), k, len(ec[k]), ec[k])
	}
	return aad
}

func (k *KMS) wrap(key *kmsKey, plain []byte, ec map[string]string) ([]byte, error) {
	aead, err := gcm(key.Material)
	if err != nil {
		return nil, err
	}
	out := append([]byte(blobMagic), byte(len(key.ID)))
	out = append(out, key.ID...)
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(k.opts.Rand, nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return aead.Seal(out, nonce, plain, contextAAD(key.ID, ec)), nil
}

func (k *KMS) unwrap(key *kmsKey, blob []byte, ec map[string]string) ([]byte, error) {
	aead, err := gcm(key.Material)
	if err != nil {
		return nil, err
	}
	rest := blob[len(blobMagic)+1+len(key.ID):]
	plain, err := aead.Open(nil, rest[:12], rest[12:], contextAAD(key.ID, ec))
	if err != nil {
		return nil, invalid("InvalidCiphertextException", "ciphertext or encryption context does not match")
	}
	return plain, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// MaxEncryptPlaintext is AWS KMS's limit on Encrypt's plaintext.
const MaxEncryptPlaintext = 4096

// Encrypt wraps plaintext under the key keyID (an id or ARN) with the
// encryption context ec, as "aws kms encrypt" does for a key administrator:
// the simulator's way of sealing a secret (the rollback counter's
// credentials) that only an enclave satisfying the key's policy can open
// again through Decrypt with a Recipient. It is a Go call, not a route: in
// the simulator, as on AWS, the parent is not allowed to encrypt under the
// key.
func (k *KMS) Encrypt(keyID string, plaintext []byte, ec map[string]string) ([]byte, error) {
	if len(plaintext) == 0 || len(plaintext) > MaxEncryptPlaintext {
		return nil, fmt.Errorf("simulator: kms: plaintext of %d bytes (want 1..%d)", len(plaintext), MaxEncryptPlaintext)
	}
	key, err := k.lookup(keyID)
	if err != nil {
		return nil, err
	}
	return k.wrap(key, plaintext, ec)
}
