package state

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/wire"
)

// tpl is a template record: identity id's template at pos, its vector made
// from seed.
func tpl(id, pos, seed int) enclave.Entry {
	return enclave.Entry{Op: enclave.OpAddTemplate, UniqueID: add(id).UniqueID, Template: pos, Vector: vec(seed)}
}

// state is what a replay fed: every identity (key "id/0", entropy ‖
// vector) and every template (key "id/pos", vector), plus the order check.
type fedState map[string][]byte

func (s fedState) keys() []string { return slices.Sorted(maps.Keys(s)) }

// openAll boots e and collects every entry the replay fed, checking that
// each template comes after its identity. shared picks ReplayShared.
func (e *env) openAll(t testing.TB, shared bool) (*Journal, fedState, error) {
	t.Helper()
	j, err := New(Options{Log: e.log, Snapshots: e.snaps, Keys: e.keys, Counter: e.counter, Rand: rand.Reader, Dim: dim, SnapshotEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	got := fedState{}
	apply := func(en enclave.Entry) error {
		switch en.Op {
		case enclave.OpAdd:
			got[en.UniqueID+"/0"] = slices.Concat(en.Entropy, en.Vector)
		case enclave.OpAddTemplate:
			if _, ok := got[en.UniqueID+"/0"]; !ok {
				return fmt.Errorf("template %s/%d fed before its identity", en.UniqueID, en.Template)
			}
			if len(en.Entropy) != 0 {
				return errors.New("a template came with entropy")
			}
			got[fmt.Sprintf("%s/%d", en.UniqueID, en.Template)] = bytes.Clone(en.Vector)
		default:
			return fmt.Errorf("replay fed a %q entry", en.Op)
		}
		return nil
	}
	if shared {
		err = j.ReplayShared(context.Background(), apply)
	} else {
		err = j.Replay(context.Background(), apply)
	}
	if err != nil {
		return nil, nil, err
	}
	return j, got, nil
}

// want builds the expected fed state: identities by id, templates as
// (id, pos, seed).
func wantState(ids []int, tpls [][3]int) fedState {
	w := fedState{}
	for _, id := range ids {
		w[add(id).UniqueID+"/0"] = slices.Concat(add(id).Entropy, add(id).Vector)
	}
	for _, tp := range tpls {
		w[fmt.Sprintf("%s/%d", add(tp[0]).UniqueID, tp[1])] = vec(tp[2])
	}
	return w
}

func sameState(t *testing.T, what string, got, want fedState) {
	t.Helper()
	if !slices.Equal(got.keys(), want.keys()) {
		t.Fatalf("%s: fed %v, want %v", what, got.keys(), want.keys())
	}
	for k, w := range want {
		if !bytes.Equal(got[k], w) {
			t.Fatalf("%s: %s differs", what, k)
		}
	}
}

// TestTemplatesRoundTrip: templates are replayed from the log, from a
// snapshot plus the log after it, through both replay forms; a later
// template at a used position replaces it; a delete removes every template
// of the identity.
func TestTemplatesRoundTrip(t *testing.T) {
	e := newEnv()
	j, _, err := e.openAll(t, false)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(1), add(2), tpl(1, 1, 101), tpl(1, 2, 102), tpl(2, 1, 201), none,
		tpl(1, 1, 111), tpl(2, 7, 207), del(2))
	want := wantState([]int{1}, [][3]int{{1, 1, 111}, {1, 2, 102}})
	if n := j.Templates(); n != 2 {
		t.Fatalf("%d templates live, want 2", n)
	}
	for _, shared := range []bool{false, true} {
		_, got, err := e.openAll(t, shared)
		if err != nil {
			t.Fatal(err)
		}
		sameState(t, fmt.Sprintf("log only, shared=%v", shared), got, want)
	}

	// A snapshot, then more changes after it.
	j, _, err = e.openAll(t, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, tpl(1, 3, 103), add(3), tpl(3, 1, 301), add(2), tpl(1, 2, 112))
	want = wantState([]int{1, 2, 3}, [][3]int{{1, 1, 111}, {1, 2, 112}, {1, 3, 103}, {3, 1, 301}})
	for _, shared := range []bool{false, true} {
		_, got, err := e.openAll(t, shared)
		if err != nil {
			t.Fatal(err)
		}
		sameState(t, fmt.Sprintf("snapshot + log, shared=%v", shared), got, want)
	}
	// The same state from a snapshot alone (the log cut right after it)
	// and from the whole log without snapshots.
	j, _, err = e.openAll(t, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	noSnaps := &env{log: e.log.clone(), snaps: newTestSnaps(), keys: e.keys, counter: &MemCounter{n: e.counter.n}}
	_, fromLog, err := noSnaps.openAll(t, false)
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, "log without snapshots", fromLog, want)
	_, fromSnap, err := e.openAll(t, false)
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, "latest snapshot", fromSnap, want)
}

