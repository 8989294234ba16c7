package parent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3API is the part of the S3 client [S3Store] calls; *s3.Client
// satisfies it.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// S3 store defaults and limits.
const (
	// DefaultS3PartSize is the multipart part size for snapshots.
	DefaultS3PartSize int64 = 16 << 20
	// MinS3PartSize is S3's minimum size of every part but the last.
	MinS3PartSize int64 = 5 << 20
	// maxS3Parts is S3's limit on parts per upload.
	maxS3Parts = 10000
	// s3ScanWindow is how many record GETs a scan keeps in flight.
	s3ScanWindow = 16
)

// ErrNoConditionalWrites reports an S3-compatible service that ignored
// If-None-Match on PutObject: on it the store cannot refuse to overwrite a
// record, so it must not be used. See [S3Store.VerifyConditionalWrites].
var ErrNoConditionalWrites = errors.New("parent: the S3 service does not enforce If-None-Match on PutObject")

// S3Options configures an [S3Store].
type S3Options struct {
	// Client talks to the bucket. Required.
	Client S3API
	// Bucket holds the objects. Required.
	Bucket string
	// Prefix is prepended to every key (for example "facesign/prod/"), so
	// one bucket can hold several deployments.
	Prefix string
	// MaxRecordBytes caps one log record; 0 means [DefaultMaxRecordBytes].
	MaxRecordBytes int64
	// Snapshots configures the snapshot size limit and retention.
	Snapshots SnapshotOptions
	// PartSize is the multipart part size for snapshots, at least
	// [MinS3PartSize]; 0 means [DefaultS3PartSize]. One part is buffered in
	// memory during an upload.
	PartSize int64
}

// S3Store is a [Store] and a [SnapshotStore] on an S3-compatible object
// store, through aws-sdk-go-v2. Keys:
//
//	<prefix>log/<seq, 20 digits>.rec         one object per log record
//	<prefix>snapshots/<seq, 20 digits>.snap  one object per snapshot
//
// # What it relies on from the service
//
//   - Durability on acknowledgement: a PutObject or
//     CompleteMultipartUpload that returned 200 is durable (AWS S3 stores
//     it redundantly across availability zones before answering).
//   - Conditional create: PutObject with If-None-Match: * fails with 412
//     when the key exists, atomically with respect to other writers. AWS S3
//     has enforced it since August 2024, and answers 409
//     ConditionalRequestConflict to a write racing another on the same key
//     (retried here); MinIO and Cloudflare R2 enforce it too. A service that
//     ignores the header would let a retry overwrite a record, so call
//     [S3Store.VerifyConditionalWrites] at startup and refuse to run on
//     [ErrNoConditionalWrites].
//   - Strong read-after-write consistency for GET and LIST (AWS S3 since
//     December 2020), and LIST in ascending key order, so a scan sees every
//     acknowledged record in sequence order.
//
// A Put that finds the key taken compares the stored bytes with its own:
// the same bytes are an idempotent retry (nil), different ones
// [ErrConflict]. Snapshots up to one part go up as one PutObject, larger ones
// as a multipart upload that becomes visible only when completed and is
// aborted on any error; either way a snapshot is visible whole or not at
// all, and replaces one at the same seq.
type S3Store struct {
	api      S3API
	bucket   string
	prefix   string
	maxRec   int64
	snap     SnapshotOptions
	partSize int64
}

var (
	_ Store         = (*S3Store)(nil)
	_ SnapshotStore = (*S3Store)(nil)
)

