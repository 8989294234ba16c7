package parent

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// StoreSpec names where the parent keeps the sealed log and snapshots, in
// the form "facesign parent --store" takes:
//
//	dir:PATH               records in PATH/log, snapshots in PATH/snapshots
//	s3://BUCKET[/PREFIX]   records under PREFIX/log/, snapshots under PREFIX/snapshots/
type StoreSpec struct {
	Kind   string // "dir" or "s3"
	Dir    string // dir
	Bucket string // s3
	Prefix string // s3: "" or ending in "/"
}

var bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseStoreSpec reads a [StoreSpec].
func ParseStoreSpec(s string) (StoreSpec, error) {
	if p, ok := strings.CutPrefix(s, "dir:"); ok {
		if p == "" || strings.ContainsRune(p, 0) {
			return StoreSpec{}, fmt.Errorf("%w: store %q: empty or invalid path", ErrConfig, s)
		}
		return StoreSpec{Kind: "dir", Dir: filepath.Clean(p)}, nil
	}
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return StoreSpec{}, fmt.Errorf("%w: store %q: want dir:PATH or s3://BUCKET/PREFIX", ErrConfig, s)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if !bucketRE.MatchString(bucket) || strings.Contains(bucket, "..") {
		return StoreSpec{}, fmt.Errorf("%w: store %q: %q is not an S3 bucket name", ErrConfig, s, bucket)
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" {
		for _, seg := range strings.Split(prefix, "/") {
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "\x00\\") {
				return StoreSpec{}, fmt.Errorf("%w: store %q: bad prefix segment %q", ErrConfig, s, seg)
			}
		}
		prefix += "/"
	}
	return StoreSpec{Kind: "s3", Bucket: bucket, Prefix: prefix}, nil
}

// String formats s the way [ParseStoreSpec] reads it.
func (s StoreSpec) String() string {
	if s.Kind == "dir" {
		return "dir:" + s.Dir
	}
	return "s3://" + s.Bucket + "/" + s.Prefix
}

// OpenStores opens the record store and the snapshot store s names. For s3,
// client talks to the bucket (the caller builds it from the SDK's default
// configuration) and the service's conditional writes are verified first
// ([S3Store.VerifyConditionalWrites]); client is unused for dir.
func OpenStores(ctx context.Context, s StoreSpec, client S3API) (Store, SnapshotStore, error) {
	switch s.Kind {
	case "dir":
		st, err := OpenDirStore(filepath.Join(s.Dir, "log"))
		if err != nil {
			return nil, nil, err
		}
		snaps, err := OpenDirSnapshots(filepath.Join(s.Dir, "snapshots"), SnapshotOptions{})
		if err != nil {
			return nil, nil, err
		}
		return st, snaps, nil
	case "s3":
		st, err := NewS3Store(S3Options{Client: client, Bucket: s.Bucket, Prefix: s.Prefix})
		if err != nil {
			return nil, nil, err
		}
		if err := st.VerifyConditionalWrites(ctx); err != nil {
			return nil, nil, err
		}
		return st, st, nil
	}
	return nil, nil, fmt.Errorf("%w: store kind %q", ErrConfig, s.Kind)
}
