package kms

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/internal/cms"
)

// DataKeySize is the length of the data keys the enclave seals state with
// (AES-256).
const DataKeySize = 32

// A KeyService makes data keys and unwraps them again, releasing plaintext
// only to this enclave.
type KeyService interface {
	// GenerateDataKey returns a fresh data key and its wrapped form, which
	// is safe to hand to the parent for storage.
	GenerateDataKey(ctx context.Context) (plaintext, wrapped []byte, err error)
	// Decrypt unwraps a wrapped data key.
	Decrypt(ctx context.Context, wrapped []byte) ([]byte, error)
}

var (
	// ErrDenied reports a KMS refusal: the key policy's PCR conditions do
	// not match this enclave, or the attestation did not verify.
	ErrDenied = errors.New("kms: access denied")
	// ErrUnwrap reports a CiphertextForRecipient that does not open under
	// the enclave's recipient key.
	ErrUnwrap = errors.New("kms: response does not open")
	// ErrPlaintextReturned reports a KMS response carrying key material in
	// the clear, which would have crossed the parent: refused.
	ErrPlaintextReturned = errors.New("kms: plaintext key material in the response")
)

// Recipient is the enclave's KMS recipient: an RSA-2048 key pair made inside
// the enclave, whose public half rides in a fresh attestation document on
// every request so KMS can check the enclave's PCRs and encrypt to it.
type Recipient struct {
	key      *rsa.PrivateKey
	spki     []byte
	attester attest.Attester
}

// NewRecipient makes a recipient key pair. Since Go 1.26 crypto/rsa draws
// from the operating system's generator, which inside a Nitro Enclave the
// NSM's hardware RNG seeds.
func NewRecipient(a attest.Attester) (*Recipient, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("kms: recipient key: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("kms: recipient key: %w", err)
	}
	return &Recipient{key: key, spki: spki, attester: a}, nil
}

func (r *Recipient) info() (*types.RecipientInfo, error) {
	doc, err := r.attester.Attest(attest.Request{PublicKey: r.spki})
	if err != nil {
		return nil, fmt.Errorf("kms: attesting the recipient key: %w", err)
	}
	return &types.RecipientInfo{
		AttestationDocument:    doc,
		KeyEncryptionAlgorithm: types.KeyEncryptionMechanismRsaesOaepSha256,
	}, nil
}

func (r *Recipient) open(ctfr []byte) ([]byte, error) {
	plain, err := cms.Decrypt(ctfr, r.key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnwrap, err)
	}
	return plain, nil
}

// API is the part of the AWS KMS client the enclave calls; *kms.Client
// satisfies it.
type API interface {
	GenerateDataKey(ctx context.Context, in *awskms.GenerateDataKeyInput, optFns ...func(*awskms.Options)) (*awskms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *awskms.DecryptInput, optFns ...func(*awskms.Options)) (*awskms.DecryptOutput, error)
}

var _ API = (*awskms.Client)(nil)

// AWS is a [KeyService] over AWS KMS (or the simulator's KMS, which speaks
// the same protocol) with Nitro Enclave recipient attestation.
type AWS struct {
	api     API
	keyID   string
	rcpt    *Recipient
	context map[string]string
}

var _ KeyService = (*AWS)(nil)

// NewAWS returns a key service for the KMS key keyID. encryptionContext is
// bound into every wrapped key (it is not secret; it stops a wrapped key
// made for one purpose being unwrapped for another).
func NewAWS(api API, keyID string, rcpt *Recipient, encryptionContext map[string]string) *AWS {
	return &AWS{api: api, keyID: keyID, rcpt: rcpt, context: encryptionContext}
}

