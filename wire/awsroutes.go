package wire

import (
	"errors"
	"fmt"
	"time"
)

// Host-services routes that hand the enclave what it needs to call AWS
// (docs/state.md, "Credentials"). Neither answer is trusted for anything but
// availability: the instance credentials only sign requests whose key
// material KMS releases to the attested enclave alone, and the counter
// credentials arrive as a KMS ciphertext only that enclave can open.
const (
	// RouteAWSCredentials answers GET with [AWSCredentials] (JSON): the
	// parent instance role's temporary credentials.
	RouteAWSCredentials = "/internal/v1/aws/credentials"
	// RouteCounterCredentials answers GET with the KMS ciphertext blob
	// (application/octet-stream) of the rollback counter's credentials, or
	// 404 when the parent was given none.
	RouteCounterCredentials = "/internal/v1/aws/counter-credentials"
	// MaxCounterCredentialsBlob bounds the blob: KMS ciphertexts of up to
	// 4096 bytes of plaintext are well under it.
	MaxCounterCredentialsBlob = 8 << 10
)

// AWSCredentials is the JSON body of [RouteAWSCredentials] and the
// plaintext format of the sealed counter credentials: the field names of the
// AWS CLI's credential_process output. Expiration is empty for long-lived
// keys.
type AWSCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	Expiration      string `json:"Expiration,omitempty"` // RFC 3339
}

// ErrBadCredentials reports an [AWSCredentials] without a key id or secret,
// or with an unreadable expiration.
var ErrBadCredentials = errors.New("wire: bad AWS credentials")

// Check validates c and returns its expiration (zero when it has none).
func (c AWSCredentials) Check() (time.Time, error) {
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return time.Time{}, fmt.Errorf("%w: key id and secret are required", ErrBadCredentials)
	}
	if len(c.AccessKeyID) > 128 || len(c.SecretAccessKey) > 128 || len(c.SessionToken) > 4096 {
		return time.Time{}, fmt.Errorf("%w: field too long", ErrBadCredentials)
	}
	if c.Expiration == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, c.Expiration)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: expiration: %w", ErrBadCredentials, err)
	}
	return t, nil
}
