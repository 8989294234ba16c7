package simulator

import (
	"fmt"
	"net/http"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is the simulator's stand-in for an S3-compatible object store, in
// memory: the S3 REST protocol as aws-sdk-go-v2 speaks it (path-style
// addressing), served by gofakes3 with its in-memory backend. What
// FaceSign relies on from S3 holds here too: PutObject with
// If-None-Match: * is refused with 412 when the key exists, checked and
// written under one lock (so of two concurrent creators exactly one
// wins, as on AWS S3 since August 2024); reads and lists are strongly
// consistent, lists in ascending key order; multipart uploads become
// visible only when completed. Put [Faults] in front of it to see the
// store fail.
//
// It keeps nothing across restarts and checks no signatures: it stands
// in for the service's behaviour, not for its durability or IAM.
type S3 struct {
	h http.Handler
}

var _ http.Handler = (*S3)(nil)

// NewS3 returns an empty store holding the given buckets; clock stamps
// objects and checks request times (the client's signing clock must be
// within 15 minutes of it).
func NewS3(clock func() time.Time, buckets ...string) (*S3, error) {
	if clock == nil {
		return nil, fmt.Errorf("simulator: s3 needs a clock")
	}
	ts := clockSource{clock}
	backend := s3mem.New(s3mem.WithTimeSource(ts))
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			return nil, fmt.Errorf("simulator: s3 bucket %q: %w", b, err)
		}
	}
	fake := gofakes3.New(backend, gofakes3.WithTimeSource(ts), gofakes3.WithLogger(gofakes3.DiscardLog()), gofakes3.WithoutVersioning())
	return &S3{h: fake.Server()}, nil
}

// ServeHTTP implements the S3 REST API subset described on [S3].
func (s *S3) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.h.ServeHTTP(w, r) }

// clockSource adapts an injected clock to gofakes3.TimeSource.
type clockSource struct{ now func() time.Time }

func (c clockSource) Now() time.Time                  { return c.now() }
func (c clockSource) Since(t time.Time) time.Duration { return c.now().Sub(t) }
