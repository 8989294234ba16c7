//go:build !linux

package attest

import "io"

var (
	_ Attester = (*Nitro)(nil)
	_ PCRBank  = (*Nitro)(nil)
)

// Nitro is the [Attester] of a real Nitro Enclave. The NSM exists only in
// Linux enclaves; on this platform every method fails with
// [ErrUnimplemented].
type Nitro struct{}

// OpenNitro fails with [ErrUnimplemented] on this platform.
func OpenNitro() (*Nitro, error) { return nil, ErrUnimplemented }

// Close implements io.Closer.
func (n *Nitro) Close() error { return ErrUnimplemented }

// Attest fails with [ErrUnimplemented].
func (n *Nitro) Attest(Request) ([]byte, error) { return nil, ErrUnimplemented }

// Random returns a reader that fails with [ErrUnimplemented].
func (n *Nitro) Random() io.Reader { return errReader{} }

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, ErrUnimplemented }

// DescribePCR fails with [ErrUnimplemented].
func (n *Nitro) DescribePCR(int) ([]byte, bool, error) { return nil, false, ErrUnimplemented }

// ExtendPCR fails with [ErrUnimplemented].
func (n *Nitro) ExtendPCR(int, []byte) ([]byte, error) { return nil, ErrUnimplemented }

// LockPCR fails with [ErrUnimplemented].
func (n *Nitro) LockPCR(int) error { return ErrUnimplemented }

// LockPCRs fails with [ErrUnimplemented].
func (n *Nitro) LockPCRs(int) error { return ErrUnimplemented }
