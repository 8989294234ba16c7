package parent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/facesign/facesign/parent"
	"github.com/facesign/facesign/parent/storetest"
)

// fakeS3 starts an S3-compatible server (gofakes3, in-memory backend) on
// loopback, optionally behind middleware, and returns a client for it with
// one bucket made.
func fakeS3(t testing.TB, middleware func(http.Handler) http.Handler) *s3.Client {
	t.Helper()
	var h http.Handler = gofakes3.New(s3mem.New()).Server()
	if middleware != nil {
		h = middleware(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
	})
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("facesign")}); err != nil {
		t.Fatal(err)
	}
	return c
}

func newS3Store(t testing.TB, c parent.S3API, prefix string) *parent.S3Store {
	t.Helper()
	s, err := parent.NewS3Store(parent.S3Options{
		Client: c, Bucket: "facesign", Prefix: prefix,
		PartSize:  parent.MinS3PartSize,
		Snapshots: parent.SnapshotOptions{MaxBytes: storetest.SnapshotLimit},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3StoreConformance(t *testing.T) {
	n := 0
	storetest.Run(t, func(t *testing.T) parent.Store {
		// One server, a fresh prefix per store: stores must not see each
		// other's keys.
		c := fakeS3(t, nil)
		n++
		prefix := fmt.Sprintf("deploy-%d/", n)
		return storetest.WithReopen(newS3Store(t, c, prefix), func(t *testing.T) parent.Store {
			return newS3Store(t, c, prefix)
		})
	})
}

func TestS3SnapshotsConformance(t *testing.T) {
	storetest.RunSnapshots(t, func(t *testing.T) parent.SnapshotStore {
		c := fakeS3(t, nil)
		return storetest.WithSnapshotReopen(newS3Store(t, c, "p/"), func(t *testing.T) parent.SnapshotStore {
			return newS3Store(t, c, "p/")
		})
	})
}

// TestS3StorePrefixes: two deployments in one bucket do not see each
// other's records.
func TestS3StorePrefixes(t *testing.T) {
	ctx := context.Background()
	c := fakeS3(t, nil)
	a, b := newS3Store(t, c, "a/"), newS3Store(t, c, "a/b/")
	if err := a.Put(ctx, 1, []byte("in a")); err != nil {
		t.Fatal(err)
	}
	if err := b.Put(ctx, 1, []byte("in b")); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := a.Scan(ctx, 0, func(seq uint64, rec []byte) error { got = append(got, string(rec)); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "in a" {
		t.Fatalf("prefix a/ scanned %q", got)
	}
}

// TestS3StoreConditionalWrites: the store's idempotence and conflict
// detection rest on If-None-Match; a service that ignores it is caught by
// VerifyConditionalWrites.
func TestS3StoreConditionalWrites(t *testing.T) {
	ctx := context.Background()
	var sawCondition atomic.Int32
	honest := fakeS3(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.Header.Get("If-None-Match") == "*" {
				sawCondition.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	})
	s := newS3Store(t, honest, "")
	if err := s.VerifyConditionalWrites(ctx); err != nil {
		t.Fatalf("a service that enforces If-None-Match: %v", err)
	}
	if err := s.Put(ctx, 3, []byte("record")); err != nil {
		t.Fatal(err)
	}
	if sawCondition.Load() < 3 {
		t.Fatalf("record puts carried If-None-Match %d times", sawCondition.Load())
	}

	ignoring := fakeS3(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Header.Del("If-None-Match")
			next.ServeHTTP(w, r)
		})
	})
	if err := newS3Store(t, ignoring, "").VerifyConditionalWrites(ctx); !errors.Is(err, parent.ErrNoConditionalWrites) {
		t.Fatalf("a service that ignores If-None-Match: %v, want ErrNoConditionalWrites", err)
	}
}

// TestS3StoreConditionalConflictRetried: AWS answers 409
// ConditionalRequestConflict to a conditional write racing another on the
// same key; the store retries and then decides as usual.
func TestS3StoreConditionalConflictRetried(t *testing.T) {
	ctx := context.Background()
	var conflicts atomic.Int32
	c := fakeS3(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.Header.Get("If-None-Match") != "" && conflicts.Add(1) <= 2 {
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusConflict)
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ConditionalRequestConflict</Code><Message>A conflicting conditional operation is currently in progress against this resource.</Message></Error>`)
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	s := newS3Store(t, c, "")
	if err := s.Put(ctx, 0, []byte("header")); err != nil {
		t.Fatalf("put through two 409s: %v", err)
	}
	if err := s.Put(ctx, 0, []byte("other")); !errors.Is(err, parent.ErrConflict) {
		t.Fatalf("conflicting put: %v", err)
	}
}

// TestS3StoreBadInput: limits and configuration errors are clear and
// change nothing.
func TestS3StoreBadInput(t *testing.T) {
	ctx := context.Background()
	c := fakeS3(t, nil)
	for _, o := range []parent.S3Options{
		{Bucket: "facesign"},
		{Client: c},
		{Client: c, Bucket: "facesign", PartSize: 1 << 20},
		{Client: c, Bucket: "facesign", PartSize: parent.MinS3PartSize, Snapshots: parent.SnapshotOptions{MaxBytes: 1 << 50}},
	} {
		if _, err := parent.NewS3Store(o); !errors.Is(err, parent.ErrConfig) {
			t.Errorf("NewS3Store(%+v): %v, want ErrConfig", o, err)
		}
	}
	s, err := parent.NewS3Store(parent.S3Options{Client: c, Bucket: "facesign", MaxRecordBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, 1, make([]byte, 101)); !errors.Is(err, parent.ErrRecordTooLarge) {
		t.Fatalf("record over the limit: %v", err)
	}
	n := 0
	if err := s.Scan(ctx, 0, func(uint64, []byte) error { n++; return nil }); err != nil || n != 0 {
		t.Fatalf("after a refused put: %d records, %v", n, err)
	}
	// A record someone else stored over the limit is refused on read.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("facesign"), Key: aws.String("log/00000000000000000002.rec"), Body: bytes.NewReader(make([]byte, 200))}); err != nil {
		t.Fatal(err)
	}
	if err := s.Scan(ctx, 0, func(uint64, []byte) error { return nil }); !errors.Is(err, parent.ErrRecordTooLarge) {
		t.Fatalf("scan over an oversized object: %v", err)
	}
	// Keys that are not records are ignored.
	for _, k := range []string{"log/junk", "log/2.rec", "log/0000000000000000000x.rec", "log/99999999999999999999.rec"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("facesign"), Key: aws.String(k), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Scan(ctx, 3, func(seq uint64, _ []byte) error { return fmt.Errorf("unexpected record %d", seq) }); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkStorePut compares the latency of one durable record write on
// the directory store (file + directory fsync) and the S3 store (one
// conditional PutObject to an in-memory S3-compatible server over loopback
// HTTP).
func BenchmarkStorePut(b *testing.B) {
	rec := bytes.Repeat([]byte{0xa5}, 1100) // a 192-d journal record is ~1.1 kB
	for _, bc := range []struct {
		name string
		open func(b *testing.B) parent.Store
	}{
		{"dir", func(b *testing.B) parent.Store {
			s, err := parent.OpenDirStore(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			return s
		}},
		{"s3-gofakes3", func(b *testing.B) parent.Store { return newS3Store(b, fakeS3(b, nil), "") }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := bc.open(b)
			ctx := context.Background()
			b.SetBytes(int64(len(rec)))
			var seq uint64
			for b.Loop() {
				if err := s.Put(ctx, seq, rec); err != nil {
					b.Fatal(err)
				}
				seq++
			}
		})
	}
}

// TestS3SnapshotMultipart: a snapshot over one part goes up as a multipart
// upload (checked on the wire), and a failure part-way leaves no object and
// no pending upload.
func TestS3SnapshotMultipart(t *testing.T) {
	ctx := context.Background()
	var parts atomic.Int32
	var failPart atomic.Int32
	c := fakeS3(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut && r.URL.Query().Get("partNumber") != "" {
				if n := parts.Add(1); failPart.Load() > 0 && n >= failPart.Load() {
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	s := newS3Store(t, c, "")
	big := bytes.Repeat([]byte("snapshot chunk.."), (5<<20+4096)/16)
	if err := s.PutSnapshot(ctx, 8, bytes.NewReader(big)); err != nil {
		t.Fatal(err)
	}
	if parts.Load() != 2 {
		t.Fatalf("5 MiB + 4 KiB in 5 MiB parts took %d parts, want 2", parts.Load())
	}
	parts.Store(0)
	failPart.Store(2)
	if err := s.PutSnapshot(ctx, 9, bytes.NewReader(big)); err == nil {
		t.Fatal("a failed part was acknowledged")
	}
	seq, rc, err := s.LatestSnapshot(ctx)
	if err != nil || seq != 8 {
		t.Fatalf("latest after a failed upload: %d, %v", seq, err)
	}
	rc.Close()
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("facesign")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left pending", len(ups.Uploads))
	}
}
