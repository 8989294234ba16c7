package simulator

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/facesign/facesign/eif"
)

// PCRsFromEIF returns the PCRs a Nitro hypervisor sets when it boots the
// enclave image of the given size in r: PCR0, PCR1, PCR2 and, for signed
// images, PCR8, each 48 bytes, keyed by index — the values a real
// attestation document of that image carries, so the simulated NSM can
// attest exactly what production would.
//
// Like nitro-cli run-enclave it refuses an image that does not verify: a bad
// CRC, or a signature that does not cover the image's PCR0 or whose
// certificate is not valid at now. now must not be zero. The other PCRs
// (3: parent IAM role, 4: parent instance ID) come from the parent instance,
// not the image, and are the caller's to set.
func PCRsFromEIF(r io.ReaderAt, size int64, now time.Time) (map[int][]byte, error) {
	if now.IsZero() {
		return nil, fmt.Errorf("simulator: eif: zero verification time")
	}
	im, err := eif.Read(r, size, nil)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	if err := im.Verify(now); err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	return im.Measurements().Map(), nil
}

// PCRsFromEIFFile is [PCRsFromEIF] for a file.
func PCRsFromEIFFile(path string, now time.Time) (map[int][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("simulator: %w", err)
	}
	return PCRsFromEIF(f, st.Size(), now)
}
