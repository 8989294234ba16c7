package state_test

import (
	"context"
	"crypto/rand"
	"crypto/sha512"
	"crypto/x509"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/enclave/kms"
	"github.com/facesign/facesign/enclave/state"
	"github.com/facesign/facesign/simulator"
)

// TestWithSimulatedAWS runs the journal the way the simulator deploys it:
// the data key from the simulator's KMS through the real AWS SDK with
// recipient attestation, the rollback counter in the simulator's DynamoDB
// stand-in. An enclave with another PCR0 cannot read the state, and a parent
// that serves an older log is caught.
func TestWithSimulatedAWS(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	ca, err := simulator.NewCA(rand.Reader, now.Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	image := sha512.Sum384([]byte("facesign enclave image"))
	other := sha512.Sum384([]byte("a modified image"))
	kmsSim, err := simulator.NewKMS(simulator.KMSOptions{Roots: []*x509.Certificate{ca.Root()}, Clock: clock, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	arn, err := kmsSim.CreateKey(simulator.KMSPolicy{PCRs: map[int][]byte{0: image[:]}})
	if err != nil {
		t.Fatal(err)
	}
	kmsSrv := httptest.NewServer(kmsSim)
	defer kmsSrv.Close()
	counters, err := simulator.NewCounters(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ddbSrv := httptest.NewServer(counters)
	defer ddbSrv.Close()
	creds := credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", "")

	boot := func(log enclave.Log, pcr0 []byte) (int, error) {
		nsm, err := simulator.NewNSM(simulator.NSMOptions{CA: ca, PCRs: map[int][]byte{0: pcr0}, Clock: clock, Rand: rand.Reader})
		if err != nil {
			t.Fatal(err)
		}
		rcpt, err := kms.NewRecipient(nsm)
		if err != nil {
			t.Fatal(err)
		}
		keys := kms.NewAWS(kms.NewClient(kms.ClientOptions{Region: "sim-local-1", Endpoint: kmsSrv.URL, Credentials: creds}),
			arn, rcpt, map[string]string{"facesign:purpose": "gallery-state"})
		ddb := dynamodb.New(dynamodb.Options{Region: "sim-local-1", BaseEndpoint: aws.String(ddbSrv.URL), Credentials: creds})
		j, err := state.New(state.Options{Log: log, Keys: keys, Counter: state.NewDynamoCounter(ddb, "facesign", "test"), Rand: nsm.Random(), Dim: 4})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if err := j.Replay(context.Background(), func(enclave.Entry) error { n++; return nil }); err != nil {
			return 0, err
		}
		for i := range 3 {
			e := enclave.Entry{Op: enclave.OpAdd, UniqueID: "00000000-0000-4000-8000-00000000000" + string(rune('0'+n+i)),
				Entropy: make([]byte, 32), Vector: make([]byte, 16)}
			if err := j.Append(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		return n, nil
	}

	log := &enclave.MemLog{}
	if n, err := boot(log, image[:]); err != nil || n != 0 {
		t.Fatalf("first boot: %d, %v", n, err)
	}
	old := &enclave.MemLog{}
	for seq, rec := range log.Records() {
		if err := old.Put(context.Background(), uint64(seq), rec); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := boot(log, image[:]); err != nil || n != 3 {
		t.Fatalf("second boot: %d identities, %v", n, err)
	}
	if _, err := boot(log, other[:]); !errors.Is(err, kms.ErrDenied) {
		t.Fatalf("boot of another image: %v, want kms.ErrDenied", err)
	}
	if _, err := boot(old, image[:]); !errors.Is(err, state.ErrRollback) {
		t.Fatalf("boot on the older log: %v, want ErrRollback", err)
	}
}
