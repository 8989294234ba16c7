package enclave

// Engine migrations (docs/fleet.md). Vectors of two engines never compare,
// and the frames that made them are not kept, so a new engine cannot
// recompute the gallery: it takes over person by person, as they come
// back. The log records each identity's vector per engine:
//
//   - OpMigrate{Engine: new, Dim} starts a migration from the log's current
//     engine to new. From then on the enclaves run both engines on every
//     capture; a decision is "new" only when it is new under both
//     galleries; a new enrolment is stored with its new-engine vector;
//   - OpEngineVector{UniqueID, Engine: new, Vector} gives an enrolled
//     identity its new-engine vector: written (in place of the request's
//     OpNone) when the old engine found a returning person the new one
//     does not have yet;
//   - OpAdd{Engine: new} enrols a new person during the migration, under
//     the new engine only;
//   - OpMigrateEnd{Engine: new} completes it: the new engine becomes the
//     log's current engine, the old engine's vectors are dropped, and the
//     identities that never came back (no new-engine vector) are dropped
//     too — counted, as needing re-enrolment.
//
// Migrations only go forward: an identity enrolled during one has no
// old-engine vector, so there is no going back to the old engine alone.
const (
	// OpMigrate starts a migration to Entry.Engine (vectors of Entry.Dim).
	OpMigrate Op = "migrate"
	// OpEngineVector gives an identity its vector under the migration's
	// engine.
	OpEngineVector Op = "engine_vector"
	// OpMigrateEnd completes the migration to Entry.Engine.
	OpMigrateEnd Op = "migrate_end"
)
