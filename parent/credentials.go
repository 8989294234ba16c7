package parent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/facesign/facesign/wire"
)

// CredentialsHostConfig configures a [CredentialsHost].
type CredentialsHostConfig struct {
	// Provider gives the parent instance role's credentials (the SDK's
	// default chain: IMDSv2 on EC2). Nil answers 404 on
	// wire.RouteAWSCredentials.
	Provider aws.CredentialsProvider
	// CounterCredentials is the KMS ciphertext of the rollback counter's
	// credentials (made by a key administrator; docs/state.md). The parent
	// cannot open it. Nil answers 404 on wire.RouteCounterCredentials.
	CounterCredentials []byte
	// Logger receives failures (never credentials); nil discards.
	Logger *slog.Logger
	// Registry receives the metrics; nil makes a private one.
	Registry prometheus.Registerer
	// Timeout bounds one credentials retrieval; 0 means 10 s.
	Timeout time.Duration
}

// CredentialsHost serves the enclave's AWS credential routes of the host
// services:
//
//	GET /internal/v1/aws/credentials          → wire.AWSCredentials (JSON)
//	GET /internal/v1/aws/counter-credentials  → the sealed counter credentials
//
// The instance credentials are the parent's own: the enclave only signs KMS
// requests with them, and the key policy's PCR conditions decide what KMS
// releases. They must never be served beyond the enclave's host-services
// listener. Mount it beside [Host] with [CredentialsHost.Wrap].
type CredentialsHost struct {
	cfg      CredentialsHostConfig
	log      *slog.Logger
	requests *prometheus.CounterVec
	mux      *http.ServeMux
}

// NewCredentialsHost makes the credential routes' handler.
func NewCredentialsHost(cfg CredentialsHostConfig) (*CredentialsHost, error) {
	if len(cfg.CounterCredentials) > wire.MaxCounterCredentialsBlob {
		return nil, fmt.Errorf("%w: counter credentials blob of %d bytes (max %d)", ErrConfig, len(cfg.CounterCredentials), wire.MaxCounterCredentialsBlob)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	h := &CredentialsHost{cfg: cfg, log: cfg.Logger}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	h.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "facesign", Subsystem: "parent", Name: "credentials_requests_total",
		Help: "Enclave credential requests by kind (instance, counter) and result (ok, none, error).",
	}, []string{"kind", "result"})
	if err := reg.Register(h.requests); err != nil {
		return nil, err
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET "+wire.RouteAWSCredentials, h.instance)
	h.mux.HandleFunc("GET "+wire.RouteCounterCredentials, h.counter)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, CodeNoRoute, "no such host service")
	})
	return h, nil
}

// Handler serves the credential routes only.
func (h *CredentialsHost) Handler() http.Handler { return h.mux }

// Wrap serves the credential routes and passes every other request to next.
func (h *CredentialsHost) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/internal/v1/aws/") {
			h.mux.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *CredentialsHost) instance(w http.ResponseWriter, r *http.Request) {
	if h.cfg.Provider == nil {
		h.requests.WithLabelValues("instance", "none").Inc()
		writeError(w, http.StatusNotFound, CodeNoRoute, "this parent serves no AWS credentials")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.Timeout)
	defer cancel()
	c, err := h.cfg.Provider.Retrieve(ctx)
	if err != nil {
		h.requests.WithLabelValues("instance", "error").Inc()
		h.log.Error("instance credentials unavailable", slog.String("error", err.Error()))
		writeError(w, http.StatusServiceUnavailable, CodeUnavailable, "instance credentials unavailable")
		return
	}
	out := wire.AWSCredentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	if c.CanExpire {
		out.Expiration = c.Expires.UTC().Format(time.RFC3339)
	}
	h.requests.WithLabelValues("instance", "ok").Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

func (h *CredentialsHost) counter(w http.ResponseWriter, _ *http.Request) {
	if len(h.cfg.CounterCredentials) == 0 {
		h.requests.WithLabelValues("counter", "none").Inc()
		writeError(w, http.StatusNotFound, CodeNoRoute, "this parent holds no sealed counter credentials")
		return
	}
	h.requests.WithLabelValues("counter", "ok").Inc()
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(h.cfg.CounterCredentials)))
	_, _ = w.Write(h.cfg.CounterCredentials)
}
