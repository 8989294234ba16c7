// Package fleettest shows one gallery served by several enclaves
// (docs/fleet.md) on the real simulator binary: "facesign sim --enclaves
// 3", three enclaves each with its own parent process, one shared log and
// counter, one front. Its tests drive it with the client SDK and real
// recordings (client/testdata/liveness) through the front, as a phone
// would:
//
//   - concurrent enrolments of one face spread over the enclaves end with
//     exactly one "new";
//   - a rolling upgrade from image A to image B (both signed with the
//     release certificate the KMS key policy pins as PCR8), one member at a
//     time, while traffic runs: the front is ready throughout, every
//     request is answered, identities survive;
//   - an enclave of an image the key policy does not name (signed with
//     another certificate) cannot open the state and never serves, while
//     the others do;
//   - an engine migration under load from dlibresnet (the former default,
//     which real galleries were built with) to arcface-fused (the current
//     default): both engines on every capture, returning people get a
//     new-engine vector, progress on /metrics, the end drops the old
//     engine's vectors and templates and counts the identities never seen.
//
// The images are Enclave Image Files built by package eif with signing
// certificates made for the test; the simulated NSM reports their PCRs.
//
// The tests build cmd/facesign once (internal/simtest) and need linux.
package fleettest
