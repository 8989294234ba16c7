// Package simulator is a CPU stand-in for the Nitro parts FaceSign depends
// on, so the whole stack runs and is tested on an ordinary machine: the
// Nitro Security Module ([NSM], with its own certificate authority [CA]),
// a KMS that enforces a PCR key policy like AWS KMS ([KMS]), and PCRs taken
// from an enclave image ([PCRsFromEIF]).
//
// # Trusted by nobody by default
//
// The simulator's root certificate is a separate self-signed P-384
// certificate (CN=simulator.nitro-enclaves, O=FaceSign Simulator, OU=NOT FOR
// PRODUCTION). Every certificate it issues carries O=FaceSign Simulator and
// names under "simulator.nitro-enclaves"; none says Amazon or ".aws".
// attest.Verify rejects simulator documents with attest.ErrUntrustedRoot
// unless the caller passes [CA.Root] in attest.VerifyOptions.Roots — an
// explicit opt-in that production clients never make. This package is never
// imported by package attest nor linked into the production enclave binary
// (cmd/facesign-enclave).
//
// # The NSM
//
// [NSM] implements attest.Attester and attest.PCRBank. Its documents are
// encoded exactly like the real module's (untagged COSE_Sign1, protected
// header a1 01 38 22, payload keys in NSM order, millisecond timestamp, 48-byte
// PCRs, CBOR null for absent fields, raw ES384 signature); a test compares
// a simulator document with a real Nitro document item by item. The chain
// is root → regional (~20 days) → zonal (~6 days) → instance (24 h) → a
// fresh leaf per document (3 h), re-issued as the clock passes their
// lifetimes. Boot measurements are given at construction ([NSMOptions].PCRs)
// and locked, as on Nitro; PCRs 16..31 can be extended and locked.
//
// # Caller duties
//
// Time and randomness are injected: [NSMOptions].Clock and Rand, and the
// arguments of [NewCA] and [LoadOrCreateCA]. Since Go 1.26 crypto/ecdsa
// draws key-generation and signing randomness from the system source and
// ignores the reader; serial numbers and identifiers still come from it.
// Persist the CA with [LoadOrCreateCA] so a restarted simulator keeps the
// root its clients pinned. The CA key file protects nothing from whoever
// runs the simulator, and is not meant to.
package simulator
