// Package layout holds no code: its tests enforce the dependency rules of
// DESIGN.md between the project's top-level packages, so that a change that
// makes the untrusted parent (or a client) link enclave code, or puts
// enclave-, host- or engine-specific code into the shared protocol package,
// fails `make test` instead of going unnoticed.
//
// The rules, each checked with `go list -deps` (non-test dependencies):
//
//   - parent, client and credential (and everything below them) import
//     nothing under enclave/: they hold no trusted code.
//   - wire, the protocol every party shares, imports nothing under enclave/,
//     parent/, vectors/ or simulator/.
//   - vectors knows nothing of HTTP, storage or keys: it imports nothing
//     under enclave/, parent/, wire/, client/, credential/ or simulator/.
//   - attest imports nothing under enclave/, parent/ or simulator/.
//
// The enclave binary's own rule (no simulator code) is tested beside it, in
// cmd/facesign-enclave.
package layout
