// Package page is the FaceSign enrolment page: the web page a person opens
// to enrol, log in or delete with their camera, served by the stack itself
// ("facesign sim", "facesign parent --page") or written out as static files
// ("make page" → bin/page/) for an app to host on its own origin.
//
// # What it serves
//
// [New] builds a [Site] from the page files embedded in this package
// (static/: index.html, page.css, page.js, worker.js, messages.json), the
// WebAssembly SDK built by "make wasm" (cmd/facesign-wasm, which carries the
// face tracking: the project's own detector and its weights) and Go's
// wasm_exec.js from the same toolchain, and a [Config]:
//
//   - GET / (and /index.html): the page, revalidated on every load;
//   - GET /config.json: the API's address and what the page trusts (PCR
//     pins; the simulator root only in simulator mode), revalidated;
//   - GET /assets/NAME.HASH.EXT: everything else, named by the first 16 hex
//     digits of its SHA-256, cached for a year (immutable), with an ETag;
//   - gzip when the request accepts it (precompressed at build time);
//   - on every answer: a Content-Security-Policy without inline script or
//     style and without any third-party origin (only the API's, when it is
//     not the page's own), Permissions-Policy allowing the camera on the
//     page's own origin only, Referrer-Policy no-referrer, nosniff, no
//     framing, same-origin opener and resource policies.
//
// # Contract
//
// A production page pins the enclave's PCRs ([Config.PCRs]); a page without
// pins is refused with [ErrConfig] unless it is a simulator page, which must
// carry the simulator's root and shows a "SIMULATOR — not for real
// identities" banner. The page verifies the enclave's attestation in the
// browser before it opens the camera.
//
// The page keeps frames in memory only (in the SDK's worker, zeroed once
// measured or sent) and writes nothing to localStorage, sessionStorage,
// IndexedDB, cookies, the URL or the console; the entropy never leaves the
// worker and the unique ID is never shown. docs/page.md has the flow, the
// choice of face tracking, the page weight and the timings.
package page
