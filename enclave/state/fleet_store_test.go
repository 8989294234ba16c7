package state

import (
	"context"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/parent"
	"github.com/facesign/facesign/simulator"
)

// storeFleet is three enclaves' journals, each behind its own parent
// (parent.Host over parent.S3Store, reached through enclave.HostLog), on
// one S3-compatible store and one DynamoDB-protocol counter — the
// production code path, with the simulator's stand-ins behind injectable
// faults.
type storeFleet struct {
	s3Faults, ddbFaults *simulator.Faults
	members             []*member
	keys                *memKeys
	counter             func() HeadCounter
	log                 func() enclave.Log
}

// newStoreFleetB is newStoreFleet's members, for benchmarks.
func newStoreFleetB(b *testing.B, n int) []*member {
	return newStoreFleet(b, n).members
}

func newStoreFleet(t testing.TB, n int) *storeFleet {
	t.Helper()
	f := &storeFleet{s3Faults: &simulator.Faults{}, ddbFaults: &simulator.Faults{}, keys: newMemKeys()}
	store, err := simulator.NewS3(time.Now, "facesign")
	if err != nil {
		t.Fatal(err)
	}
	s3srv := httptest.NewServer(f.s3Faults.Wrap(simulator.ProtocolS3, store))
	t.Cleanup(s3srv.Close)
	counters, err := simulator.NewCounters("")
	if err != nil {
		t.Fatal(err)
	}
	ddbsrv := httptest.NewServer(f.ddbFaults.Wrap(simulator.ProtocolDynamoDB, counters))
	t.Cleanup(ddbsrv.Close)
	creds := credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", "")
	f.counter = func() HeadCounter {
		return NewDynamoCounter(dynamodb.New(dynamodb.Options{Region: "sim-local-1", BaseEndpoint: aws.String(ddbsrv.URL), Credentials: creds, Retryer: quickRetries()}), "facesign", "gallery")
	}
	// One parent per enclave: its own S3 client and store, its own host
	// services listener.
	f.log = func() enclave.Log {
		client := s3.New(s3.Options{Region: "sim-local-1", BaseEndpoint: aws.String(s3srv.URL), UsePathStyle: true, Credentials: creds, Retryer: quickRetries()})
		st, err := parent.NewS3Store(parent.S3Options{Client: client, Bucket: "facesign", Prefix: "fleet/"})
		if err != nil {
			t.Fatal(err)
		}
		host, err := parent.NewHost(parent.HostConfig{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(host.Handler())
		t.Cleanup(srv.Close)
		var d net.Dialer
		return enclave.NewHostLog(func(ctx context.Context) (net.Conn, error) {
			return d.DialContext(ctx, "tcp", srv.Listener.Addr().String())
		})
	}
	for range n {
		m, err := bootMember(t, f.log(), f.keys, f.counter())
		if err != nil {
			t.Fatal(err)
		}
		f.members = append(f.members, m)
	}
	return f
}

// quickRetries is the SDK's standard retryer (3 attempts, on 500, 503 and
// dropped connections) with its backoff capped at 100 ms, so a test does
// not spend its time waiting between attempts.
func quickRetries() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 100 * time.Millisecond })
}