// NewS3Store checks o and returns a store. It makes no request; see
// [S3Store.VerifyConditionalWrites].
func NewS3Store(o S3Options) (*S3Store, error) {
	if o.Client == nil || o.Bucket == "" {
		return nil, fmt.Errorf("%w: the S3 store needs a client and a bucket", ErrConfig)
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.PartSize == 0 {
		o.PartSize = DefaultS3PartSize
	}
	if o.PartSize < MinS3PartSize {
		return nil, fmt.Errorf("%w: S3 part size %d below S3's minimum %d", ErrConfig, o.PartSize, MinS3PartSize)
	}
	snap := o.Snapshots.withDefaults()
	if snap.MaxBytes > o.PartSize*maxS3Parts {
		return nil, fmt.Errorf("%w: snapshots up to %d bytes need parts of at least %d bytes", ErrConfig, snap.MaxBytes, snap.MaxBytes/maxS3Parts+1)
	}
	return &S3Store{api: o.Client, bucket: o.Bucket, prefix: o.Prefix, maxRec: o.MaxRecordBytes, snap: snap, partSize: o.PartSize}, nil
}

func (s *S3Store) logPrefix() string  { return s.prefix + "log/" }
func (s *S3Store) snapPrefix() string { return s.prefix + "snapshots/" }
func (s *S3Store) logKey(seq uint64) string {
	return fmt.Sprintf("%s%020d%s", s.logPrefix(), seq, recordSuffix)
}
func (s *S3Store) snapKey(seq uint64) string { return s.snapPrefix() + snapshotName(seq) }

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func isPreconditionFailed(err error) bool {
	return httpStatus(err) == http.StatusPreconditionFailed || apiCode(err) == "PreconditionFailed"
}

func isConditionalConflict(err error) bool {
	return apiCode(err) == "ConditionalRequestConflict" || httpStatus(err) == http.StatusConflict
}

func isNoSuchKey(err error) bool {
	var nsk *types.NoSuchKey
	return errors.As(err, &nsk) || httpStatus(err) == http.StatusNotFound
}

// createIfAbsent puts b under key with If-None-Match: *. It reports
// whether the key was taken.
func (s *S3Store) createIfAbsent(ctx context.Context, key string, b []byte) (taken bool, err error) {
	backoff := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		_, err := s.api.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader(b),
			ContentLength: aws.Int64(int64(len(b))),
			ContentType:   aws.String("application/octet-stream"),
			IfNoneMatch:   aws.String("*"),
		})
		switch {
		case err == nil:
			return false, nil
		case isPreconditionFailed(err):
			return true, nil
		case isConditionalConflict(err) && attempt < 6:
			// Another write to the same key is in flight: once it settles
			// the key is either taken (412) or free.
			select {
			case <-ctx.Done():
				return false, ctx.Err()
			case <-time.After(backoff):
			}
			backoff *= 2
		default:
			return false, err
		}
	}
}

