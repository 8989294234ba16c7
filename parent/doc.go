// Package parent is the FaceSign host: the untrusted process beside the
// enclave. It serves the public HTTP API, relays sealed requests to the
// enclave, keeps the enclave's sealed log durably, and exposes health and
// metrics. It is built so that running it with hostile intent gains nothing
// but the ability to deny service.
//
// # What the parent can and cannot see
//
// Enrol, log-in, delete and challenge requests arrive as RFC 9458
// encapsulations (media type message/ohttp-req) sealed to a key only the
// attested enclave holds; [Server] forwards their bytes verbatim over a
// [Dialer] (vsock on Nitro, a unix socket or loopback TCP in the simulator)
// and returns the enclave's sealed answer (message/ohttp-res) verbatim. The
// outcome — new, existing, not found, deleted, rejected and why — is inside
// that answer, padded to one size, so the parent cannot tell a new person
// from a returning one. The log records the enclave asks it to store through
// [Host] are sealed too, and there is exactly one write per
// request whatever its outcome.
//
// # Guarantees
//
//   - Bodies are size-limited before they are read ([Config.MaxBodyBytes];
//     a declared Content-Length over the limit is refused unread).
//   - Every /v1/ route is rate limited per client address with a token
//     bucket ([Config.RatePerSecond], [Config.Burst]); IPv6 clients are
//     bucketed by /64.
//   - Every response carries an X-Request-ID, the caller's when it is well
//     formed ([A-Za-z0-9._-]{1,64}), otherwise a random one from [Config.Rand].
//   - Errors are JSON {"error":{"code","message"}} with stable codes
//     ([CodeBadRequest], [CodeBodyTooLarge], [CodeRateLimited],
//     [CodeUnavailable], …; the enclave's pre-open codes pass through).
//   - Logs (log/slog, one line per request) and metrics (Prometheus) carry
//     the route template, status, coarse outcome class, sizes and latency —
//     never bodies, frames, vectors, IDs, entropy, raw URLs or client
//     addresses.
//   - The [Store] acknowledges a log record (204) only after it is durable:
//     [DirStore] fsyncs the file and its directory. A retry with the same
//     bytes succeeds; different bytes under a stored sequence get 409 and
//     change nothing.
//
// # Sealed state services
//
// [StartStateServices] runs what the enclave's sealed state needs besides
// the log routes, the same in "facesign parent" and "facesign sim":
// [SnapshotHost] (snapshots on a [SnapshotStore]), [CredentialsHost] (the
// instance role's credentials, which only sign KMS calls, and the sealed
// counter credentials, which the parent cannot open) and one [Egress] relay
// per AWS upstream, which forwards the enclave's TLS bytes to one fixed
// host:443 and can read or alter nothing. [ParseStoreSpec] and [OpenStores]
// turn "dir:PATH" or "s3://BUCKET/PREFIX" into the stores. Their metrics
// (snapshot puts, gets and bytes; credential requests; egress connections,
// bytes and dial errors) go to the same registry as the API's.
//
// # Caller duties
//
// Serve [Host.Handler] (wrapped by [StateServices.Wrap]) only where the
// enclave alone can reach it: it hands out the instance role's credentials. In
// production never set [Config.SimulatorRootPEM]. Supply the clock and the
// randomness ([Config.Now], [Config.Rand]).
//
// The API is described by [OpenAPI] (served at /openapi.yaml); the log
// stream format of the host services by [MediaLogStream].
package parent