// TestDeleteRemovesEveryTemplate: after a delete no template of the
// identity is live, in memory, after a replay, or in a snapshot; the
// identity's id can be enrolled again without them.
func TestDeleteRemovesEveryTemplate(t *testing.T) {
	e := newEnv()
	j, _, err := e.openAll(t, false)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(5), add(6))
	for pos := 1; pos < enclave.MaxTemplates; pos++ {
		appendAll(t, j, tpl(5, pos, 500+pos))
	}
	appendAll(t, j, tpl(6, 3, 603), del(5))
	if n := j.Templates(); n != 1 {
		t.Fatalf("%d templates live after the delete, want 1", n)
	}
	if err := j.Snapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, s := range e.snaps.snaps {
		if bytes.Contains(s, vec(503)) {
			t.Fatal("snapshot holds plaintext")
		}
	}
	appendAll(t, j, add(5))
	_, got, err := e.openAll(t, false)
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, "after delete and re-enrol", got, wantState([]int{5, 6}, [][3]int{{6, 3, 603}}))
}

// TestTemplateEntriesRefused: a template of nobody, at a position out of
// range, with entropy or with a vector of the wrong size is refused before
// anything is written, and the state is unchanged.
func TestTemplateEntriesRefused(t *testing.T) {
	e := newEnv()
	j, _, err := e.openAll(t, false)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(1), tpl(1, 1, 11))
	withEntropy := tpl(1, 2, 12)
	withEntropy.Entropy = bytes.Repeat([]byte{1}, 32)
	short := tpl(1, 2, 12)
	short.Vector = short.Vector[:8]
	upper := tpl(1, 2, 12)
	upper.UniqueID = "00000000-0000-4000-8000-00000000000A"
	addWithTemplate := add(2)
	addWithTemplate.Template = 1
	deleteWithVector := del(1)
	deleteWithVector.Vector = vec(1)
	noneWithData := enclave.Entry{Op: enclave.OpNone, UniqueID: add(1).UniqueID}
	for name, bad := range map[string]enclave.Entry{
		"template of nobody":       tpl(9, 1, 91),
		"position 0":               tpl(1, 0, 10),
		"position MaxTemplates":    tpl(1, enclave.MaxTemplates, 18),
		"negative position":        tpl(1, -1, 18),
		"with entropy":             withEntropy,
		"short vector":             short,
		"upper-case id":            upper,
		"add with a position":      addWithTemplate,
		"delete with a vector":     deleteWithVector,
		"none with an identity id": noneWithData,
	} {
		err := j.Append(context.Background(), bad)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if name != "template of nobody" && !errors.Is(err, enclave.ErrBadEntry) {
			t.Errorf("%s: %v, want ErrBadEntry", name, err)
		}
	}
	if e.log.puts != 3 {
		t.Fatalf("refused entries were written: %d puts", e.log.puts)
	}
	_, got, err := e.openAll(t, false)
	if err != nil {
		t.Fatal(err)
	}
	sameState(t, "after refusals", got, wantState([]int{1}, [][3]int{{1, 1, 11}}))
}

// TestTemplateRecordsLookAlike: what the parent stores for a template is
// one record of the same size as every other, with no plaintext.
func TestTemplateRecordsLookAlike(t *testing.T) {
	e := newEnv()
	j, _, err := e.openAll(t, false)
	if err != nil {
		t.Fatal(err)
	}
	appendAll(t, j, add(7), none, tpl(7, 1, 71), tpl(7, enclave.MaxTemplates-1, 77), tpl(7, 1, 72), del(7))
	if e.log.puts != 7 {
		t.Fatalf("%d writes for 6 entries and the header", e.log.puts)
	}
	size := len(e.log.recs[1])
	for seq := uint64(1); seq <= 6; seq++ {
		rec := e.log.recs[seq]
		if len(rec) != size {
			t.Errorf("record %d is %d bytes, record 1 is %d", seq, len(rec), size)
		}
		for _, secret := range [][]byte{[]byte(add(7).UniqueID), vec(71)[8:16], vec(77)[8:16]} {
			if bytes.Contains(rec, secret) {
				t.Errorf("record %d holds plaintext", seq)
			}
		}
	}
}