// Put implements [Store].
func (s *S3Store) Put(ctx context.Context, seq uint64, rec []byte) error {
	if int64(len(rec)) > s.maxRec {
		return fmt.Errorf("%w: %d bytes (limit %d)", ErrRecordTooLarge, len(rec), s.maxRec)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	taken, err := s.createIfAbsent(ctx, s.logKey(seq), rec)
	if err != nil {
		return fmt.Errorf("parent: s3 put %d: %w", seq, err)
	}
	if !taken {
		return nil
	}
	old, err := s.getBounded(ctx, s.logKey(seq), s.maxRec)
	if err != nil {
		return fmt.Errorf("parent: s3 put %d: reading the stored record: %w", seq, err)
	}
	if bytes.Equal(old, rec) {
		return nil
	}
	return fmt.Errorf("%w (seq %d)", ErrConflict, seq)
}

// getBounded reads the object key, failing if it holds more than max bytes.
func (s *S3Store) getBounded(ctx context.Context, key string, max int64) ([]byte, error) {
	out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	if out.ContentLength != nil && *out.ContentLength > max {
		return nil, fmt.Errorf("%w: %s holds %d bytes", ErrRecordTooLarge, key, *out.ContentLength)
	}
	b, err := io.ReadAll(io.LimitReader(out.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: %s holds more than %d bytes", ErrRecordTooLarge, key, max)
	}
	return b, nil
}

// list calls fn for each object key under prefix after startAfter, in
// ascending key order.
func (s *S3Store) list(ctx context.Context, prefix, startAfter string, fn func(keys []string) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	p := s3.NewListObjectsV2Paginator(s.api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(page.Contents))
		for _, o := range page.Contents {
			if o.Key != nil {
				keys = append(keys, *o.Key)
			}
		}
		if err := fn(keys); err != nil {
			return err
		}
	}
	return nil
}

func (s *S3Store) parseLogKey(key string) (uint64, bool) {
	name, ok := strings.CutPrefix(key, s.logPrefix())
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(name, recordSuffix)
	if !ok || len(num) != 20 {
		return 0, false
	}
	var seq uint64
	for _, c := range num {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if seq > (^uint64(0)-d)/10 {
			return 0, false
		}
		seq = seq*10 + d
	}
	return seq, true
}

// Scan implements [Store]. Records are fetched a window at a time
// concurrently and handed to fn strictly in order.
func (s *S3Store) Scan(ctx context.Context, from uint64, fn func(seq uint64, rec []byte) error) error {
	startAfter := ""
	if from > 0 {
		startAfter = s.logKey(from - 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := s.list(ctx, s.logPrefix(), startAfter, func(keys []string) error {
		type item struct {
			seq uint64
			key string
			rec []byte
			err error
			ok  chan struct{} // closed when rec or err is set
			// held: the item holds a window slot, released when consumed
			held bool
		}
		var items []*item
		for _, k := range keys {
			if seq, ok := s.parseLogKey(k); ok && seq >= from {
				items = append(items, &item{seq: seq, key: k, ok: make(chan struct{})})
			}
		}
		sem := make(chan struct{}, s3ScanWindow)
		go func() {
			for _, it := range items {
				select {
				case sem <- struct{}{}:
					it.held = true
				case <-ctx.Done():
					it.err = ctx.Err()
					close(it.ok)
					continue
				}
				go func() {
					defer close(it.ok)
					it.rec, it.err = s.getBounded(ctx, it.key, s.maxRec)
				}()
			}
		}()
		for _, it := range items {
			<-it.ok
			if it.held {
				<-sem
			}
			if it.err != nil {
				cancel()
				return fmt.Errorf("parent: s3 scan: record %d: %w", it.seq, it.err)
			}
			if err := fn(it.seq, it.rec); err != nil {
				cancel()
				return err
			}
			it.rec = nil
		}
		return nil
	})
	return err
}

// VerifyConditionalWrites checks, with a probe object under the prefix,
// that the service refuses a second PutObject with If-None-Match: * on one
// key. It returns [ErrNoConditionalWrites] if the service overwrote it.
// Run it once at startup, before serving the enclave.
func (s *S3Store) VerifyConditionalWrites(ctx context.Context) error {
	key := s.prefix + "probe/conditional-write"
	del := func() error {
		_, err := s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
		return err
	}
	if err := del(); err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("parent: s3 probe: %w", err)
	}
	if taken, err := s.createIfAbsent(ctx, key, []byte("first")); err != nil || taken {
		return fmt.Errorf("parent: s3 probe: first conditional put: taken=%v, %w", taken, err)
	}
	taken, err := s.createIfAbsent(ctx, key, []byte("second"))
	if err != nil {
		return fmt.Errorf("parent: s3 probe: %w", err)
	}
	b, gerr := s.getBounded(ctx, key, 16)
	_ = del()
	if gerr != nil {
		return fmt.Errorf("parent: s3 probe: %w", gerr)
	}
	if !taken || string(b) != "first" {
		return ErrNoConditionalWrites
	}
	return nil
}

// PutSnapshot implements [SnapshotStore].
func (s *S3Store) PutSnapshot(ctx context.Context, seq uint64, r io.Reader) error {
	if seq == 0 {
		return ErrSnapshotSeq
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	key := s.snapKey(seq)
	lr := &limitedReader{ctx: ctx, r: r, left: s.snap.MaxBytes}
	buf := make([]byte, s.partSize)
	n, err := io.ReadFull(lr, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		_, err := s.api.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        aws.String(s.bucket),
			Key:           aws.String(key),
			Body:          bytes.NewReader(buf[:n]),
			ContentLength: aws.Int64(int64(n)),
			ContentType:   aws.String("application/octet-stream"),
		})
		if err != nil {
			return fmt.Errorf("parent: s3 snapshot put %d: %w", seq, err)
		}
	case err != nil:
		return fmt.Errorf("parent: s3 snapshot put %d: %w", seq, err)
	default:
		if err := s.multipart(ctx, key, buf, lr); err != nil {
			return fmt.Errorf("parent: s3 snapshot put %d: %w", seq, err)
		}
	}
	s.pruneSnapshots(ctx)
	return nil
}

// multipart uploads first (a full part) and the rest of r as one object.
func (s *S3Store) multipart(ctx context.Context, key string, first []byte, r io.Reader) (err error) {
	up, err := s.api.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.bucket),
		Key:               aws.String(key),
		ContentType:       aws.String("application/octet-stream"),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
			defer cancel()
			_, _ = s.api.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: up.UploadId})
		}
	}()
	var parts []types.CompletedPart
	buf := first
	for num := int32(1); ; num++ {
		if num > maxS3Parts {
			return ErrSnapshotTooLarge
		}
		out, err := s.api.UploadPart(ctx, &s3.UploadPartInput{
			Bucket:            aws.String(s.bucket),
			Key:               aws.String(key),
			UploadId:          up.UploadId,
			PartNumber:        aws.Int32(num),
			Body:              bytes.NewReader(buf),
			ContentLength:     aws.Int64(int64(len(buf))),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return err
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
		n, err := io.ReadFull(r, first[:cap(first)])
		if err == io.EOF {
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			return err
		}
		buf = first[:n]
	}
	_, err = s.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(key),
		UploadId:        up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	return err
}

// snapshotSeqs lists the stored snapshot seqs in ascending order.
func (s *S3Store) snapshotSeqs(ctx context.Context) ([]uint64, error) {
	var seqs []uint64
	err := s.list(ctx, s.snapPrefix(), "", func(keys []string) error {
		for _, k := range keys {
			if seq, ok := parseSnapshotName(strings.TrimPrefix(k, s.snapPrefix())); ok {
				seqs = append(seqs, seq)
			}
		}
		return nil
	})
	slices.Sort(seqs)
	return seqs, err
}

// pruneSnapshots deletes all but the Keep newest snapshots. Failures only
// leave old snapshots behind.
func (s *S3Store) pruneSnapshots(ctx context.Context) {
	seqs, err := s.snapshotSeqs(ctx)
	if err != nil {
		return
	}
	for _, old := range seqs[:max(0, len(seqs)-s.snap.Keep)] {
		_, _ = s.api.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.snapKey(old))})
	}
}

