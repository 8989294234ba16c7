// Package nodetest runs the Node.js peers that interop and conformance tests
// compare against (the npm libraries the idOS app and the reference models
// use), so every such test finds, checks and runs them the same way.
//
// # Contract
//
// A peer is a directory, conventionally <package>/testdata/node, holding the
// scripts, a package.json and a package-lock.json with exact versions;
// `make node-deps` runs `npm ci` there (node_modules is never committed).
//
//   - [Require] fails the test — it never skips — with a message that says
//     "run make node-deps" when node is not on PATH, when node_modules is
//     missing, when a dependency package.json names is not installed (or is
//     installed at another version than the exact one it pins: a stale
//     node_modules after a lock bump), or when a file the caller names
//     inside node_modules is. A comparison against a peer that silently did
//     not run would prove nothing.
//   - [Peer.Run] runs one script with the given standard input in the peer's
//     directory and returns its standard output. A non-zero exit fails the
//     test with the script's standard error; a run longer than
//     [Peer.Timeout] (default [DefaultTimeout], shortened to end before the
//     test's own deadline) is killed and fails the test.
//   - [Peer.RunJSON] is Run with a JSON value in and a JSON value out.
//
// In a package's interop test, with its peer in testdata/node:
//
//	peer := nodetest.Require(t, filepath.Join("testdata", "node"), "tweetnacl")
//	var out struct{ PublicKey string `json:"public_key"` }
//	peer.RunJSON(t, "interop.mjs", map[string]string{"seed": seedHex}, &out)
//
// # Caller duties
//
// Only tests import this package. Scripts must read their whole input from
// standard input or arguments, write only their result to standard output
// (diagnostics go to standard error) and exit non-zero on failure.
package nodetest
