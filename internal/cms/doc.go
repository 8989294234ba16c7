// Package cms reads and writes the one CMS (RFC 5652) shape AWS KMS uses to
// answer a Nitro Enclave: EnvelopedData with a single KeyTransRecipientInfo
// (RSAES-OAEP, SHA-256, MGF1-SHA-256) and AES-256-CBC content, BER-encoded
// with indefinite lengths and chunked octet strings.
//
// # Contract
//
// [Decrypt] is what an enclave runs on CiphertextForRecipient: it accepts
// BER and DER, exactly one recipient, and only the algorithms above (SHA-1
// OAEP defaults and other ciphers are [ErrUnsupported]). Malformed input is
// [ErrMalformed]; input that parses but does not open under the key is
// [ErrDecrypt]. Parsing is bounded: at most [MaxMessage] bytes and a fixed
// nesting depth, no allocation sized by untrusted lengths.
//
// [Encrypt] exists for the simulator's KMS, so that the enclave's unwrap code
// runs on the same shape in CI as on Nitro. Its randomness comes from the
// caller.
//
// EnvelopedData has no integrity protection: AES-CBC is malleable, so bits
// flipped in the IV or content change the plaintext undetected. Callers must
// authenticate what they decrypt; FaceSign only ever unwraps data keys this
// way, and a wrong data key fails the AES-GCM seal of every record it opens.
//
// Only the structure is implemented here; RSA, AES and SHA-256 are the
// standard library's.
package cms
