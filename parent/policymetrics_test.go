package parent

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/facesign/facesign/vectors/calib"
	"github.com/facesign/facesign/wire"
)

// TestPolicyMetrics: /metrics shows the decision rule of the policy the
// enclave attests to — fixed thresholds, or the gallery-size rule's bounds,
// capacity and thresholds at each power of ten up to the capacity — and a
// bad answer changes nothing.
func TestPolicyMetrics(t *testing.T) {
	fe, d := startFakeEnclave(t)
	s, _, _ := newTestServer(t, d, nil)
	metrics := func() string {
		w := do(t, s.Handler(), "GET", "/metrics", nil, nil)
		return w.Body.String()
	}
	attest := func(p wire.Policy) {
		t.Helper()
		b, err := wire.Marshal(wire.AttestationResponse{Document: []byte{0xa0}, Binding: wire.Binding{Policy: p}})
		if err != nil {
			t.Fatal(err)
		}
		fe.set(200, MediaCBOR, b)
		if w := do(t, s.Handler(), "GET", "/v1/attestation?nonce=00", nil, nil); w.Code != http.StatusOK {
			t.Fatalf("attestation: %d", w.Code)
		}
	}
	has := func(text string, lines ...string) {
		t.Helper()
		for _, l := range lines {
			if !regexp.MustCompile(`(?m)^` + l + `$`).MatchString(text) {
				t.Fatalf("no line %q in\n%s", l, text)
			}
		}
	}

	attest(wire.Policy{Engine: "dlibresnet", MatchThreshold: 0.94, NewThreshold: 0.89, Margin: 0.01})
	has(metrics(),
		`facesign_enclave_threshold_rule 0`,
		`facesign_enclave_threshold\{gallery="any",kind="match"\} 0\.94\d*`,
		`facesign_enclave_threshold\{gallery="any",kind="new"\} 0\.89\d*`)

	c, _ := calib.ForEngine("dlibresnet")
	cp := calib.Policy{Epsilon: 1e-3, MaxNewRefused: 0.01, MaxDuplicate: 0.2, TemplateEpsilon: 1e-5}
	capacity := c.Capacity(cp)
	if capacity < 10 {
		t.Fatalf("capacity %d", capacity)
	}
	sum := c.SHA256()
	ruled := wire.Policy{Engine: "dlibresnet", Margin: c.Margin(), Rule: &wire.ThresholdRule{CurveSHA256: sum[:],
		Epsilon: cp.Epsilon, MaxNewRefused: cp.MaxNewRefused, MaxDuplicate: cp.MaxDuplicate, Capacity: int64(capacity),
		TemplateEpsilon: cp.TemplateEpsilon}, MaxTemplates: 4}
	attest(ruled)
	text := metrics()
	th10, err := c.ThresholdsAt(10, cp)
	if err != nil {
		t.Fatal(err)
	}
	lv10, err := c.TemplateLevelsAt(10, cp)
	if err != nil {
		t.Fatal(err)
	}
	has(text,
		`facesign_enclave_threshold_rule 1`,
		`facesign_enclave_capacity `+regexp.QuoteMeta(itoa(capacity)),
		`facesign_enclave_threshold_rule_bound\{bound="epsilon"\} 0\.001`,
		`facesign_enclave_threshold_rule_bound\{bound="max_duplicate"\} 0\.2`,
		`facesign_enclave_threshold\{gallery="1",kind="match"\} 0\.9\d*`,
		`facesign_enclave_threshold\{gallery="10",kind="new"\} `+regexp.QuoteMeta(ftoa(th10.New)),
		`facesign_enclave_threshold_rule_bound\{bound="template_epsilon"\} 1e-05`,
		`facesign_enclave_threshold\{gallery="10",kind="template_match"\} `+regexp.QuoteMeta(ftoa(lv10.Strong)),
		`facesign_enclave_threshold\{gallery="10",kind="template_novel"\} `+regexp.QuoteMeta(ftoa(lv10.Novel)),
		`facesign_enclave_threshold\{gallery="`+itoa(capacity)+`",kind="match"\} 0\.9\d*`)
	if strings.Contains(text, `facesign_enclave_threshold{gallery="any"`) {
		t.Fatal("fixed thresholds left over")
	}

	// Garbage from the enclave changes nothing.
	fe.set(200, MediaCBOR, []byte("not cbor"))
	do(t, s.Handler(), "GET", "/v1/attestation?nonce=00", nil, nil)
	enclaveLines := func(text string) string {
		var out []string
		for _, l := range strings.Split(text, "\n") {
			if strings.HasPrefix(l, "facesign_enclave_") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	if enclaveLines(metrics()) != enclaveLines(text) {
		t.Fatal("a bad attestation answer changed the metrics")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// ftoa formats a float32 gauge value the way the Prometheus text format does.
func ftoa(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }
