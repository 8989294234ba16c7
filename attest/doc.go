// Package attest produces and verifies AWS Nitro Enclaves attestation
// documents.
//
// An attestation document is what the Nitro Security Module (NSM) signs for
// an enclave: an untagged COSE_Sign1 (RFC 9052) with protected header
// {1: -35} (ES384), whose payload is a CBOR map holding module_id, digest,
// timestamp (milliseconds), pcrs, certificate, cabundle (root first),
// public_key, user_data and nonce. [Verify] checks one; an [Attester]
// produces them: [Nitro] on real hardware, the simulator's NSM (package
// simulator, never imported here) on a CPU.
//
// # What Verify proves
//
// When [Verify] returns a [Document] without error, a security module whose
// certificate chains to one of the trusted roots signed exactly these
// fields: the enclave whose measurements are the PCRs said, at Timestamp,
// "here are my public_key, user_data and nonce". With the default roots
// that module is an AWS Nitro card (the root is embedded, DER SHA-256
// [AWSNitroRootSHA256]). Verify does not prove that the enclave is the one
// you want: pin its measurements with [VerifyOptions.PCRs] (PCR0, PCR1,
// PCR2, and PCR8 for signed images). It rejects documents whose PCR0 is all
// zero (debug mode: the parent can read enclave memory) unless
// [VerifyOptions.AllowDebug] is set.
//
// # Freshness: nonce and time
//
// A document is a signed statement, so anyone holding one can replay it.
// Only a nonce the verifier chose at random just before asking, and checked
// with [VerifyOptions.Nonce], proves the enclave is alive now and that the
// document was made for this request. The certificate chain is checked at
// an explicit time: [VerifyOptions.CurrentTime] (the verifier's clock; a
// zero time is an error, nothing defaults to time.Now) or, for archived
// documents and tests, the document's own timestamp with
// [VerifyOptions.AtDocumentTime]. The NSM's signing certificate lives about
// three hours, so verifying at the wall clock also bounds a document's age.
//
// # Errors
//
// Every failure wraps exactly one sentinel, one per class: [ErrOptions],
// [ErrCOSE], [ErrAlgorithm], [ErrPayload], [ErrCertificate],
// [ErrUntrustedRoot], [ErrChain], [ErrExpired], [ErrSignature], [ErrNonce],
// [ErrPCR], [ErrDebugEnclave]. Verify never returns a document together with
// an error.
//
// # Parsing limits
//
// Decoding is strict and bounded: at most [MaxDocumentSize] bytes, definite
// lengths only, no CBOR tags inside the message (only the optional outer tag
// 18), no duplicate or unknown map keys, at most [MaxCABundle] certificates
// of at most [MaxCertificateSize] bytes, PCR indices 0..31 with 32-, 48- or
// 64-byte values, and public_key, user_data and nonce of at most
// [MaxFieldSize] bytes or CBOR null.
//
// # Attesters
//
// [Attester] is the enclave's view of its security module: Attest for
// documents, Random for randomness. [OpenNitro] opens the real NSM
// (/dev/nsm through github.com/hf/nsm, Linux only; elsewhere it fails with
// [ErrUnimplemented]); [OpenNitroDevice] injects the device for tests.
// [Nitro] and the simulator's NSM also implement [PCRBank] (DescribePCR,
// ExtendPCR, LockPCR, LockPCRs) with the NSM's semantics; NSM error codes
// arrive as [*NSMError] and match [ErrPCRLocked], [ErrPCRIndex] and
// [ErrRequest]. There is deliberately no registry that selects an attester
// by name: the production binary constructs [Nitro] and nothing else.
//
// # Simulator documents
//
// The simulator signs with its own root, which is not the AWS root, so its
// documents fail with [ErrUntrustedRoot] unless the caller lists that root in
// [VerifyOptions.Roots]. The production enclave binary never links the
// simulator (see cmd/facesign-enclave).
package attest