// TestSnapshotTemplateSection: a snapshot with templates spans chunks of
// both kinds; a tampered, dropped or reordered template chunk, or a
// template section grafted onto a snapshot without one, is refused; a
// snapshot without templates carries no template fields at all (the
// header is what a journal without templates wrote).
func TestSnapshotTemplateSection(t *testing.T) {
	build := func(t *testing.T, n int) *env {
		e := newEnv()
		j, _, err := e.openAll(t, false)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			appendAll(t, j, add(i))
			for pos := 1; pos <= i%4; pos++ {
				appendAll(t, j, tpl(i, pos, 1000*i+pos))
			}
		}
		if err := j.Snapshot(context.Background()); err != nil {
			t.Fatal(err)
		}
		return e
	}
	header := func(t *testing.T, snap []byte) map[string]any {
		t.Helper()
		hb, err := readFrame(bytes.NewReader(snap[len(snapMagic):]), nil, maxSnapHeader)
		if err != nil {
			t.Fatal(err)
		}
		var h map[string]any
		if err := wire.Unmarshal(hb, &h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	latest := func(e *env) (uint64, []byte) {
		var best uint64
		for s := range e.snaps.snaps {
			best = max(best, s)
		}
		return best, e.snaps.snaps[best]
	}

	// 3000 identities with 0–3 templates each: 4500 templates, two
	// template chunks after the identity chunk.
	const n = 3000
	big := build(t, n)
	t.Run("large", func(t *testing.T) {
		e := big
		var ids []int
		var tpls [][3]int
		for i := range n {
			ids = append(ids, i)
			for pos := 1; pos <= i%4; pos++ {
				tpls = append(tpls, [3]int{i, pos, 1000*i + pos})
			}
		}
		_, snap := latest(e)
		if h := header(t, snap); h["templates"] != uint64(len(tpls)) {
			t.Fatalf("header: %v", h)
		}
		onlySnap := &env{log: e.log.clone(), snaps: e.snaps, keys: e.keys, counter: e.counter}
		_, got, err := onlySnap.openAll(t, true)
		if err != nil {
			t.Fatal(err)
		}
		sameState(t, "large snapshot", got, wantState(ids, tpls))
	})

	t.Run("no templates: no template fields", func(t *testing.T) {
		e := newEnv()
		j, _, err := e.openAll(t, false)
		if err != nil {
			t.Fatal(err)
		}
		appendAll(t, j, add(1), add(2))
		if err := j.Snapshot(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, snap := latest(e)
		h := header(t, snap)
		if _, ok := h["templates"]; ok {
			t.Fatalf("header %v has template fields", h)
		}
		if _, ok := h["template_size"]; ok {
			t.Fatalf("header %v has template fields", h)
		}
	})

	tamper := []struct {
		name   string
		mutate func(snap []byte, chunks [][2]int) []byte
	}{
		{"bit flip in the last template chunk", func(s []byte, c [][2]int) []byte {
			s = bytes.Clone(s)
			s[c[len(c)-1][0]+20] ^= 1
			return s
		}},
		{"last template chunk dropped", func(s []byte, c [][2]int) []byte { return bytes.Clone(s[:c[len(c)-1][0]]) }},
		{"template chunks swapped", func(s []byte, c [][2]int) []byte {
			a, b := c[len(c)-2], c[len(c)-1]
			out := bytes.Clone(s[:a[0]])
			out = append(out, s[b[0]:b[1]]...)
			return append(out, s[a[0]:a[1]]...)
		}},
		{"identity chunk moved after the templates", func(s []byte, c [][2]int) []byte {
			out := bytes.Clone(s[:c[0][0]])
			for _, ch := range c[1:] {
				out = append(out, s[ch[0]:ch[1]]...)
			}
			return append(out, s[c[0][0]:c[0][1]]...)
		}},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			seq, snap := latest(big)
			chunks := chunkSpans(t, snap)
			if len(chunks) != 3 {
				t.Fatalf("%d chunks, want 1 of identities and 2 of templates", len(chunks))
			}
			e := &env{log: big.log.clone(), snaps: newTestSnaps(), keys: big.keys, counter: &MemCounter{n: big.counter.n}}
			e.snaps.snaps[seq] = tc.mutate(snap, chunks)
			if _, _, err := e.openAll(t, false); !errors.Is(err, ErrSnapshot) {
				t.Fatalf("replay: %v, want ErrSnapshot", err)
			}
		})
	}

	t.Run("template section grafted onto a snapshot without one", func(t *testing.T) {
		e := newEnv()
		j, _, err := e.openAll(t, false)
		if err != nil {
			t.Fatal(err)
		}
		appendAll(t, j, add(1), add(2))
		if err := j.Snapshot(context.Background()); err != nil {
			t.Fatal(err)
		}
		seq, snap := latest(e)
		appendAll(t, j, tpl(1, 1, 11))
		if err := j.Snapshot(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, with := latest(e)
		wc := chunkSpans(t, with)
		e.snaps.snaps[seq] = append(bytes.Clone(snap), with[wc[len(wc)-1][0]:]...)
		delete(e.snaps.snaps, seq+1)
		if _, _, err := e.openAll(t, false); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("replay: %v, want ErrSnapshot", err)
		}
	})
}

// chunkSpans returns the [start, end) byte spans of a snapshot's chunk
// frames.
func chunkSpans(t *testing.T, snap []byte) [][2]int {
	t.Helper()
	off := len(snapMagic)
	r := bytes.NewReader(snap[off:])
	if _, err := readFrame(r, nil, maxSnapHeader); err != nil {
		t.Fatal(err)
	}
	var spans [][2]int
	for {
		start := len(snap) - r.Len()
		b, err := readFrame(r, nil, 1<<30)
		if err != nil {
			return spans
		}
		spans = append(spans, [2]int{start, start + 4 + len(b)})
	}
}
