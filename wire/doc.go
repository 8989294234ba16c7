// Package wire holds the messages the enclave, the parent and clients
// exchange, their one canonical encoding, and the envelope that seals them.
//
// # What belongs here
//
// This package is the contract every party shares, so every party may import
// it: the client SDK, the untrusted parent, the credential issuer, the CLI and
// the enclave. It therefore holds only formats and the checks on them — the
// envelope, the CBOR messages, the binding and policy, the receipt, route
// names, error codes and the host-service framing. It holds no keys of its
// own (a [Gateway] is handed its private key by the enclave, a receipt is
// signed with a key the caller passes), no state, and nothing that decides
// (the match decision, liveness and sealing live in the enclave). It imports
// none of enclave, parent, vectors or simulator; internal/layout's tests
// enforce that, and that parent, client and credential link nothing under
// enclave/.
//
// # Encoding
//
// Every structured message is CBOR with RFC 8949 core deterministic encoding
// ([Marshal]), so hashes and signatures over them ([Policy.Hash],
// [Binding.Hash], [SignReceipt]) are reproducible by anyone. Decoding
// ([Unmarshal]) is strict: duplicate keys, unknown fields, indefinite lengths
// and tags are errors.
//
// # Envelope
//
// Requests and responses between a client and the enclave are encapsulated
// the way RFC 9458 (Oblivious HTTP) does it, with the parent as the relay and
// the enclave as the gateway:
//
//   - [KeyConfig] is the RFC 9458 §3 key configuration the enclave publishes
//     inside its attested [Binding].
//   - [SealRequest] (client) makes key_id ‖ kem_id ‖ kdf_id ‖ aead_id ‖ enc ‖ ct
//     with HPKE base mode over MLKEM768X25519, HKDF-SHA256 and
//     ChaCha20Poly1305 (Go's crypto/hpke). The HPKE info is
//     [RequestLabel] ‖ " " ‖ route ‖ 0x00 ‖ header, so a request sealed for
//     /v1/login does not open as /v1/enroll.
//   - [Gateway.OpenRequest] (enclave) opens it and returns a [ResponseSealer];
//     [ResponseSealer.Seal] answers with response_nonce ‖ ct under a key
//     exported from the request's context with [ResponseLabel] (RFC 9458
//     §4.4). [ResponseOpener.Open] (client) reverses it.
//
// The construction is RFC 9458's byte for byte; only the labels differ, and
// the tests check it against the RFC's Appendix A example with the RFC's
// labels and suite.
//
// # Security properties
//
//   - Only the holder of the gateway's private key reads a request; only the
//     client that sealed it reads the response. The parent sees sizes, routes
//     and timing.
//   - Each response key is used once ([ErrResponseSealed]).
//   - Sealed plaintexts are padded with trailing zero bytes
//     ([MarshalPadded], [UnmarshalPadded]) so that every response of a kind
//     has one size: the parent cannot tell new from returning users, or
//     refusals from successes, by length.
//   - Envelope errors ([ErrBadEnvelope], [ErrUnknownKeyID],
//     [ErrUnsupportedSuite], [ErrDecrypt]) say nothing about the plaintext.
//
// # Caller duties
//
// A client must verify the attestation document that carries the [Binding]
// (package attest), check that the document's user_data is SHA-256 of the
// binding ([Binding.CheckUserData], [ErrUserDataMismatch]) and pin the
// [Policy] it accepts before sealing to the binding's key configuration. A
// gateway's key must come from good randomness ([NewKeyPair] takes it from
// the caller).
//
// # Errors
//
// Failures a client can cause have a stable [Code]; [Error] carries one, and
// [CodeOf] maps any error to its code.
package wire