// GenerateDataKey implements [KeyService].
func (a *AWS) GenerateDataKey(ctx context.Context) (plaintext, wrapped []byte, err error) {
	info, err := a.rcpt.info()
	if err != nil {
		return nil, nil, err
	}
	out, err := a.api.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{
		KeyId:             aws.String(a.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: a.context,
		Recipient:         info,
	})
	if err != nil {
		return nil, nil, classify(err)
	}
	if len(out.Plaintext) != 0 {
		return nil, nil, ErrPlaintextReturned
	}
	key, err := a.rcpt.open(out.CiphertextForRecipient)
	if err != nil {
		return nil, nil, err
	}
	if len(key) != DataKeySize || len(out.CiphertextBlob) == 0 {
		return nil, nil, fmt.Errorf("%w: data key of %d bytes", ErrUnwrap, len(key))
	}
	return key, out.CiphertextBlob, nil
}

// Decrypt implements [KeyService].
func (a *AWS) Decrypt(ctx context.Context, wrapped []byte) ([]byte, error) {
	key, err := a.decrypt(ctx, wrapped)
	if err != nil {
		return nil, err
	}
	if len(key) != DataKeySize {
		return nil, fmt.Errorf("%w: data key of %d bytes", ErrUnwrap, len(key))
	}
	return key, nil
}

// MaxSecretSize is the largest plaintext [AWS.DecryptSecret] accepts (AWS
// KMS's Encrypt limit).
const MaxSecretSize = 4096

// DecryptSecret unwraps a KMS ciphertext of any length up to
// [MaxSecretSize] that a key administrator made with Encrypt (for example
// the rollback counter's credentials), under the same recipient attestation
// and encryption context rules as [AWS.Decrypt]: only an enclave whose PCRs
// the key policy names gets the plaintext, and only inside.
func (a *AWS) DecryptSecret(ctx context.Context, wrapped []byte) ([]byte, error) {
	plain, err := a.decrypt(ctx, wrapped)
	if err != nil {
		return nil, err
	}
	if len(plain) == 0 || len(plain) > MaxSecretSize {
		return nil, fmt.Errorf("%w: secret of %d bytes", ErrUnwrap, len(plain))
	}
	return plain, nil
}

func (a *AWS) decrypt(ctx context.Context, wrapped []byte) ([]byte, error) {
	info, err := a.rcpt.info()
	if err != nil {
		return nil, err
	}
	out, err := a.api.Decrypt(ctx, &awskms.DecryptInput{
		CiphertextBlob:    wrapped,
		KeyId:             aws.String(a.keyID),
		EncryptionContext: a.context,
		Recipient:         info,
	})
	if err != nil {
		return nil, classify(err)
	}
	if len(out.Plaintext) != 0 {
		return nil, ErrPlaintextReturned
	}
	return a.rcpt.open(out.CiphertextForRecipient)
}

func classify(err error) error {
	var api smithy.APIError
	if errors.As(err, &api) && api.ErrorCode() == "AccessDeniedException" {
		return fmt.Errorf("%w: %s", ErrDenied, api.ErrorMessage())
	}
	return fmt.Errorf("kms: %w", err)
}

// ClientOptions configures the AWS SDK client the enclave uses.
type ClientOptions struct {
	Region string
	// Endpoint overrides the service endpoint: the simulator's KMS URL.
	// Empty means the regional AWS endpoint, reached through HTTPClient.
	Endpoint string
	// HTTPClient carries the traffic. On Nitro its transport dials the
	// parent's vsock proxy and TLS still ends inside the enclave, so the
	// parent sees only ciphertext.
	HTTPClient *http.Client
	// Credentials sign the requests (SigV4). They authorise the call; the
	// key policy's PCR conditions decide whether key material is released.
	Credentials aws.CredentialsProvider
}

// NewClient returns an AWS KMS client.
func NewClient(o ClientOptions) *awskms.Client {
	opts := awskms.Options{
		Region:      o.Region,
		Credentials: o.Credentials,
	}
	if o.HTTPClient != nil { // a typed nil would defeat the SDK's default
		opts.HTTPClient = o.HTTPClient
	}
	if o.Endpoint != "" {
		opts.BaseEndpoint = aws.String(o.Endpoint)
	}
	return awskms.New(opts)
}
