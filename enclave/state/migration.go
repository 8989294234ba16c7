package state

import (
	"errors"
	"fmt"

	"github.com/facesign/facesign/enclave"
)

// Engine migrations in the log (enclave/migration.go, docs/fleet.md).
//
// The journal keeps the identities under the log's current engine in
// j.live and, while a migration runs, the new engine's vectors in
// j.mig.set (each slot id ‖ entropy ‖ vector, as in j.live, so an identity
// enrolled during the migration has its entropy there). OpMigrate names the
// new engine and its dimension, and grows the record size from the next
// record on when the new engine's vectors need more room (every record
// after it has the new size: the parent learns that a migration began,
// which the operator started anyway, and nothing about any request).

// migration is a migration in progress.
type migration struct {
	engine string
	dim    int
	set    *liveSet[[16]byte]
}

// migrationOverhead is the room a record keeps beside a vector: op, id,
// entropy, engine name and CBOR framing.
const migrationOverhead = 256

// maxDim bounds vector dimensions in the log.
const maxDim = 4096

// errEntry reports an entry that does not fit the log's state.
var errEntry = errors.New("entry does not fit the state")

// entryDim is the dimension of the vector e carries: the migration's for
// an entry that names an engine, else the log's current engine's.
func (j *Journal) entryDim(e enclave.Entry) int {
	if e.Engine != "" && j.mig != nil && e.Engine == j.mig.engine {
		return j.mig.dim
	}
	return j.dim
}

// checkEntry refuses an entry of the wrong shape ([enclave.CheckEntry]) or
// one that does not fit the live state: an add of an enrolled identity, a
// template or a delete of an identity that is not enrolled, the migration
// ops out of turn (see enclave/migration.go).
func (j *Journal) checkEntry(e enclave.Entry) error {
	if err := enclave.CheckEntry(e, j.entryDim(e)); err != nil {
		return err
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", errEntry, e.Op, fmt.Sprintf(format, args...))
	}
	switch e.Op {
	case enclave.OpNone:
		return nil
	case enclave.OpMigrate:
		switch {
		case j.mig != nil:
			return bad("a migration to %q is running", j.mig.engine)
		case e.Engine == j.engine:
			return bad("to engine %q from %q", e.Engine, j.engine)
		case e.Dim > maxDim:
			return bad("dimension %d", e.Dim)
		}
		return nil
	case enclave.OpMigrateEnd:
		if j.mig == nil || e.Engine != j.mig.engine {
			return bad("no migration to %q is running", e.Engine)
		}
		return nil
	}
	id, err := parseID(e.UniqueID)
	if err != nil {
		return err
	}
	inLive, inMig := j.live.has(id), j.mig != nil && j.mig.set.has(id)
	if e.Engine != "" && (j.mig == nil || e.Engine != j.mig.engine) {
		return bad("engine %q is not the migration's", e.Engine)
	}
	switch e.Op {
	case enclave.OpAdd:
		if inLive || inMig {
			return errors.New("identity is enrolled already")
		}
	case enclave.OpAddTemplate:
		if !inLive {
			return errors.New("template of an identity that is not enrolled")
		}
	case enclave.OpEngineVector:
		switch {
		case !inLive:
			return bad("identity not enrolled under the current engine")
		case inMig:
			return bad("identity has its %s vector already", e.Engine)
		}
	case enclave.OpDelete:
		if !inLive && !inMig {
			return errors.New("deleting an identity that is not enrolled")
		}
	}
	return nil
}

