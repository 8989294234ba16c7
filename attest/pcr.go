package attest

// NumPCRs is the number of PCRs a Nitro Security Module has. PCRs 0..15
// hold the boot measurements and are locked before the enclave's code runs;
// 16..31 are free for the enclave to extend and lock.
const NumPCRs = 32

// A PCRBank is the PCR half of a security module: [Nitro] and the
// simulator's NSM implement it with the NSM's semantics.
type PCRBank interface {
	// DescribePCR returns a PCR's value and whether it is locked.
	DescribePCR(index int) (value []byte, locked bool, err error)
	// ExtendPCR sets PCR[index] = SHA-384(PCR[index] ‖ data) and returns the
	// new value. A locked PCR fails with [ErrPCRLocked].
	ExtendPCR(index int, data []byte) ([]byte, error)
	// LockPCR makes PCR[index] read-only until the enclave stops.
	LockPCR(index int) error
	// LockPCRs locks PCRs 0..n-1.
	LockPCRs(n int) error
}
