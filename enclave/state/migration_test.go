package state

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/facesign/facesign/enclave"
)

const newDim = 24 // the migration's engine: larger vectors than dim

func vecOf(seed, d int) []byte {
	b := make([]byte, 4*d)
	for i := range d {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(seed*d+i+1)))
	}
	return b
}

func engineVector(id int) enclave.Entry {
	return enclave.Entry{Op: enclave.OpEngineVector, UniqueID: add(id).UniqueID, Engine: "new", Vector: vecOf(id, newDim)}
}

func addNew(id int) enclave.Entry {
	e := add(id)
	e.Engine, e.Vector = "new", vecOf(id, newDim)
	return e
}

// booted is what a boot handed to apply, in order.
type booted struct {
	ops     []enclave.Op
	entries map[string][]enclave.Entry // by unique ID
}

func bootWith(t *testing.T, e *env, d int, engine string) (*Journal, booted, error) {
	t.Helper()
	j, err := New(Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: d, Engine: engine, SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	b := booted{entries: map[string][]enclave.Entry{}}
	err = j.Replay(context.Background(), func(en enclave.Entry) error {
		b.ops = append(b.ops, en.Op)
		if en.UniqueID != "" {
			b.entries[en.UniqueID] = append(b.entries[en.UniqueID], en)
		}
		return nil
	})
	return j, b, err
}

// TestMigration: a migration in the log — started, identities given their
// new-engine vectors, a new person enrolled under the new engine only, a
// delete, a snapshot in the middle, then the end — boots the same from the
// log alone and from snapshots, hands the enclave the migration before the
// identities, grows the records once for the larger vectors, and at the
// end keeps only the identities with a new-engine vector (counting the
// others).
func TestMigration(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	j, _, err := bootWith(t, e, dim, "old")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		appendAll(t, j, add(i))
	}
	before := len(e.log.recs[1])
	appendAll(t, j, enclave.Entry{Op: enclave.OpMigrate, Engine: "new", Dim: newDim})
	if len(e.log.recs[6]) != before {
		t.Fatal("the migration record itself changed size")
	}
	appendAll(t, j, engineVector(1), engineVector(2), addNew(10), del(2), none)
	if len(e.log.recs[7]) <= before || len(e.log.recs[7]) != len(e.log.recs[11]) {
		t.Fatalf("records after the migration: %d and %d bytes (before: %d)", len(e.log.recs[7]), len(e.log.recs[11]), before)
	}
	if m, total := j.Migrated(); m != 2 || total != 5 {
		t.Fatalf("migrated %d of %d, want 2 of 5 (identities 1 and 10 of 0, 1, 3, 4, 10)", m, total)
	}
	if err := j.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	check := func(name string, b booted) {
		t.Helper()
		if b.ops[0] != enclave.OpMigrate {
			t.Fatalf("%s: the migration came after %v", name, b.ops[0])
		}
		want := []string{add(0).UniqueID, add(1).UniqueID, add(3).UniqueID, add(4).UniqueID, add(10).UniqueID}
		if got := slices.Sorted(maps.Keys(b.entries)); !slices.Equal(got, want) {
			t.Fatalf("%s: identities %v", name, got)
		}
		one := b.entries[add(1).UniqueID]
		if len(one) != 2 || one[0].Op != enclave.OpAdd || one[1].Op != enclave.OpEngineVector || len(one[1].Vector) != 4*newDim ||
			string(one[1].Entropy) != string(add(1).Entropy) {
			t.Fatalf("%s: identity 1 booted as %+v", name, one)
		}
		ten := b.entries[add(10).UniqueID]
		if len(ten) != 1 || ten[0].Op != enclave.OpAdd || ten[0].Engine != "new" || string(ten[0].Entropy) != string(add(10).Entropy) {
			t.Fatalf("%s: identity 10 booted as %+v", name, ten)
		}
	}
	_, fromSnap, err := bootWith(t, e, dim, "old")
	if err != nil {
		t.Fatal(err)
	}
	check("from the snapshot", fromSnap)
	logOnly := &env{log: e.log, snaps: newTestSnaps(), keys: e.keys, counter: e.counter}
	_, fromLog, err := bootWith(t, logOnly, dim, "old")
	if err != nil {
		t.Fatal(err)
	}
	check("from the log", fromLog)
	// An enclave of the new engine alone can boot on the migrating log
	// (to end the migration); one of a third engine cannot.
	if _, _, err := bootWith(t, e, newDim, "new"); err != nil {
		t.Fatalf("the new engine on the migrating log: %v", err)
	}
	if _, _, err := bootWith(t, e, 7, "third"); !errors.Is(err, ErrEngine) {
		t.Fatalf("a third engine: %v, want ErrEngine", err)
	}

	j2, _, err := bootWith(t, e, newDim, "new")
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j2, enclave.Entry{Op: enclave.OpMigrateEnd, Engine: "new"})
	if j2.Dropped() != 3 {
		t.Fatalf("dropped %d, want 3 (identities 0, 3 and 4 never came back)", j2.Dropped())
	}
	if cur, d, mig, _ := j2.Engines(); cur != "new" || d != newDim || mig != "" {
		t.Fatalf("engines after the end: %q %d %q", cur, d, mig)
	}
	addAfter := addNew(20)
	addAfter.Engine = ""
	appendAll(t, j2, addAfter)
	if err := j2.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	for _, env := range []*env{e, {log: e.log, snaps: newTestSnaps(), keys: e.keys, counter: e.counter}} {
		_, b, err := bootWith(t, env, newDim, "new")
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(b.entries)); !slices.Equal(got, []string{add(1).UniqueID, add(10).UniqueID, add(20).UniqueID}) || slices.Contains(b.ops, enclave.OpMigrate) {
			t.Fatalf("after the end: %v, ops %v", got, b.ops)
		}
		for id, es := range b.entries {
			if len(es) != 1 || es[0].Op != enclave.OpAdd || es[0].Engine != "" || len(es[0].Vector) != 4*newDim {
				t.Fatalf("%s booted as %+v", id, es)
			}
		}
	}
	if _, _, err := bootWith(t, e, dim, "old"); !errors.Is(err, ErrEngine) {
		t.Fatalf("the old engine after the end: %v, want ErrEngine", err)
	}
}

