// Package enclave is FaceSign's trusted service: it holds the HPKE and
// receipt keys, checks liveness, turns frames into one face vector, decides
// new / existing / ambiguous against the gallery, and hands out unique IDs
// and entropy that only the requesting client can read.
//
// # Boot
//
// [New] draws every secret from the injected [attest.Attester]'s randomness
// (the NSM on Nitro): the MLKEM768X25519 key pair (wire.NewKeyPair), a key
// id, and the Ed25519 receipt key. It builds the [wire.Binding] {key config,
// policy, receipt key} whose SHA-256 every attestation document carries as
// user_data, then replays the [Journal] into the gallery. Time comes from
// Config.Now; there is no default clock and a zero time is an error.
//
// # API
//
// [Service.Handler] serves the enclave HTTP API of docs/protocol.md;
// [Service.Serve] runs it on any [net.Listener] (vsock on Nitro, loopback or
// a unix socket in the simulator). Errors before an envelope opens are plain
// JSON with a stable [wire.Code]; everything after is sealed.
//
// [Run] is the whole of both enclave binaries: engine from the registry,
// [DefaultPolicy], a [Journal] over the parent's host services ([HostLog] on
// an [Endpoint]: vsock on Nitro, unix or TCP in the simulator), [Service].
//
// # Pipeline
//
// A face request (enrol, login, delete) goes: frame count and byte limits →
// image headers (pixel limit, before any pixel is decoded) → the challenge is
// consumed ([Challenges]: single use, TTL, 16-byte id + 32-byte nonce that
// only the client saw, inside its sealed challenge response) → each frame is
// decoded, its face detected (exactly one, big enough) and embedded, and its
// pixels zeroed — the frames of a request in parallel on one worker pool
// shared by every request ([Config.FrameWorkers], default GOMAXPROCS), with
// the result and the error of doing them in order → [Liveness] → the frame
// vectors are fused, each weighted by its quality ([vectors.Quality],
// [vectors.Fuse]) → a 1:N scan without the lock (coalesced with concurrent
// scans), then under one lock: the scan corrected for every gallery change
// since it began (optimistic.go), the best score per identity, [Decide] on
// the [Index] (a [vectors.Gallery] by default, checked against the plain
// [ExactIndex]), exactly one [Journal] write, and only once it is durable,
// the change to the in-memory gallery and the answer.
//
// # Templates
//
// An identity keeps up to the policy's K vectors ([MaxTemplates] at most):
// its enrolment vector and later captures that matched it strongly and add
// a view it lacks (templates.go, docs/templates.md). The index holds each
// in its own slot; decisions see one score per identity, its best. A kept
// template is an [OpAddTemplate] record written instead of the [OpNone]
// record, so it costs no extra write; a delete removes every template.
//
// # Several enclaves, engine migrations
//
// Several enclaves may share one log (fleet.go, docs/fleet.md): each
// appends at the sequence number after the last record it saw, and one that
// loses the number catches up ([Follower]) and decides again, so every
// answer comes from a view that misses no acknowledged record. With
// Config.NextEngine the gallery migrates to another engine
// (migrate_service.go): both engines embed every capture, a face is new only
// when new under both galleries, a returning person gets the new engine's
// vector as the request's one record, and the policy names both engines
// (wire.Policy.Migration). No templates are kept while a migration runs.
//
// # Memory and time
//
// At most [Config.MaxConcurrent] requests are past the queue, and at most
// [Config.FrameWorkers] frames are decoded at once across all of them: the
// decoded pixels in memory are bounded by FrameWorkers × 4 × policy
// MaxPixels bytes plus the engine's working tensors per frame, whatever
// the number of requests. A request holds its encoded frames (at most
// MaxFrames × MaxFrameBytes) and, per frame, an [Observation] of a few KiB.
// The identity tables, the next gallery's during a migration too, hold no
// pointers (16-byte unique IDs, identities by value, each named by its
// enrolment slot), so the garbage collector does not walk them however many
// identities are enrolled.
// Every face request is timed stage by stage (wire.StageNames); the
// histograms, durations and counts only, are served on GET /stages for the
// parent's /metrics (docs/engine-perf.md).
//
// # Security properties
//
//   - The parent learns nothing from sizes or storage traffic: every face
//     response is padded to wire.ResponseSize, and every face request that
//     opened makes exactly one journal write of one fixed size, whatever the
//     outcome (an OpNone record when nothing changed, refusals included; an
//     OpAddTemplate record of the same size when a returning person's
//     capture becomes a template).
//   - Write-ahead: a new identity is answered only after the parent
//     acknowledged its durable record; a failed write answers "unavailable"
//     and changes nothing.
//   - Concurrent enrolments of one face serialise on the decide + write
//     section, and each decides on the gallery as it is at its write (the
//     unlocked scan is corrected for later changes), so they end with one
//     unique ID.
//   - [Decide] never picks among several matching identities: one person's
//     entropy is never handed to another.
//   - A unique ID is kept as 16 bytes and answered in canonical form; a
//     journal entry whose unique ID is in any other form is refused
//     ([ErrBadEntry]) and changes nothing, so every ID comes back exactly as
//     it was written, and one unique ID names one identity across both
//     galleries of a migration.
//   - Under a policy with a threshold rule (thresholds.go, [RulePolicy]) the
//     thresholds follow the number of enrolled vectors (templates included:
//     a stranger is compared with each), so a stranger clears
//     the match threshold with probability at most the rule's epsilon per
//     attempt by the engine's calibration; past the rule's capacity nobody
//     is answered new. The gallery size never leaves the enclave; crossing
//     the capacity is logged.
//   - Log lines carry routes, durations and error classes only — no frames,
//     vectors, unique IDs, entropy, or outcomes (an outcome would tell the
//     parent, who may read the logs, new from returning).
//
// # Caller duties
//
// The caller supplies a [Journal] whose data key survives restarts — in
// both binaries enclave/state.Journal, wired by enclave/stateboot (KMS-wrapped
// key, hash chain, snapshots, rollback counter); [SealedJournal] is the simple
// one for tests, see it for what it does not detect — an engine whose ID and
// model hash equal the policy's, and a clock.
package enclave
