package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/facesign/facesign/internal/syncbuf"
	"github.com/facesign/facesign/wire"
)

// TestParentCommandStateServices runs "facesign parent" in process with a
// directory store, the sealed counter credentials and a KMS egress relay,
// drives the host services and the relay as the enclave would, and reads the
// effect on the public /metrics.
func TestParentCommandStateServices(t *testing.T) {
	t.Run("dir", func(t *testing.T) { testParentCommand(t, nil) })
	t.Run("s3", func(t *testing.T) {
		// An S3-compatible server (gofakes3) with the bucket made; the
		// parent reaches it through the SDK's default configuration.
		srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
		defer srv.Close()
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIATESTPARENT")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		t.Setenv("AWS_CONFIG_FILE", os.DevNull)
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
		c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider("AKIATESTPARENT", "test-secret", "")})
		if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("facesign")}); err != nil {
			t.Fatal(err)
		}
		testParentCommand(t, []string{"--store", "s3://facesign/prod", "--s3-endpoint", srv.URL, "--s3-path-style", "--aws-region", "us-east-1"})
		if _, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("facesign"), Key: aws.String(fmt.Sprintf("prod/log/%020d.rec", 0))}); err != nil {
			t.Fatalf("record not in the bucket: %v", err)
		}
	})
}

// testParentCommand runs the parent with the store flags given (nil: a
// directory store).
func testParentCommand(t *testing.T, storeArgs []string) {
	dir, err := os.MkdirTemp("", "fs-parent-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); b, _ := io.ReadAll(c); c.Write(bytes.ToUpper(b)) }()
		}
	}()
	blob := []byte("kms-ciphertext-of-the-counter-credentials")
	if err := os.WriteFile(filepath.Join(dir, "counter.bin"), blob, 0o600); err != nil {
		t.Fatal(err)
	}
	host, kmsSock := filepath.Join(dir, "host.sock"), filepath.Join(dir, "kms.sock")
	cmd := root()
	var stderr syncbuf.Buffer
	cmd.SetErr(&stderr)
	cmd.SetOut(io.Discard)
	if storeArgs == nil {
		storeArgs = []string{"--store", "dir:" + filepath.Join(dir, "store")}
	}
	cmd.SetArgs(append([]string{"parent", "--addr", "127.0.0.1:0", "--enclave", "unix:" + filepath.Join(dir, "enclave.sock"),
		"--host-listen", "unix:" + host,
		"--egress-kms", "unix:" + kmsSock + "=" + up.Addr().String(), "--counter-credentials", filepath.Join(dir, "counter.bin")}, storeArgs...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("parent: %v", err)
		}
	}()
	var addr string
	for i := 0; addr == "" && i < 200; i++ {
		for _, line := range strings.Split(stderr.String(), "\n") {
			var l struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "parent listening" {
				addr = l.Addr
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("parent did not start:\n%s", stderr.String())
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", host)
	}}}
	do := func(c *http.Client, method, url string, body []byte) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		method, path string
		body         []byte
		code         int
		want         string
	}{
		{http.MethodPut, wire.RouteLog + "/0", []byte("sealed record 0"), http.StatusNoContent, ""},
		{http.MethodPut, "/internal/v1/snapshot/1", bytes.Repeat([]byte{7}, 64), http.StatusNoContent, ""},
		{http.MethodGet, "/internal/v1/snapshot/latest", nil, http.StatusOK, ""},
		{http.MethodGet, wire.RouteCounterCredentials, nil, http.StatusOK, string(blob)},
		{http.MethodGet, wire.RouteAWSCredentials, nil, http.StatusNotFound, ""}, // --aws-credentials none
	} {
		if code, body := do(hc, tc.method, "http://parent"+tc.path, tc.body); code != tc.code || !strings.Contains(body, tc.want) {
			t.Fatalf("%s %s: %d %q", tc.method, tc.path, code, body)
		}
	}
	c, err := net.Dial("unix", kmsSock)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("tls bytes"))
	c.(*net.UnixConn).CloseWrite()
	if b, _ := io.ReadAll(c); string(b) != "TLS BYTES" {
		t.Fatalf("relay: %q", b)
	}
	c.Close()
	if storeArgs[1] == "dir:"+filepath.Join(dir, "store") {
		if _, err := os.Stat(filepath.Join(dir, "store", "log", fmt.Sprintf("%020d.rec", 0))); err != nil {
			t.Fatalf("record not in the store: %v", err)
		}
	}
	var metrics string
	for i := 0; i < 100; i++ { // the relay counts bytes when the connection ends
		_, metrics = do(http.DefaultClient, http.MethodGet, "http://"+addr+"/metrics", nil)
		if strings.Contains(metrics, `facesign_parent_egress_bytes_total{direction="in",upstream="kms"} 9`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		`facesign_parent_log_writes_total{result="ok"} 1`,
		`facesign_parent_snapshot_writes_total{result="ok"} 1`,
		`facesign_parent_snapshot_bytes_total 64`,
		`facesign_parent_snapshot_read_bytes_total 64`,
		`facesign_parent_credentials_requests_total{kind="counter",result="ok"} 1`,
		`facesign_parent_credentials_requests_total{kind="instance",result="none"} 1`,
		`facesign_parent_egress_connections_total{result="relayed",upstream="kms"} 1`,
		`facesign_parent_egress_bytes_total{direction="out",upstream="kms"} 9`,
		`facesign_parent_egress_bytes_total{direction="in",upstream="kms"} 9`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(metrics, string(blob)) {
		t.Error("/metrics exposes the counter credentials")
	}
}
