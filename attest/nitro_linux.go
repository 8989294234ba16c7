//go:build linux

package attest

import (
	"fmt"
	"io"

	"github.com/hf/nsm"
	"github.com/hf/nsm/request"
	"github.com/hf/nsm/response"
)

var (
	_ Attester = (*Nitro)(nil)
	_ PCRBank  = (*Nitro)(nil)
)

// Nitro is the [Attester] of a real Nitro Enclave: it talks to the Nitro
// Security Module through /dev/nsm with github.com/hf/nsm. It is safe for
// concurrent use, except Close.
type Nitro struct {
	sess *nsm.Session
}

// OpenNitro opens /dev/nsm. It fails outside a Nitro Enclave.
func OpenNitro() (*Nitro, error) { return OpenNitroDevice(nsm.DefaultOptions) }

// OpenNitroDevice opens the NSM through opts, the device seam of
// github.com/hf/nsm (Open returns the device, Syscall performs its ioctl).
// Production code uses [OpenNitro]; tests inject a device here.
func OpenNitroDevice(opts nsm.Options) (*Nitro, error) {
	sess, err := nsm.OpenSession(opts)
	if err != nil {
		return nil, fmt.Errorf("attest: open nsm: %w", err)
	}
	return &Nitro{sess: sess}, nil
}

// Close closes the device.
func (n *Nitro) Close() error { return n.sess.Close() }

// Attest asks the NSM for a document over req. Absent fields are sent as
// CBOR null, which the NSM copies into the document.
func (n *Nitro) Attest(req Request) ([]byte, error) {
	if err := req.Check(); err != nil {
		return nil, err
	}
	res, err := n.send("Attestation", &request.Attestation{
		Nonce: req.Nonce, UserData: req.UserData, PublicKey: req.PublicKey,
	})
	if err != nil {
		return nil, err
	}
	if res.Attestation == nil || len(res.Attestation.Document) == 0 {
		return nil, &NSMError{Op: "Attestation", Code: string(response.ECInvalidResponse)}
	}
	return res.Attestation.Document, nil
}

// Random returns the NSM's random number generator as a reader. Each Read
// fills its whole buffer (several GetRandom requests if needed) or fails.
func (n *Nitro) Random() io.Reader { return nitroRandom{n.sess} }

type nitroRandom struct{ sess *nsm.Session }

func (r nitroRandom) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	k, err := r.sess.Read(p)
	if err != nil {
		return k, fmt.Errorf("attest: nsm GetRandom: %w", err)
	}
	return k, nil
}

// DescribePCR implements [PCRBank].
func (n *Nitro) DescribePCR(index int) ([]byte, bool, error) {
	if index < 0 || index >= NumPCRs {
		return nil, false, fmt.Errorf("%w: %d", ErrPCRIndex, index)
	}
	res, err := n.send("DescribePCR", &request.DescribePCR{Index: uint16(index)})
	if err != nil {
		return nil, false, err
	}
	if res.DescribePCR == nil {
		return nil, false, &NSMError{Op: "DescribePCR", Code: string(response.ECInvalidResponse)}
	}
	return res.DescribePCR.Data, res.DescribePCR.Lock, nil
}

// ExtendPCR implements [PCRBank].
func (n *Nitro) ExtendPCR(index int, data []byte) ([]byte, error) {
	if index < 0 || index >= NumPCRs {
		return nil, fmt.Errorf("%w: %d", ErrPCRIndex, index)
	}
	res, err := n.send("ExtendPCR", &request.ExtendPCR{Index: uint16(index), Data: data})
	if err != nil {
		return nil, err
	}
	if res.ExtendPCR == nil {
		return nil, &NSMError{Op: "ExtendPCR", Code: string(response.ECInvalidResponse)}
	}
	return res.ExtendPCR.Data, nil
}

// LockPCR implements [PCRBank].
func (n *Nitro) LockPCR(index int) error {
	if index < 0 || index >= NumPCRs {
		return fmt.Errorf("%w: %d", ErrPCRIndex, index)
	}
	res, err := n.send("LockPCR", &request.LockPCR{Index: uint16(index)})
	if err == nil && res.LockPCR == nil {
		err = &NSMError{Op: "LockPCR", Code: string(response.ECInvalidResponse)}
	}
	return err
}

// LockPCRs implements [PCRBank].
func (n *Nitro) LockPCRs(count int) error {
	if count < 0 || count > NumPCRs {
		return fmt.Errorf("%w: range %d", ErrPCRIndex, count)
	}
	res, err := n.send("LockPCRs", &request.LockPCRs{Range: uint16(count)})
	if err == nil && res.LockPCRs == nil {
		err = &NSMError{Op: "LockPCRs", Code: string(response.ECInvalidResponse)}
	}
	return err
}

func (n *Nitro) send(op string, req request.Request) (response.Response, error) {
	res, err := n.sess.Send(req)
	if err != nil {
		return response.Response{}, fmt.Errorf("attest: nsm %s: %w", op, err)
	}
	if res.Error != "" {
		return response.Response{}, &NSMError{Op: op, Code: string(res.Error)}
	}
	return res, nil
}