// applyEntry checks e and applies it to the live state.
//
// Templates ([enclave.OpAddTemplate]) are kept under the log's current
// engine only: the end of a migration drops them with the old engine's
// vectors, and the new engine gathers its own afterwards.
func (j *Journal) applyEntry(e enclave.Entry) error {
	if err := j.checkEntry(e); err != nil {
		return err
	}
	switch e.Op {
	case enclave.OpNone:
		return nil
	case enclave.OpMigrate:
		j.mig = &migration{engine: e.Engine, dim: e.Dim, set: newLiveSet(e.Dim)}
		j.entrySize = max(j.entrySize, migrationOverhead+4*e.Dim)
		return nil
	case enclave.OpMigrateEnd:
		dropped := 0
		_ = j.live.each(func(b []byte) error {
			if !j.mig.set.has([16]byte(b[:idSize])) {
				dropped++
			}
			return nil
		})
		j.live, j.engine, j.dim, j.mig = j.mig.set, j.mig.engine, j.mig.dim, nil
		j.tpl = newTemplateSet(j.dim) // the old engine's templates go with its vectors
		j.dropped = dropped
		j.log.Info("engine migration completed", "engine", j.engine, "dropped", dropped)
		return nil
	}
	id, _ := parseID(e.UniqueID) // checked
	switch e.Op {
	case enclave.OpAdd:
		if e.Engine != "" {
			return j.mig.set.add(id, e.Entropy, e.Vector)
		}
		return j.live.add(id, e.Entropy, e.Vector)
	case enclave.OpAddTemplate:
		k := tplKey{id: id, pos: uint8(e.Template)}
		if j.tpl.has(k) {
			return j.tpl.replace(k, e.Vector)
		}
		return j.tpl.add(k, nil, e.Vector)
	case enclave.OpEngineVector:
		ent, _ := entropyOf(j.live, id)
		return j.mig.set.add(id, ent, e.Vector)
	case enclave.OpDelete:
		for pos := 1; pos < enclave.MaxTemplates; pos++ {
			if k := (tplKey{id: id, pos: uint8(pos)}); j.tpl.has(k) {
				if err := j.tpl.remove(k); err != nil {
					return err
				}
			}
		}
		if j.mig != nil && j.mig.set.has(id) {
			if err := j.mig.set.remove(id); err != nil {
				return err
			}
		}
		if j.live.has(id) {
			return j.live.remove(id)
		}
	}
	return nil
}

// entropyOf returns a copy of the entropy s keeps for id.
func entropyOf(s *liveSet[[16]byte], id [16]byte) ([]byte, bool) {
	slot, ok := s.index[id]
	if !ok {
		return nil, false
	}
	b := s.slot(int(slot))
	return append([]byte(nil), b[idSize:idSize+entropySize]...), true
}

// withEntropy fills an OpEngineVector's entropy from the live set, so the
// entry an apply callback gets names everything an enclave that runs only
// the new engine needs. Called with j.mu held, after applyEntry.
func (j *Journal) withEntropy(e enclave.Entry) enclave.Entry {
	if e.Op != enclave.OpEngineVector {
		return e
	}
	if id, err := parseID(e.UniqueID); err == nil {
		e.Entropy, _ = entropyOf(j.live, id)
	}
	return e
}

// Engines reports the log's current engine ("" for a log whose header
// names none: made before engines were recorded) and its vector
// dimension, and the engine a running migration moves to ("" if none)
// with its dimension.
func (j *Journal) Engines() (current string, dim int, migrating string, migratingDim int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mig != nil {
		migrating, migratingDim = j.mig.engine, j.mig.dim
	}
	return j.engine, j.dim, migrating, migratingDim
}

// Migrated reports, during a migration, how many identities have a vector
// under the new engine, and how many identities there are in all.
func (j *Journal) Migrated() (migrated, total int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.mig == nil {
		return 0, j.live.len()
	}
	onlyNew := 0
	_ = j.mig.set.each(func(b []byte) error {
		if !j.live.has([16]byte(b[:idSize])) {
			onlyNew++
		}
		return nil
	})
	return j.mig.set.len(), j.live.len() + onlyNew
}

// Dropped reports how many identities the last completed migration
// dropped for want of a new-engine vector (they need to enrol again).
func (j *Journal) Dropped() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.dropped
}

// feedMigrationStart and feedMigration hand the migration's state to
// apply around the live identities: first (before them) the OpMigrate,
// then (after them) each new-engine vector — as OpEngineVector (with the
// identity's entropy) for identities of the current engine, as
// OpAdd{Engine} for those enrolled during the migration.
func (j *Journal) feedMigrationStart(apply func(enclave.Entry) error) error {
	if j.mig == nil {
		return nil
	}
	return apply(enclave.Entry{Op: enclave.OpMigrate, Engine: j.mig.engine, Dim: j.mig.dim})
}

func (j *Journal) feedMigration(apply func(enclave.Entry) error) error {
	if j.mig == nil {
		return nil
	}
	return j.mig.set.each(func(b []byte) error {
		id := [16]byte(b[:idSize])
		e := enclave.Entry{Op: enclave.OpAdd, UniqueID: string(appendUUID(nil, id[:])), Engine: j.mig.engine,
			Entropy: append([]byte(nil), b[idSize:idSize+entropySize]...), Vector: append([]byte(nil), b[idSize+entropySize:]...)}
		if j.live.has(id) {
			e.Op = enclave.OpEngineVector
		}
		return apply(e)
	})
}

// UseEngine names the engine a log this journal makes records in its
// header; it has no effect once Replay ran.
func (j *Journal) UseEngine(name string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.ready {
		j.opts.Engine, j.engine = name, name
	}
}
