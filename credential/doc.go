// Package credential turns an enclave's signed receipt into the idOS FaceID
// Verifiable Credential, encrypted to its holder: what issuers run.
//
// # What an issuer checks
//
// [Issue] mints nothing until [VerifyEvidence] has established, in order:
//
//  1. the attestation document verifies with attest.Verify at the caller's
//     explicit time, chains to the caller's roots (nil: the AWS Nitro root
//     only; the simulator's root must be passed explicitly) and matches the
//     caller's PCR pins, which are required;
//  2. its user_data is SHA-256 of the canonical CBOR binding presented with
//     the receipt, so the binding's receipt key and policy are the measured
//     enclave's (and, when pinned, the policy hash is the expected one);
//  3. the receipt's Ed25519 signature verifies under that receipt key and
//     its policy hash is the binding's policy (wire.SignedReceipt.Open);
//  4. the receipt says "new" or "existing" (a live, enrolled person), names
//     a UUID, and is not dated in the issuer's future.
//
// A forged receipt, one for another policy or another enclave, or one whose
// attestation does not verify is refused with [ErrReceipt], [ErrBinding] or
// [ErrAttestation] (wrapping attest's own sentinel).
//
// # The credential
//
// A W3C VC 1.1 document with the idOS contexts ([ContextCredentialsV1],
// [ContextIDOSV1], [ContextEd25519_2020]), issuer = the issuer key's
// controller, id "<issuer>/credentials/<uuid>", level "human", issued /
// issuanceDate = the issuer's time, approvedAt = the receipt's time, an
// optional expirationDate, and credentialSubject {"@context":
// [ContextFaceIDSubject], "faceSignUserId": unique ID}. Its proof is
// Ed25519Signature2020 (proofPurpose assertionMethod, verificationMethod
// "<issuer>/keys/1"): proofValue = 'z' + base58btc of the Ed25519 signature of
// SHA-256(URDNA2015 N-Quads of the proof options) ‖ SHA-256(URDNA2015 N-Quads
// of the document without proof) — what @digitalbazaar/vc and
// @digitalbazaar/ed25519-signature-2020 produce and verify (tested against
// them). JSON-LD contexts come only from the embedded [StaticLoader]; an
// unknown context URL is [ErrUnknownContext], a term no context defines is
// [ErrCanonical], and [ParseCredential] accepts exactly the members above, so
// nothing can be signed that a verifier does not see.
//
// # The record
//
// [Record] is what idOS stores: the credential JSON sealed with NaCl box
// (x25519-xsalsa20-poly1305) from a fresh ephemeral key to the holder's x25519
// key, content = base64(nonce ‖ box) as idOS lays it out, the public notes
// {"type":"PoP","level":"human","status":"approved","issuer":"FaceSign"}, and
// the issuer's Ed25519 signatures over the notes and over notes signature ‖
// content, as idOS's issuer SDK makes them.
//
// # Caller duties
//
// Time and randomness come from the caller: a zero time or a nil reader is
// [ErrOptions]. Pass a cryptographically secure reader in production; the
// ephemeral key, nonce and credential UUID are read from it. Keep the issuer
// key file private (it is written with mode 0600 by the CLI); publish
// [IssuerKey.PublicDocument].
package credential