// TestMigrationEntriesRefused: entries that do not fit the migration state
// are refused before anything is written.
func TestMigrationEntriesRefused(t *testing.T) {
	e := newEnv()
	j, _, err := bootWith(t, e, dim, "old")
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(1))
	refuse := func(name string, en enclave.Entry) {
		t.Helper()
		puts := e.log.puts
		if err := j.Append(context.Background(), en); err == nil || e.log.puts != puts {
			t.Fatalf("%s: %v (%d writes)", name, err, e.log.puts-puts)
		}
	}
	refuse("a vector of an engine not migrated to", engineVector(1))
	refuse("an add under an engine not migrated to", addNew(2))
	refuse("the end of no migration", enclave.Entry{Op: enclave.OpMigrateEnd, Engine: "new"})
	refuse("a migration to the current engine", enclave.Entry{Op: enclave.OpMigrate, Engine: "old", Dim: dim})
	refuse("a migration without a dimension", enclave.Entry{Op: enclave.OpMigrate, Engine: "new"})
	appendAll(t, j, enclave.Entry{Op: enclave.OpMigrate, Engine: "new", Dim: newDim})
	refuse("a second migration", enclave.Entry{Op: enclave.OpMigrate, Engine: "newer", Dim: newDim})
	refuse("a vector of the wrong size", enclave.Entry{Op: enclave.OpEngineVector, UniqueID: add(1).UniqueID, Engine: "new", Vector: vecOf(1, dim)})
	refuse("a vector of someone not enrolled", engineVector(7))
	appendAll(t, j, engineVector(1))
	refuse("a second vector", engineVector(1))
	refuse("an add of someone enrolled", addNew(1))
	refuse("the end of another migration", enclave.Entry{Op: enclave.OpMigrateEnd, Engine: "newer"})
}

