package state_test

import (
	"context"
	"errors"
	"net/http/httptest"
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
