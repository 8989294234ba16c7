// Package js exposes the FaceSign client SDK ([client], [wallet]) to
// JavaScript when the module is compiled to WebAssembly (GOOS=js
// GOARCH=wasm): the idOS app in a browser runs the same Go code that
// verifies attestation documents, seals face requests and opens the
// enclave's answers on every other platform. cmd/facesign-wasm is its main.
//
// # The JavaScript API
//
// [Register] defines globalThis.facesign:
//
//	const c = await facesign.newClient({
//	  url: "https://facesign.example",      // the parent's public API
//	  pcrs: {0: "…", 1: "…", 2: "…"},        // hex, 48 bytes each
//	  rootsPEM: ["-----BEGIN CERTIFICATE…"], // optional; default: the AWS Nitro root
//	  anyMeasurement: false,                 // only with the simulator
//	  policyHash: "…", engine: "…", modelSHA256: "…", // optional pins
//	});
//	const att = await c.attest();           // verified attestation summary
//	const ch  = await c.challenge();        // {id, actions, expiresAt}
//	const res = await c.enroll(ch, frames); // frames: Array of Uint8Array (JPEG/PNG)
//	// also c.login(ch, frames), c.remove(ch, frames) (delete)
//
//	// Or film the person live (the enrolment page does, in a Web Worker):
//	await facesign.loadTracker();           // the face tracking models
//	const cap = await c.capture(ch);        // a live capture answering ch
//	const g = await cap.track(rgba, w, h);  // camera frame (ImageData.data) → guidance
//	//   g: {code, action, step, steps, candidate, done, faces}
//	if (g.candidate) await cap.offer(jpeg); // the frame as sent; kept if it qualifies
//	const res = await cap.submit("enroll"); // or "login", "remove"; frames wiped after
//	// res: {status, uniqueId, entropy: Uint8Array, signedReceipt, attestation}
//	const w = await facesign.wallet(res.entropy); // {mnemonic, facesignAddress, evmAddress, …}
//	const sig = await w.signPersonal("message");  // EIP-191, 0x-hex
//
// Every function returns a Promise (a Go callback cannot throw into
// JavaScript, and one shape is easier to use). A refusal rejects it with an
// Error whose name is "FaceSignError" and whose code is the
// service's stable code (liveness_failed, challenge_expired, …; see
// docs/api.md), with sealed telling whether the attested enclave itself
// refused; any other failure (an attestation that does not verify, a
// network error) has code "client_error". Bad arguments reject with code
// "bad_argument" before anything is sent, and change nothing.
//
// # Security
//
// The same checks run as in Go: the attestation chain to the given roots at
// the browser's clock, a fresh nonce, the PCR pins, the binding hash, the
// policy and engine pins, and every receipt against the binding. The
// simulator's root is trusted only when the page passes it in rootsPEM.
// Randomness comes from crypto.getRandomValues (Go's crypto/rand on js).
// Entropy and the mnemonic are secrets: the page must not log or store them
// outside the user's wallet.
//
// A challenge is single use: the client forgets it once a face request
// answering it was sent, and a second use fails with code "bad_argument".
//
// # Live capture
//
// The face tracking is the project's own detector (vectors/detect, the
// enclave engine's BlazeFace and FaceMesh), compiled into this binary with
// its weights, driven by [capture.Live] and [capture.Tracker]: track is the
// fast path (guidance codes such as "move_closer", "several_faces",
// "action"), offer measures the encoded frame exactly as the enclave will
// and keeps it only if it qualifies. Frames passed to track and offer are
// zeroed once measured; the kept ones live only in the capture and are
// zeroed by submit (whatever the outcome) or wipe.
package js
