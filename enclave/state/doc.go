// Package state keeps the enclave's gallery durable, sealed and
// tamper-evident on storage the parent controls.
//
// # What is stored
//
// The parent keeps an append-only log of records numbered 0, 1, 2, … and
// from time to time a snapshot. Record 0 is the log's header: the data key
// wrapped by KMS (see package enclave/kms) and the log's parameters, in the
// clear. Every later record is one gallery change ([enclave.Entry]), padded
// to one size and sealed with AES-256-GCM under the data key; its sealed
// plaintext starts with the hash of the record before it, and its
// additional data binds its sequence number and the log's identity. The
// chain hash is H(0) = SHA-256(header) and H(n) = SHA-256(H(n-1) ‖ record n).
// A snapshot seals every live entry in fixed-size chunks and commits to the
// head it covers: (next sequence number, chain hash).
//
// # Guarantees
//
//   - Confidentiality: the parent sees only the header (a wrapped key it
//     cannot unwrap) and same-sized sealed records, one per request.
//   - Integrity: a flipped bit, a missing, reordered or duplicated record, a
//     record sealed under another key or for another log, a snapshot that
//     does not match the log — each stops [Journal.Replay] with
//     [ErrCorrupt] (or [ErrSnapshot]) and a message naming the record.
//     Nothing is skipped silently.
//   - Write-ahead: [Journal.Append] returns only after the parent
//     acknowledged the durable write and the rollback counter moved on; the
//     enclave answers the client after that.
//   - Rollback: a log and snapshot that are valid but older than what the
//     enclave acknowledged (or deleted outright) are detected against a
//     [Counter] kept outside the parent's control, as [ErrRollback]. What
//     the counter must be in production, and what the simulator's counter
//     can and cannot show, is in docs/state.md.
//
// # Memory
//
// The journal keeps the live identities (id, entropy, vector) in
// pointer-free pages that are never copied as they grow; boot decrypts
// snapshot chunks straight into them and sizes the index from the
// snapshot's count once that count is authenticated. A snapshot reads a
// copy-on-write view, so writing one costs the pages changed meanwhile,
// not a second copy of the gallery. [Journal.Replay] gives every entry its
// own slices; [Journal.ReplayShared] reuses one buffer and so adds almost
// nothing to memory at boot (figures in docs/state.md).
//
// # Caller duties
//
// Call [Journal.Replay] (or [Journal.ReplayShared]) before the first
// Append, and stop the enclave on any error it returns: a refused replay
// keeps nothing, so a retry starts from scratch. With ReplayShared, copy
// what you keep: the entry's Entropy and Vector are overwritten by the
// next entry.
//
// # Several enclaves
//
// Any number of enclaves may share one log (docs/fleet.md). The store
// creates a record only where none exists; an append that loses its
// sequence number returns enclave.ErrJournalBehind and changes nothing:
// the caller runs [Journal.CatchUp] and decides again. The counter is a
// [HeadCounter]: it binds the chain hash of the records it acknowledges
// and moves only from the head it holds, so only one history can ever be
// acknowledged, and an enclave shown another one stops with [ErrForked].
// Followers call [Journal.Poll] and [Journal.CatchUp] to keep their
// gallery current.
//
// # Templates and engine migrations
//
// Beside each identity's enrolment vector the journal keeps its further
// templates ([enclave.OpAddTemplate]) and, while the gallery migrates to a
// new face engine ([enclave.OpMigrate] … [enclave.OpMigrateEnd]), the new
// engine's vectors; snapshots carry all three, in that order. Templates
// belong to the log's current engine: the end of a migration drops them
// with the old engine's vectors ([Journal.Engines], [Journal.Migrated],
// [Journal.Dropped]). Every entry is checked for shape by
// [enclave.CheckEntry] against the dimension of the engine it names.
package state