// TestMigrationFollowers: a member that catches up on another's migration
// records gets each new-engine vector with the identity's entropy (what an
// enclave running the new engine alone needs), and its own state matches.
func TestMigrationFollowers(t *testing.T) {
	ctx := context.Background()
	log, keys, counter := &enclave.MemLog{}, newMemKeys(), &MemCounter{}
	a, err := bootMember(t, log, keys, counter)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bootMember(t, log, keys, counter)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range []enclave.Entry{add(1), add(2), {Op: enclave.OpMigrate, Engine: "new", Dim: newDim}, engineVector(1)} {
		if _, err := a.commit(ctx, en); err != nil {
			t.Fatal(err)
		}
	}
	var got []enclave.Entry
	if _, err := b.j.CatchUp(ctx, func(e enclave.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[2].Op != enclave.OpMigrate || got[3].Op != enclave.OpEngineVector || string(got[3].Entropy) != string(add(1).Entropy) {
		t.Fatalf("caught up %+v", got)
	}
	if m, total := b.j.Migrated(); m != 1 || total != 2 {
		t.Fatalf("follower: migrated %d of %d", m, total)
	}
}

// TestMigrationWithTemplates: templates belong to the log's current
// engine. While a migration runs they are kept (and snapshotted beside the
// migration's vectors) for the old engine; one naming the new engine is
// refused; the end drops every one of them with the old engine's vectors;
// after it, templates are the new engine's size. Boots from the log alone
// and from snapshots agree at every step.
func TestMigrationWithTemplates(t *testing.T) {
	ctx := context.Background()
	e := newEnv()
	j, _, err := bootWith(t, e, dim, "old")
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(1), add(2), add(3), tpl(1, 1, 101), tpl(2, 1, 201),
		enclave.Entry{Op: enclave.OpMigrate, Engine: "new", Dim: newDim},
		tpl(1, 2, 102), engineVector(1))
	puts := e.log.puts
	newTpl := tpl(2, 2, 0)
	newTpl.Engine, newTpl.Vector = "new", vecOf(2, newDim)
	if err := j.Append(ctx, newTpl); err == nil || e.log.puts != puts {
		t.Fatalf("a template of the migration's engine: %v (%d writes)", err, e.log.puts-puts)
	}
	if err := j.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, tpl(3, 1, 301), del(2))
	if n := j.Templates(); n != 3 {
		t.Fatalf("%d templates during the migration, want 3 (1/1, 1/2, 3/1)", n)
	}
	// summary flattens what a boot fed: op, template position, vector
	// and entropy sizes, per identity in order.
	summary := func(b booted) map[string]string {
		out := map[string]string{}
		for id, es := range b.entries {
			for _, en := range es {
				out[id] += fmt.Sprintf("%s/%d/%s/%d/%x;", en.Op, en.Template, en.Engine, len(en.Entropy), en.Vector)
			}
		}
		return out
	}
	_, fromSnap, err := bootWith(t, e, dim, "old")
	if err != nil {
		t.Fatal(err)
	}
	logOnly := &env{log: e.log, snaps: newTestSnaps(), keys: e.keys, counter: e.counter}
	_, fromLog, err := bootWith(t, logOnly, dim, "old")
	if err != nil {
		t.Fatal(err)
	}
	if a, b := summary(fromSnap), summary(fromLog); !maps.Equal(a, b) {
		t.Fatalf("during the migration, boot from the snapshot %v, from the log %v", a, b)
	}
	one := fromLog.entries[add(1).UniqueID]
	if len(one) != 4 || one[0].Op != enclave.OpAdd || one[1].Op != enclave.OpAddTemplate || one[2].Op != enclave.OpAddTemplate || one[3].Op != enclave.OpEngineVector {
		t.Fatalf("identity 1 booted as %v", summary(fromLog)[add(1).UniqueID])
	}
	if _, ok := fromLog.entries[add(2).UniqueID]; ok {
		t.Fatal("a deleted identity was fed")
	}

	// The end drops the old engine's templates with its vectors.
	j2, _, err := bootWith(t, e, newDim, "new")
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j2, enclave.Entry{Op: enclave.OpMigrateEnd, Engine: "new"})
	if n := j2.Templates(); n != 0 || j2.Dropped() != 1 {
		t.Fatalf("after the end: %d templates, %d dropped; want 0 and 1 (identity 3)", n, j2.Dropped())
	}
	puts = e.log.puts
	if err := j2.Append(ctx, tpl(1, 1, 111)); err == nil || e.log.puts != puts {
		t.Fatalf("a template of the old engine's size after the end: %v", err)
	}
	after := tpl(1, 1, 0)
	after.Vector = vecOf(11, newDim)
	appendAll(t, j2, after)
	if err := j2.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	for name, env := range map[string]*env{"snapshot": e, "log": {log: e.log, snaps: newTestSnaps(), keys: e.keys, counter: e.counter}} {
		_, b, err := bootWith(t, env, newDim, "new")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := summary(b)
		want := fmt.Sprintf("%s/0//32/%x;%s/1//0/%x;", enclave.OpAdd, vecOf(1, newDim), enclave.OpAddTemplate, vecOf(11, newDim))
		if len(got) != 1 || got[add(1).UniqueID] != want {
			t.Fatalf("%s: after the end booted %v", name, got)
		}
	}
}
