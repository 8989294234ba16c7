package parent

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

const appOrigin = "https://app.idos.example"

func TestCORS(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, func(c *Config) { c.AllowedOrigins = []string{appOrigin, "http://localhost:3000"} })
	h := s.Handler()
	hdr := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	preflight := func(origin, method string) map[string]string {
		return hdr("Origin", origin, "Access-Control-Request-Method", method, "Access-Control-Request-Headers", "content-type")
	}

	t.Run("allowed origin reads the answer", func(t *testing.T) {
		w := do(t, h, "POST", "/v1/enroll", []byte("sealed"), hdr("Content-Type", MediaOHTTPReq, "Origin", appOrigin))
		if w.Code != 200 || w.Header().Get("Access-Control-Allow-Origin") != appOrigin || w.Header().Get("Vary") != "Origin" {
			t.Fatalf("%d, ACAO %q, Vary %q", w.Code, w.Header().Get("Access-Control-Allow-Origin"), w.Header().Get("Vary"))
		}
		if got := w.Header().Get("Access-Control-Expose-Headers"); got != "X-Request-ID, Retry-After" {
			t.Errorf("expose headers %q", got)
		}
	})
	t.Run("preflight from an allowed origin", func(t *testing.T) {
		before := len(fe.calls())
		w := do(t, h, "OPTIONS", "/v1/login", nil, preflight(appOrigin, "POST"))
		if w.Code != 204 || w.Header().Get("Access-Control-Allow-Origin") != appOrigin ||
			w.Header().Get("Access-Control-Allow-Methods") != "POST" ||
			w.Header().Get("Access-Control-Allow-Headers") != "Content-Type, X-Request-ID" ||
			w.Header().Get("Access-Control-Max-Age") != corsMaxAge {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
		w = do(t, h, "OPTIONS", "/v1/attestation", nil, preflight("http://localhost:3000", "GET"))
		if w.Code != 204 || w.Header().Get("Access-Control-Allow-Methods") != "GET" {
			t.Fatalf("attestation preflight: %d %v", w.Code, w.Header())
		}
		if len(fe.calls()) != before {
			t.Error("a preflight reached the enclave")
		}
	})
	t.Run("other origins get nothing", func(t *testing.T) {
		before := len(fe.calls())
		for _, o := range []string{"https://evil.example", "https://app.idos.example:8443", "http://app.idos.example", "null", "HTTPS://APP.IDOS.EXAMPLE"} {
			w := do(t, h, "OPTIONS", "/v1/enroll", nil, preflight(o, "POST"))
			if w.Code != 403 || errorCode(t, w) != CodeOriginNotAllowed || w.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("preflight from %q: %d %v", o, w.Code, w.Header())
			}
			w = do(t, h, "POST", "/v1/enroll", []byte("sealed"), hdr("Content-Type", MediaOHTTPReq, "Origin", o))
			if w.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%q got an allow-origin header", o)
			}
		}
		if got := len(fe.calls()) - before; got != 5 {
			t.Errorf("the enclave saw %d requests, want the 5 simple ones (a browser hides their answers)", got)
		}
	})
	t.Run("no Origin, no CORS", func(t *testing.T) {
		w := do(t, h, "POST", "/v1/challenge", []byte("sealed"), ohttp)
		if w.Header().Get("Access-Control-Allow-Origin") != "" || w.Header().Get("Vary") != "" {
			t.Errorf("headers %v", w.Header())
		}
	})
	t.Run("operational routes are not for browsers", func(t *testing.T) {
		for _, p := range []string{"/metrics", "/healthz", "/openapi.yaml"} {
			w := do(t, h, "GET", p, nil, hdr("Origin", appOrigin))
			if w.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s allows %s", p, appOrigin)
			}
		}
	})
	t.Run("OPTIONS without a preflight is not a method the API has", func(t *testing.T) {
		w := do(t, h, "OPTIONS", "/v1/enroll", nil, hdr("Origin", appOrigin))
		if w.Code != 405 || errorCode(t, w) != CodeNoRoute {
			t.Errorf("%d", w.Code)
		}
	})
}

func TestAllowedOriginsAreChecked(t *testing.T) {
	_, d := startFakeEnclave(t)
	for _, o := range []string{"*", "https://*.idos.example", "app.idos.example", "https://app.idos.example/", "https://app.idos.example/path",
		"ftp://app.idos.example", "https://", "https://user@app.idos.example", "https://app.idos.example?x=1", "https://App.idos.example", ""} {
		_, err := New(Config{Enclave: d, Now: time.Now, Rand: rand.Reader, AllowedOrigins: []string{o}})
		if !errors.Is(err, ErrConfig) {
			t.Errorf("origin %q: %v, want ErrConfig", o, err)
		}
	}
	if _, err := New(Config{Enclave: d, Now: time.Now, Rand: rand.Reader, AllowedOrigins: []string{appOrigin, "http://127.0.0.1:8080"}}); err != nil {
		t.Fatal(err)
	}
}
