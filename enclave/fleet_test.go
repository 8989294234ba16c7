package enclave

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/facesign/facesign/wire"
)

// newFleet starts n services on one log, as n enclaves with their own
// parents on one store: each has its own keys and randomness; the log's
// data key is shared (as KMS shares it with every enclave the key policy
// names).
func newFleet(t *testing.T, n int) []*harness {
	t.Helper()
	log := &MemLog{}
	c := &clock{t: testStart}
	var fleet []*harness
	for i := range n {
		h := &harness{t: t, log: log, clock: c, dataKey: fleetKey, tap: &tap{}, seed: uint64(i + 1)}
		h.start()
		fleet = append(fleet, h)
	}
	return fleet
}

var fleetKey = []byte("one data key for the whole fleet")

// TestFleetOneIdentity: 16 concurrent enrolments of one face spread over
// three enclaves end with one identity: exactly one "new", fifteen
// "existing" with the same ID and entropy, one write per request, and every
// enclave's gallery holds the one identity.
func TestFleetOneIdentity(t *testing.T) {
	fleet := newFleet(t, 3)
	const n = 16
	chs := make([]wire.ChallengeResponse, n)
	frames := make([][][]byte, n)
	for i := range n {
		chs[i] = fleet[i%3].challenge()
		frames[i] = performance(t, 7, chs[i].Actions, false)
	}
	out := make([]wire.Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { out[i] = fleet[i%3].faceWith(wire.RouteEnroll, chs[i], frames[i]) })
	}
	wg.Wait()
	news, ids := 0, map[string]bool{}
	for i, r := range out {
		if r.Status != wire.StatusNew && r.Status != wire.StatusExisting {
			t.Fatalf("request %d: %s %s %s", i, r.Status, r.Reason, r.Message)
		}
		if r.Status == wire.StatusNew {
			news++
		}
		ids[fmtID(r)] = true
	}
	if news != 1 || len(ids) != 1 {
		t.Fatalf("%d new, %d distinct identities", news, len(ids))
	}
	if got := fleet[0].log.Puts(); got != n {
		t.Fatalf("%d writes for %d requests", got, n)
	}
	caught := uint64(0)
	for i, h := range fleet {
		if _, err := h.svc.CatchUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		if h.svc.Identities() != 1 {
			t.Fatalf("enclave %d holds %d identities", i, h.svc.Identities())
		}
		res, err := h.http.Get(h.base + wire.RouteStatus)
		if err != nil {
			t.Fatal(err)
		}
		var st wire.EnclaveStatus
		err = json.NewDecoder(res.Body).Decode(&st)
		res.Body.Close()
		if err != nil || res.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("status route: %v", err)
		}
		if !st.Ready || st.LogNext != n || st.Lag != 0 {
			t.Fatalf("enclave %d status %+v", i, st)
		}
		caught += st.CaughtUp
	}
	if caught == 0 {
		t.Fatal("no enclave ever caught up on another's write: the race was not shown")
	}
}

// TestFleetNoStaleAnswer: an enclave that has not followed the log answers
// a login only after catching up on everything before its own write:
// after A's acknowledged enrolment B finds the face, and after A's
// acknowledged delete B does not — with no background follower running.
func TestFleetNoStaleAnswer(t *testing.T) {
	fleet := newFleet(t, 2)
	a, b := fleet[0], fleet[1]
	r := a.face(wire.RouteEnroll, 3)
	a.mustStatus(r, wire.StatusNew)
	got := b.face(wire.RouteLogin, 3)
	b.mustStatus(got, wire.StatusExisting)
	if fmtID(got) != fmtID(r) {
		t.Fatal("B answered another identity")
	}
	a.mustStatus(a.face(wire.RouteDelete, 3), wire.StatusDeleted)
	b.mustStatus(b.face(wire.RouteLogin, 3), wire.StatusNotFound)
	b.mustStatus(b.face(wire.RouteEnroll, 3), wire.StatusNew)
	a.mustStatus(a.face(wire.RouteLogin, 3), wire.StatusExisting)
}

// TestFleetFollow: the background follower brings an idle enclave's
// gallery up to date.
func TestFleetFollow(t *testing.T) {
	fleet := newFleet(t, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go fleet[1].svc.Follow(ctx, 5*time.Millisecond)
	fleet[0].mustStatus(fleet[0].face(wire.RouteEnroll, 4), wire.StatusNew)
	deadline := time.Now().Add(30 * time.Second)
	for fleet[1].svc.Identities() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the follower never applied the other enclave's enrolment")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFleetCorruptRecordStops: a record that does not open, placed where
// the next write goes, stops the enclave that reads it (not ready, Fatal
// closed, nothing answered) instead of being skipped.
func TestFleetCorruptRecordStops(t *testing.T) {
	fleet := newFleet(t, 1)
	h := fleet[0]
	h.mustStatus(h.face(wire.RouteEnroll, 5), wire.StatusNew)
	good := h.log.Records()[0]
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 1
	if err := h.log.Put(context.Background(), 1, bad); err != nil {
		t.Fatal(err)
	}
	r := h.face(wire.RouteLogin, 5)
	if r.Status != wire.StatusRejected || r.Reason != wire.CodeUnavailable {
		t.Fatalf("answer over a corrupt log: %s %s", r.Status, r.Reason)
	}
	select {
	case <-h.svc.Fatal():
	default:
		t.Fatal("the service did not stop")
	}
	if h.svc.Ready() || !errors.Is(h.svc.Err(), ErrJournalCorrupt) {
		t.Fatalf("ready %v, err %v", h.svc.Ready(), h.svc.Err())
	}
	if st, _ := h.post(wire.RouteLogin, wire.MediaTypeRequest, []byte{1}); st != 503 {
		t.Fatalf("a stopped enclave answered HTTP %d", st)
	}
}
