// Package client is the FaceSign SDK: it checks that it is talking to an
// attested enclave running the pinned code and policy, seals requests only
// that enclave can open, and verifies what comes back. It is what the
// facesign enroll / login / delete commands and the end-to-end tests use,
// and it holds no global state.
//
// # Flow
//
//	c, _ := client.New(url, client.Options{PCRs: pins, Now: time.Now, Rand: rand.Reader})
//	ch, _ := c.Challenge(ctx)               // attests first if needed
//	// … film the user performing ch.Actions, in order …
//	res, err := c.Enroll(ctx, ch, frames)   // new or existing; res.Entropy is the wallet secret
//
// # What is verified
//
// [Client.Attest] fetches GET /v1/attestation with a fresh 32-byte nonce from
// [Options.Rand] and accepts it only if: the document verifies with
// attest.Verify against [Options.Roots] (the AWS Nitro root when nil) at
// [Options.Now], with the nonce, the PCR pins and no debug mode; its
// user_data is SHA-256 of the binding's canonical CBOR; and the binding's
// policy matches [Options.PolicyHash], [Options.Engine] and
// [Options.ModelSHA256] where set. Requests are then sealed (RFC 9458,
// MLKEM768X25519 / HKDF-SHA256 / ChaCha20Poly1305, route bound into the
// seal) to the attested key configuration, and every answer must open under
// that request's context, decode strictly, carry a status the route allows,
// and carry a receipt signed by the binding's receipt key for the attested
// policy that names the same status and unique ID.
//
// # Errors
//
// A refusal with a stable code is a [*RejectedError]; errors.Is matches it
// against the sentinel of its code ([ErrNoFace], [ErrChallengeExpired],
// [ErrRateLimited], …). The client's own checks fail with [ErrAttestation],
// [ErrBinding], [ErrPolicy], [ErrReceipt], [ErrBadResponse] or [ErrServer].
// No method returns a result together with an error.
//
// # Caller duties
//
// Pin the measurements (PCR0/1/2, and PCR8 for signed images) of the image
// you audited; [Options.AnyMeasurement] exists for the simulator only. Trust
// the simulator root ([FetchSimulatorRoot]) only on an explicit opt-in.
// Treat [Result.Entropy] like a private key. A [Challenge] answers one
// request; its frames should be filmed live — picking recorded frames to
// match the actions (package client/capture) is a replay, fit for demos and
// tests only.
package client
