// Package simtest runs the two-process simulator — "facesign sim": the
// parent in that process, the enclave as its child — for end-to-end tests,
// so every such test builds, starts, waits for and stops it the same way.
//
// # Contract
//
//   - [Binary] builds ./cmd/facesign once per test binary, into a temporary
//     directory that [Cleanup] removes; a failed build fails every later
//     call with the compiler's output. [Build] is Binary for a test.
//   - [Launch] runs "facesign sim --addr 127.0.0.1:0 --data DIR --rate 0"
//     plus [Options.Args], waits for the URL the simulator prints as its
//     first line of standard output (at most [Options.ReadyTimeout]),
//     fetches the simulator's root certificate from it, and returns the
//     running [Sim]. Its standard error is kept, whole, in [Sim.Log]. A
//     simulator that exits or does not come up is an error that carries
//     the log's tail; it is stopped first.
//   - [Start] is Launch for one test: it fails the test — never skips — and
//     stops the simulator when the test ends.
//   - [Sim.Stop] sends SIGTERM, as an operator would, and kills the process
//     if it has not exited after [StopTimeout]. A data directory Launch made
//     itself is removed then; one the caller named is left alone.
//
// On Linux the simulator is also killed when the test binary dies (a test
// timeout), so no orphan keeps the machine busy.
//
// # Caller duties
//
// Only tests import this package. A test binary that calls [Binary] or
// [Build] calls [Cleanup] from TestMain after m.Run. A [Sim] that [Launch]
// returned is the caller's to [Sim.Stop]. Tests that kill the simulator on
// purpose (internal/crashtest) use [Binary] only and manage the processes
// themselves.
package simtest
