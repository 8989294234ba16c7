// Package syncbuf provides [Buffer], a bytes.Buffer that several goroutines
// may write and read at once: the sink for logs that a server, a child
// process's stderr or a test's own goroutines write while the test reads
// them.
//
// # Contract
//
// Every method holds one mutex for its whole call, so each Write lands
// whole and in the order the calls took the lock, and a read sees a prefix
// of the writes made so far (its tail, when [Buffer.Limit] has dropped the
// oldest bytes). [Buffer.Bytes] returns a copy the caller owns.
// The zero Buffer is empty and ready to use; it must not be copied after
// first use.
package syncbuf