// TestFleetStoreFaults: three enclaves enrol concurrently through their
// parents while the S3 store answers 500 and 503, answers slowly, drops
// connections before serving a request and after serving it (a write made
// but never confirmed), and the counter answers 500; then the store goes
// down and comes back. No acknowledged enrolment is lost, nothing
// unacknowledged appears from nowhere, the log always verifies from the
// start, every enclave converges on it, and while the store is down writes
// are refused (ErrWrite: the service answers "unavailable") and resume
// after.
func TestFleetStoreFaults(t *testing.T) {
	f := newStoreFleet(t, 3)
	ctx := context.Background()
	var (
		mu        sync.Mutex
		acked     = map[string]bool{}
		attempted = map[string]bool{}
		refused   = map[string]int{} // phase → writes refused
		done      = map[string]int{} // phase → commits finished
		phase     string
	)
	setPhase := func(name string, s3f []simulator.Fault, ddbf []simulator.Fault) {
		mu.Lock()
		phase = name
		mu.Unlock()
		f.s3Faults.Set(s3f...)
		f.ddbFaults.Set(ddbf...)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w, m := range f.members {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				e := add(10000*(w+1) + i)
				mu.Lock()
				attempted[e.UniqueID] = true
				mu.Unlock()
				_, err := m.commit(ctx, e)
				mu.Lock()
				done[phase]++
				switch {
				case err == nil:
					acked[e.UniqueID] = true
				case errors.Is(err, enclave.ErrJournalCorrupt):
					t.Errorf("phase %s: %v", phase, err)
				default:
					refused[phase]++
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
				if errors.Is(err, enclave.ErrJournalCorrupt) {
					return
				}
			}
		})
	}
	// Each phase lasts until enough commits finished in it (the machine
	// may be slow; the faults are counted, not timed).
	run := func(min int) {
		mu.Lock()
		p := phase
		mu.Unlock()
		deadline := time.Now().Add(3 * time.Minute)
		for {
			mu.Lock()
			n := done[p]
			if p == "down" {
				n = refused[p]
			}
			mu.Unlock()
			if n >= min || time.Now().After(deadline) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	put := func(f simulator.Fault) simulator.Fault { f.Method = http.MethodPut; return f }
	get := func(f simulator.Fault) simulator.Fault { f.Method = http.MethodGet; return f }
	setPhase("errors", []simulator.Fault{
		put(simulator.Fault{Status: http.StatusInternalServerError, Every: 3}),
		get(simulator.Fault{Status: http.StatusServiceUnavailable, Every: 4}),
	}, []simulator.Fault{{Status: http.StatusInternalServerError, Every: 4}})
	run(8)
	setPhase("dropped", []simulator.Fault{
		put(simulator.Fault{DropAfter: true, Every: 3, Header: "If-None-Match"}),
		get(simulator.Fault{Drop: true, Every: 5}),
	}, []simulator.Fault{{DropAfter: true, Every: 5}})
	run(8)
	setPhase("slow", []simulator.Fault{{Delay: 60 * time.Millisecond}}, []simulator.Fault{{Delay: 30 * time.Millisecond}})
	run(8)
	setPhase("down", []simulator.Fault{{Status: http.StatusServiceUnavailable}}, nil)
	run(2)
	mu.Lock()
	ackedBeforeDown := len(acked)
	mu.Unlock()
	setPhase("healed", nil, nil)
	run(8)
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("acknowledged %d of %d attempted; refused by phase %v; injected S3 %v, DynamoDB %v",
		len(acked), len(attempted), refused, f.s3Faults.Injected(), f.ddbFaults.Injected())
	if refused["down"] == 0 {
		t.Fatal("no write was refused while the store was down")
	}
	if len(acked) == ackedBeforeDown {
		t.Fatal("writes did not resume after the store came back")
	}
	for _, kind := range []string{"status", "drop", "drop-after", "delay"} {
		if f.s3Faults.Injected()[kind] == 0 {
			t.Fatalf("no %s fault was injected on S3", kind)
		}
	}
	fresh, err := bootMember(t, f.log(), f.keys, f.counter())
	if err != nil {
		t.Fatalf("the log does not verify after the faults: %v", err)
	}
	for id := range acked {
		if _, ok := fresh.gallery[id]; !ok {
			t.Fatalf("acknowledged enrolment %s lost", id)
		}
	}
	for id := range fresh.gallery {
		if !attempted[id] {
			t.Fatalf("identity %s was never written", id)
		}
	}
	want := slices.Sorted(maps.Keys(fresh.gallery))
	for i, m := range f.members {
		if _, err := m.j.CatchUp(ctx, m.apply); err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(m.gallery)); !slices.Equal(got, want) {
			t.Fatalf("member %d holds %d identities, the log %d", i, len(got), len(want))
		}
	}
}
