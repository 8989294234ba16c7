package wire

// RouteStatus is GET /internal/v1/status on the enclave API: the enclave's
// view of the shared log, for its parent's metrics (docs/fleet.md). It is
// served in the clear to the parent only (the parent never forwards
// /internal/ routes) and holds log positions alone — which the parent,
// storing the log, knows anyway — never identities, counts of identities
// or outcomes.
const RouteStatus = "/internal/v1/status"

// EnclaveStatus is the JSON body of [RouteStatus].
type EnclaveStatus struct {
	// Ready is whether the enclave answers face requests.
	Ready bool `json:"ready"`
	// LogNext is the number of log records the enclave has applied: the
	// sequence number it would write next.
	LogNext uint64 `json:"log_next"`
	// LogAcked is the highest rollback-counter value the enclave has seen:
	// records acknowledged by the fleet, possibly not applied here yet.
	LogAcked uint64 `json:"log_acked"`
	// Lag is LogAcked − LogNext when positive: acknowledged records this
	// enclave has yet to apply.
	Lag uint64 `json:"lag"`
	// CaughtUp counts records this enclave applied from other enclaves'
	// writes since it booted.
	CaughtUp uint64 `json:"caught_up"`
	// Engine is the log's current face engine ("" in logs made before
	// engines were recorded).
	Engine string `json:"engine,omitempty"`
	// MigratingTo names the engine a migration moves the gallery to.
	MigratingTo string `json:"migrating_to,omitempty"`
	// MigrationPercent is the share of identities that have a vector under
	// the new engine, in whole percent (coarse on purpose: docs/fleet.md).
	MigrationPercent int `json:"migration_percent,omitempty"`
	// MigrationDropped is how many identities the last completed migration
	// dropped (they never came back, and need to enrol again).
	MigrationDropped int `json:"migration_dropped,omitempty"`
}
