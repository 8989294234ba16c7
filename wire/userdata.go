package wire

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrUserDataMismatch means an attestation document's user_data is not
// SHA-256 of the [Binding] presented with it: the binding is not the one the
// enclave attested to.
var ErrUserDataMismatch = errors.New("wire: user_data is not SHA-256 of the binding")

// CheckUserData checks that userData, the user_data of an attestation
// document already verified by the caller (package attest), is SHA-256 of
// b's canonical encoding ([Binding.Hash]); only then do the binding's key
// configuration, policy and receipt key belong to the attested enclave. It
// returns an error wrapping [ErrUserDataMismatch] when they differ (a
// missing user_data included), or the encoding error when b cannot be
// encoded.
func (b Binding) CheckUserData(userData []byte) error {
	h, err := b.Hash()
	if err != nil {
		return fmt.Errorf("wire: binding: %w", err)
	}
	if !bytes.Equal(userData, h[:]) {
		return fmt.Errorf("%w: user_data %x, SHA-256 of the binding %x", ErrUserDataMismatch, userData, h)
	}
	return nil
}
