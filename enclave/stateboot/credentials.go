package stateboot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/facesign/facesign/enclave/kms"
	"github.com/facesign/facesign/wire"
)

// ErrCredentials reports AWS credentials the enclave could not get: the
// parent's credentials route failed, or the sealed counter credentials did
// not open or parse.
var ErrCredentials = errors.New("stateboot: AWS credentials")

// hostCredentials is the aws.CredentialsProvider over the parent's
// [wire.RouteAWSCredentials]: the instance role's temporary credentials. They
// are no secret from the parent (it fetched them); they only sign requests,
// and the key policy's PCR conditions decide what KMS releases.
type hostCredentials struct{ client *http.Client }

var _ aws.CredentialsProvider = hostCredentials{}

func (h hostCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	b, err := hostGet(ctx, h.client, wire.RouteAWSCredentials, 16<<10)
	if err != nil {
		return aws.Credentials{}, err
	}
	return parseCredentials(b, "facesign-parent-instance-role")
}

// parseCredentials reads a [wire.AWSCredentials] JSON object strictly.
func parseCredentials(b []byte, source string) (aws.Credentials, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var c wire.AWSCredentials
	if err := dec.Decode(&c); err != nil {
		return aws.Credentials{}, fmt.Errorf("%w: %s: not credentials JSON", ErrCredentials, source)
	}
	if dec.More() {
		return aws.Credentials{}, fmt.Errorf("%w: %s: trailing data", ErrCredentials, source)
	}
	exp, err := c.Check()
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("%w: %s: %w", ErrCredentials, source, err)
	}
	return aws.Credentials{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		Source: source, CanExpire: !exp.IsZero(), Expires: exp,
	}, nil
}

// hostGet GETs route from the host services, reading at most max bytes.
func hostGet(ctx context.Context, c *http.Client, route string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://parent"+route, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCredentials, route, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s: parent answered %s", ErrCredentials, route, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCredentials, route, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: %s: answer over %d bytes", ErrCredentials, route, max)
	}
	return b, nil
}

// sealedCounterCredentials fetches the KMS ciphertext of the counter's
// credentials from the parent and opens it inside the enclave (KMS Decrypt
// with recipient attestation under [CounterCredentialsContext]). A parent
// cannot substitute credentials of its own: it is not allowed to Encrypt
// under the key (docs/state.md), so no other ciphertext opens.
func sealedCounterCredentials(ctx context.Context, host *http.Client, keys *kms.AWS) (aws.CredentialsProvider, error) {
	blob, err := hostGet(ctx, host, wire.RouteCounterCredentials, wire.MaxCounterCredentialsBlob)
	if err != nil {
		return nil, err
	}
	plain, err := keys.DecryptSecret(ctx, blob)
	if err != nil {
		return nil, fmt.Errorf("%w: sealed counter credentials: %w", ErrCredentials, err)
	}
	creds, err := parseCredentials(plain, "facesign-sealed-counter")
	clear(plain)
	if err != nil {
		return nil, err
	}
	return credentialsValue{creds}, nil
}

// credentialsValue is a fixed credentials provider.
type credentialsValue struct{ c aws.Credentials }

func (v credentialsValue) Retrieve(context.Context) (aws.Credentials, error) { return v.c, nil }