type s3Snapshot struct {
	io.ReadCloser
	size int64
}

func (s s3Snapshot) Size() int64 { return s.size }

// LatestSnapshot implements [SnapshotStore].
func (s *S3Store) LatestSnapshot(ctx context.Context) (uint64, SnapshotReader, error) {
	for range 8 {
		seqs, err := s.snapshotSeqs(ctx)
		if err != nil {
			return 0, nil, fmt.Errorf("parent: s3 snapshot list: %w", err)
		}
		if len(seqs) == 0 {
			return 0, nil, ErrNoSnapshot
		}
		seq := seqs[len(seqs)-1]
		out, err := s.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.snapKey(seq))})
		if isNoSuchKey(err) {
			continue // pruned by a concurrent put: a newer one exists
		}
		if err != nil {
			return 0, nil, fmt.Errorf("parent: s3 snapshot get %d: %w", seq, err)
		}
		if out.ContentLength == nil || *out.ContentLength < 0 || *out.ContentLength > s.snap.MaxBytes {
			out.Body.Close()
			return 0, nil, fmt.Errorf("%w: snapshot %d has no length or is over %d bytes", ErrSnapshotTooLarge, seq, s.snap.MaxBytes)
		}
		return seq, s3Snapshot{ReadCloser: out.Body, size: *out.ContentLength}, nil
	}
	return 0, nil, errors.New("parent: s3 snapshot get: snapshots keep changing")
}
