// Package kms gives the enclave its data keys through a key management
// service that releases them only to an attested enclave.
//
// # How a key reaches the enclave
//
// The enclave makes an RSA-2048 [Recipient] at boot. For every call it asks
// its security module for a fresh attestation document carrying the
// recipient's public key and sends it as the request's Recipient. AWS KMS
// (or the simulator's KMS, which speaks the same JSON protocol) checks the
// document's signature and the key policy's kms:RecipientAttestation:PCR<n>
// conditions, and answers with CiphertextForRecipient: CMS EnvelopedData to
// the recipient key. The enclave opens it with package internal/cms. The
// wrapped key (CiphertextBlob) is what the parent stores.
//
// # Guarantees and duties
//
//   - Key material never crosses the parent in the clear: a response that
//     carries Plaintext is refused ([ErrPlaintextReturned]).
//   - A key policy that names other PCRs gets [ErrDenied]: a modified
//     enclave image cannot unwrap the gallery's keys.
//   - Callers authenticate what the unwrapped key protects (AES-GCM), since
//     CMS EnvelopedData itself carries no integrity.
//   - The encryption context passed to [NewAWS] is bound into every wrapped
//     key and must be the same to unwrap it.
//
// # Secrets other than data keys
//
// [AWS.DecryptSecret] opens a ciphertext a key administrator made with
// Encrypt (the rollback counter's credentials) under the same recipient and
// encryption-context rules, so only the attested enclave sees the plaintext.
//
// On Nitro the SDK's HTTP client dials the parent's vsock egress relay with
// TLS terminating inside the enclave (package enclave/stateboot builds it);
// see docs/state.md for the key policy.
package kms
