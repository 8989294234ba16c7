// Package crashtest shows that FaceSign's sealed state survives crashes:
// it kills the enclave or the parent of the real two-process simulator
// ("facesign sim", which runs "facesign sim-enclave" as a child) with
// SIGKILL at random points while two workers continuously enrol, log in
// and delete two real faces through the client SDK, restarts the stack, and
// checks every answer against a [Model] of what a write-ahead service may
// hold.
//
// # What it checks
//
//   - Every acknowledged enrolment is still there after any number of
//     crashes: a later login or enrolment of that face returns the same
//     unique ID and the same entropy, until an acknowledged delete.
//   - No face ever gets a second ID: "new" is only a valid answer when the
//     face may be absent; a face with two live IDs would also make its
//     final login ambiguous, which fails the run.
//   - No identity is handed to another face, and no ID is issued twice.
//   - Requests in flight at a kill may or may not have taken effect (their
//     write may have become durable before the crash); the model keeps both
//     possibilities until an acknowledged answer decides.
//
// Kills land while the stack boots (KMS unwrap, log header, snapshot load,
// replay) and while it serves (between a durable write and the rollback
// counter, during a snapshot upload, mid-request). After a parent kill the
// orphaned enclave is killed too, as the host's death would end it.
//
// # Running it
//
// TestCrash builds cmd/facesign and runs FACESIGN_CRASH_CYCLES cycles
// (default 5, to keep `make test` fast); the figure is 200:
//
//	FACESIGN_CRASH_CYCLES=200 go test -run TestCrash -timeout 3h -v ./internal/crashtest
//
// FACESIGN_CRASH_SEED picks the kill schedule; the data directory and the
// simulator's log tail are printed when a run fails. The harness needs
// linux (/proc to find the enclave child).
package crashtest
