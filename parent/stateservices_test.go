package parent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/facesign/facesign/parent"
	"github.com/facesign/facesign/wire"
)

// metricValue returns the value of the sample of name whose labels include
// want, or -1 when there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			}
		}
	}
	return -1
}

type failingProvider struct{}

func (failingProvider) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{}, errors.New("imds: no role attached (secret-looking detail AKIAHIDDEN)")
}

// TestStateServicesMetrics drives every sealed-state service of the parent
// once and reads the Prometheus registry /metrics serves: snapshot puts,
// gets and bytes, credential requests, egress connections, bytes and dial
// errors — and no credential or sealed byte in the exposition.
func TestStateServicesMetrics(t *testing.T) {
	dir, err := os.MkdirTemp("", "fs-ss-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	snaps, err := parent.OpenDirSnapshots(filepath.Join(dir, "snapshots"), parent.SnapshotOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	blob := []byte("sealed-counter-credentials-ciphertext")
	reg := prometheus.NewRegistry()
	ss, err := parent.StartStateServices(context.Background(), parent.StateServicesConfig{
		Snapshots: snaps,
		Credentials: parent.CredentialsHostConfig{
			Provider:           credentials.NewStaticCredentialsProvider("AKIAINSTANCEKEY", "instance-secret", "instance-token"),
			CounterCredentials: blob,
		},
		Egress: []parent.EgressSpec{
			{Name: "kms", Listen: parent.Endpoint{Network: "unix", Address: filepath.Join(dir, "kms.sock")}, Upstream: echoUpstream(t)},
			{Name: "dynamodb", Listen: parent.Endpoint{Network: "unix", Address: filepath.Join(dir, "ddb.sock")}, Upstream: deadAddr},
		},
		Registry: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ss.Wrap(http.NotFoundHandler()))
	defer srv.Close()

	do := func(method, path string, body io.Reader) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	snap := bytes.Repeat([]byte{0xAB}, 100)
	if code, _ := do(http.MethodPut, parent.RouteSnapshot+"/7", bytes.NewReader(snap)); code != http.StatusNoContent {
		t.Fatalf("put snapshot: %d", code)
	}
	if code, b := do(http.MethodGet, parent.RouteSnapshot+"/latest", nil); code != http.StatusOK || !bytes.Equal(b, snap) {
		t.Fatalf("get snapshot: %d, %d bytes", code, len(b))
	}
	if code, _ := do(http.MethodPut, parent.RouteSnapshot+"/x", strings.NewReader("x")); code != http.StatusBadRequest {
		t.Fatalf("bad snapshot put: %d", code)
	}
	code, b := do(http.MethodGet, wire.RouteAWSCredentials, nil)
	var c wire.AWSCredentials
	if code != http.StatusOK || json.Unmarshal(b, &c) != nil || c.AccessKeyID != "AKIAINSTANCEKEY" || c.SessionToken != "instance-token" {
		t.Fatalf("credentials: %d %s", code, b)
	}
	if code, b := do(http.MethodGet, wire.RouteCounterCredentials, nil); code != http.StatusOK || !bytes.Equal(b, blob) {
		t.Fatalf("counter credentials: %d %q", code, b)
	}
	if code, _ := do(http.MethodGet, "/internal/v1/log?from=0", nil); code != http.StatusNotFound {
		t.Fatalf("other routes go to next: %d", code)
	}
	// One relayed connection, one that cannot reach its upstream.
	conn := dialUnix(t, filepath.Join(dir, "kms.sock"))
	conn.Write([]byte("hello"))
	conn.CloseWrite()
	if got, _ := io.ReadAll(conn); string(got) != "HELLO" {
		t.Fatalf("relay answered %q", got)
	}
	conn2 := dialUnix(t, filepath.Join(dir, "ddb.sock"))
	io.ReadAll(conn2)
	if err := ss.Close(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"facesign_parent_snapshot_writes_total", map[string]string{"result": "ok"}, 1},
		{"facesign_parent_snapshot_writes_total", map[string]string{"result": "bad_request"}, 1},
		{"facesign_parent_snapshot_bytes_total", nil, 100},
		{"facesign_parent_snapshot_reads_total", map[string]string{"result": "ok"}, 1},
		{"facesign_parent_snapshot_read_bytes_total", nil, 100},
		{"facesign_parent_credentials_requests_total", map[string]string{"kind": "instance", "result": "ok"}, 1},
		{"facesign_parent_credentials_requests_total", map[string]string{"kind": "counter", "result": "ok"}, 1},
		{"facesign_parent_egress_connections_total", map[string]string{"upstream": "kms", "result": "relayed"}, 1},
		{"facesign_parent_egress_bytes_total", map[string]string{"upstream": "kms", "direction": "out"}, 5},
		{"facesign_parent_egress_bytes_total", map[string]string{"upstream": "kms", "direction": "in"}, 5},
		{"facesign_parent_egress_connections_total", map[string]string{"upstream": "dynamodb", "result": "dial_error"}, 1},
		{"facesign_parent_egress_connections_active", map[string]string{"upstream": "kms"}, 0},
	} {
		t.Run(fmt.Sprint(tc.name, tc.labels), func(t *testing.T) {
			if got := metricValue(t, reg, tc.name, tc.labels); got != tc.want {
				t.Fatalf("%s%v = %v, want %v", tc.name, tc.labels, got, tc.want)
			}
		})
	}
	// The exposition carries no credential and no sealed byte.
	mfs, _ := reg.Gather()
	var text bytes.Buffer
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []string{"AKIAINSTANCEKEY", "instance-secret", "instance-token", string(blob), "hello", "HELLO"} {
		if strings.Contains(text.String(), s) {
			t.Errorf("metrics expose %q", s)
		}
	}
}

func TestCredentialsHost(t *testing.T) {
	var logs bytes.Buffer
	for _, tc := range []struct {
		name  string
		cfg   parent.CredentialsHostConfig
		route string
		code  int
	}{
		{"no provider", parent.CredentialsHostConfig{}, wire.RouteAWSCredentials, http.StatusNotFound},
		{"no counter blob", parent.CredentialsHostConfig{}, wire.RouteCounterCredentials, http.StatusNotFound},
		{"provider fails", parent.CredentialsHostConfig{Provider: failingProvider{}, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, wire.RouteAWSCredentials, http.StatusServiceUnavailable},
		{"unknown route", parent.CredentialsHostConfig{}, "/internal/v1/aws/other", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := parent.NewCredentialsHost(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.route, nil))
			if rec.Code != tc.code {
				t.Fatalf("%s: %d, want %d", tc.route, rec.Code, tc.code)
			}
			if strings.Contains(rec.Body.String(), "AKIAHIDDEN") {
				t.Fatal("the provider's error reached the enclave")
			}
		})
	}
	if _, err := parent.NewCredentialsHost(parent.CredentialsHostConfig{CounterCredentials: make([]byte, wire.MaxCounterCredentialsBlob+1)}); !errors.Is(err, parent.ErrConfig) {
		t.Fatalf("oversized blob: %v", err)
	}
	if _, err := parent.StartStateServices(context.Background(), parent.StateServicesConfig{Egress: []parent.EgressSpec{
		{Name: "kms", Listen: parent.Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, Upstream: "a:443"},
		{Name: "kms", Listen: parent.Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, Upstream: "b:443"},
	}}); !errors.Is(err, parent.ErrConfig) {
		t.Fatalf("two relays of one name: %v", err)
	}
}
