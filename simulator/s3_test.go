package simulator_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/facesign/facesign/simulator"
)

func s3Client(t *testing.T, h http.Handler, attempts int) *s3.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return s3.New(s3.Options{
		Region: "sim-local-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", ""),
		Retryer:     retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = attempts }),
	})
}

// TestS3ConditionalCreate: of many concurrent PutObject calls with
// If-None-Match: * on one key, exactly one succeeds and the others get
// 412 PreconditionFailed; the object holds the winner's bytes.
func TestS3ConditionalCreate(t *testing.T) {
	store, err := simulator.NewS3(time.Now, "b")
	if err != nil {
		t.Fatal(err)
	}
	c := s3Client(t, store, 1)
	ctx := context.Background()
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("log/1"),
				Body: bytes.NewReader([]byte(fmt.Sprint("writer ", i))), IfNoneMatch: aws.String("*")})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		var ae smithy.APIError
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Fatalf("writers %d and %d both created the key", winner, i)
		case !errors.As(err, &ae) || ae.ErrorCode() != "PreconditionFailed":
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("log/1")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(out.Body)
	if b.String() != fmt.Sprint("writer ", winner) {
		t.Fatalf("object holds %q, winner %d", b.String(), winner)
	}
}

// TestFaults: each kind of fault does what it says, on the requests it
// matches, every Nth time.
func TestFaults(t *testing.T) {
	store, err := simulator.NewS3(time.Now, "b")
	if err != nil {
		t.Fatal(err)
	}
	faults := &simulator.Faults{}
	c := s3Client(t, faults.Wrap(simulator.ProtocolS3, store), 1)
	ctx := context.Background()
	put := func(key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String(key), Body: bytes.NewReader([]byte("x"))})
		return err
	}
	exists := func(key string) bool {
		faults.Set()
		_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String(key)})
		return err == nil
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return ""
	}
	faults.Set(simulator.Fault{Status: http.StatusServiceUnavailable, Method: http.MethodPut})
	if err := put("a"); code(err) != "SlowDown" || exists("a") {
		t.Fatalf("503: %v", err)
	}
	faults.Set(simulator.Fault{Status: http.StatusInternalServerError, Every: 2})
	if err := put("b1"); err != nil {
		t.Fatalf("first of every second: %v", err)
	}
	if err := put("b2"); code(err) != "InternalError" {
		t.Fatalf("second of every second: %v", err)
	}
	faults.Set(simulator.Fault{Drop: true})
	if err := put("c"); err == nil || exists("c") {
		t.Fatalf("dropped before serving: %v", err)
	}
	faults.Set(simulator.Fault{DropAfter: true})
	if err := put("d"); err == nil || !exists("d") {
		t.Fatalf("dropped after serving: %v (the write must be made)", err)
	}
	faults.Set(simulator.Fault{Delay: 50 * time.Millisecond, PathPrefix: "/b/slow"})
	if err := put("slow"); err != nil || !exists("slow") {
		t.Fatalf("delayed: %v", err)
	}
	got := faults.Injected()
	if got["status"] != 2 || got["drop"] != 1 || got["drop-after"] != 1 || got["delay"] != 1 {
		t.Fatalf("injected %v", got)
	}
}
