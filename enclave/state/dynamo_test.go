package state_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/facesign/facesign/enclave/state"
	"github.com/facesign/facesign/simulator"
)

// TestDynamoCounter runs the real DynamoDB client against the simulator's
// counter service, across a restart of the service.
func TestDynamoCounter(t *testing.T) {
	dir := t.TempDir()
	newCounter := func() (*state.DynamoCounter, func()) {
		svc, err := simulator.NewCounters(dir)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(svc)
		client := dynamodb.New(dynamodb.Options{
			Region:       "sim-local-1",
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", ""),
		})
		return state.NewDynamoCounter(client, "facesign-counters", "deployment-a"), srv.Close
	}
	ctx := context.Background()
	c, stop := newCounter()
	if v, err := c.Load(ctx); err != nil || v != 0 {
		t.Fatalf("fresh counter: %d, %v", v, err)
	}
	if err := c.Advance(ctx, 0, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	if err := c.Advance(ctx, 1, 3); !errors.Is(err, state.ErrCounterConflict) {
		t.Fatalf("stale advance: %v", err)
	}
	if err := c.Advance(ctx, 0, 3); !errors.Is(err, state.ErrCounterConflict) {
		t.Fatalf("re-creating the counter: %v", err)
	}
	if err := c.Advance(ctx, 2, 2); !errors.Is(err, state.ErrCounterArgs) {
		t.Fatalf("advance without progress: %v", err)
	}
	stop()
	c, stop = newCounter()
	defer stop()
	if v, err := c.Load(ctx); err != nil || v != 2 {
		t.Fatalf("after restart: %d, %v", v, err)
	}
}

// TestDynamoHeadCounter: the head-binding moves (the ones several enclaves
// sharing a log make) against the simulator's table through the real
// client: only from the exact head held, a count-only move unbinds the
// hash, an unbound head is bound by the next move, and it all survives a
// restart of the service; a counters.json from before heads is carried
// over.
func TestDynamoHeadCounter(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "counters.json"), []byte(`{"facesign-counters/old":7}`), 0o600); err != nil {
		t.Fatal(err)
	}
	newCounter := func(name string) (*state.DynamoCounter, func()) {
		svc, err := simulator.NewCounters(dir)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(svc)
		client := dynamodb.New(dynamodb.Options{
			Region:       "sim-local-1",
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", ""),
		})
		return state.NewDynamoCounter(client, "facesign-counters", name), srv.Close
	}
	ctx := context.Background()
	h := func(n uint64, s string) state.Head { return state.Head{N: n, Hash: sha256.Sum256([]byte(s))} }
	c, stop := newCounter("fleet")
	if got, err := c.LoadHead(ctx); err != nil || got != (state.Head{}) {
		t.Fatalf("fresh: %+v, %v", got, err)
	}
	steps := []struct {
		name     string
		old, new state.Head
		want     error
	}{
		{"create", state.Head{}, h(1, "a"), nil},
		{"create again", state.Head{}, h(2, "b"), state.ErrCounterConflict},
		{"from the held head", h(1, "a"), h(3, "c"), nil},
		{"from a stale head", h(1, "a"), h(4, "d"), state.ErrCounterConflict},
		{"right count, other hash (a fork)", h(3, "x"), h(4, "d"), state.ErrCounterConflict},
		{"as if unbound", state.Head{N: 3}, h(4, "d"), state.ErrCounterConflict},
		{"backwards", h(3, "c"), h(2, "b"), state.ErrCounterArgs},
		{"to an unbound head", h(3, "c"), state.Head{N: 9}, state.ErrCounterArgs},
		{"on", h(3, "c"), h(5, "e"), nil},
	}
	for _, st := range steps {
		if err := c.AdvanceHead(ctx, st.old, st.new); !errors.Is(err, st.want) && !(err == nil && st.want == nil) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.want)
		}
	}
	if got, err := c.LoadHead(ctx); err != nil || got != h(5, "e") {
		t.Fatalf("after the moves: %+v, %v", got, err)
	}
	if err := c.Advance(ctx, 5, 6); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.LoadHead(ctx); got != (state.Head{N: 6}) {
		t.Fatalf("after a count-only move: %+v, want unbound at 6", got)
	}
	if err := c.AdvanceHead(ctx, h(6, "f"), h(7, "g")); !errors.Is(err, state.ErrCounterConflict) {
		t.Fatalf("a bound move from an unbound counter: %v", err)
	}
	if err := c.AdvanceHead(ctx, state.Head{N: 6}, h(7, "g")); err != nil {
		t.Fatal(err)
	}
	stop()
	c, stop = newCounter("fleet")
	defer stop()
	if got, err := c.LoadHead(ctx); err != nil || got != h(7, "g") {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	old, stopOld := newCounter("old")
	defer stopOld()
	if got, err := old.LoadHead(ctx); err != nil || got != (state.Head{N: 7}) {
		t.Fatalf("counter from counters.json: %+v, %v", got, err)
	}
}
