package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/facesign/facesign/attest"
	"github.com/facesign/facesign/wire"
	"github.com/google/uuid"
)

// Options configures a [Client]. Now and Rand are required, and so are PCR
// pins unless AnyMeasurement is set.
type Options struct {
	// HTTPClient carries the requests; nil means a client with a 3-minute
	// timeout (enrolment runs a face engine over every frame).
	HTTPClient *http.Client
	// Roots are the attestation roots to trust; nil means the AWS Nitro root
	// alone. Add the simulator's root only when the user explicitly asked
	// for it: it vouches for any simulated enclave.
	Roots []*x509.Certificate
	// PCRs pins enclave measurements (index → value, 48 bytes each). An
	// enclave with other measurements is refused.
	PCRs map[int][]byte
	// AnyMeasurement accepts any enclave image the roots vouch for (no PCR
	// pins). Only sensible with the simulator.
	AnyMeasurement bool
	// PolicyHash, when set, pins SHA-256 of the enclave's policy exactly.
	PolicyHash []byte
	// Engine and ModelSHA256, when set, pin the face engine the policy names.
	Engine      string
	ModelSHA256 []byte
	// MaxEpsilon, when positive, accepts only a policy that derives its
	// thresholds from the gallery size ([wire.ThresholdRule]) with an
	// epsilon of at most MaxEpsilon: by the engine's calibration, a
	// stranger is handed someone's wallet with probability at most that per
	// attempt, whatever the number enrolled. A policy with fixed thresholds
	// promises no such bound and is refused.
	MaxEpsilon float64
	// Now is the clock documents and challenges are checked against.
	Now func() time.Time
	// Rand is the source of attestation nonces and request padding choices.
	Rand io.Reader
	// PadTo rounds every sealed face request up to a multiple of this many
	// bytes so the parent learns only a coarse size; 0 means 64 KiB.
	PadTo int
}

// Client talks to one FaceSign server. It holds no global state; one Client
// is safe for concurrent use.
type Client struct {
	base *url.URL
	opts Options
	http *http.Client

	mu  sync.Mutex
	att *Attestation
}

// Attestation is a verified attestation and the binding it commits to.
type Attestation struct {
	Document   *attest.Document
	Binding    wire.Binding
	KeyConfig  wire.KeyConfig
	PolicyHash [32]byte
	// Raw is the CBOR AttestationResponse as received (for issuers, who
	// check receipts against it).
	Raw []byte
}

// New makes a client for the server at baseURL (e.g. "http://127.0.0.1:8080").
func New(baseURL string, opts Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: server URL %q", ErrOptions, baseURL)
	}
	switch {
	case opts.Now == nil:
		return nil, fmt.Errorf("%w: no clock", ErrOptions)
	case opts.Rand == nil:
		return nil, fmt.Errorf("%w: no randomness source", ErrOptions)
	case len(opts.PCRs) == 0 && !opts.AnyMeasurement:
		return nil, fmt.Errorf("%w: no PCR pins (set AnyMeasurement to accept any enclave image)", ErrOptions)
	case opts.PolicyHash != nil && len(opts.PolicyHash) != sha256.Size:
		return nil, fmt.Errorf("%w: policy hash must be 32 bytes", ErrOptions)
	case opts.ModelSHA256 != nil && len(opts.ModelSHA256) != sha256.Size:
		return nil, fmt.Errorf("%w: model hash must be 32 bytes", ErrOptions)
	case opts.PadTo < 0:
		return nil, fmt.Errorf("%w: negative padding", ErrOptions)
	case !(opts.MaxEpsilon >= 0 && opts.MaxEpsilon < 1):
		return nil, fmt.Errorf("%w: max epsilon %v not in [0, 1)", ErrOptions, opts.MaxEpsilon)
	}
	if opts.PadTo == 0 {
		opts.PadTo = 64 << 10
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 3 * time.Minute}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return &Client{base: u, opts: opts, http: hc}, nil
}

func (c *Client) url(route string) string { return c.base.String() + route }

// Attest fetches a fresh attestation (with a new random nonce) and verifies
// it: the document against the roots at Now, the nonce, the PCR pins and no
// debug mode; user_data against SHA-256 of the binding; the binding's policy
// against the pins. The verified attestation is kept for later requests.
func (c *Client) Attest(ctx context.Context) (*Attestation, error) {
	nonce := make([]byte, 32)
	if _, err := io.ReadFull(c.opts.Rand, nonce); err != nil {
		return nil, fmt.Errorf("client: nonce: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url(wire.RouteAttestation)+"?nonce="+hex.EncodeToString(nonce), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", wire.MediaTypeCBOR)
	body, err := c.do(req, wire.MediaTypeCBOR, 1<<20)
	if err != nil {
		return nil, err
	}
	a, err := c.verifyAttestation(body, nonce)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.att = a
	c.mu.Unlock()
	return a, nil
}

func (c *Client) verifyAttestation(body, nonce []byte) (*Attestation, error) {
	var ar wire.AttestationResponse
	if err := wire.Unmarshal(body, &ar); err != nil {
		return nil, fmt.Errorf("%w: attestation response: %v", ErrBadResponse, err)
	}
	doc, err := attest.Verify(ar.Document, attest.VerifyOptions{
		Roots:       c.opts.Roots,
		CurrentTime: c.opts.Now(),
		Nonce:       nonce,
		PCRs:        c.opts.PCRs,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAttestation, err)
	}
	if err := ar.Binding.CheckUserData(doc.UserData); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBinding, err)
	}
	kc, err := wire.ParseKeyConfig(ar.Binding.KeyConfig)
	if err != nil {
		return nil, fmt.Errorf("%w: key config: %v", ErrBinding, err)
	}
	ph, err := ar.Binding.Policy.Hash()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBinding, err)
	}
	if err := c.opts.checkPolicy(ar.Binding.Policy, ph); err != nil {
		return nil, err
	}
	return &Attestation{Document: doc, Binding: ar.Binding, KeyConfig: kc, PolicyHash: ph, Raw: body}, nil
}

// attestation returns the kept attestation, fetching one if there is none.
func (c *Client) attestation(ctx context.Context) (*Attestation, error) {
	c.mu.Lock()
	a := c.att
	c.mu.Unlock()
	if a != nil {
		return a, nil
	}
	return c.Attest(ctx)
}

// forget drops the kept attestation if it is still a (after the enclave
// said it no longer knows the key).
func (c *Client) forget(a *Attestation) {
	c.mu.Lock()
	if c.att == a {
		c.att = nil
	}
	c.mu.Unlock()
}

// Challenge is a liveness challenge: the actions the next face request's
// frames must perform, in order. It is single use and expires.
type Challenge struct {
	ID        []byte
	Nonce     []byte
	Actions   []string
	ExpiresAt time.Time
	// att is the attestation whose key the challenge was fetched under; the
	// face request answering it is sealed to the same key.
	att *Attestation
}

// Challenge asks the enclave for a fresh challenge. If the enclave restarted
// since the last attestation (unknown_key_id), it re-attests once and retries.
func (c *Client) Challenge(ctx context.Context) (*Challenge, error) {
	return c.challengeRetry(ctx)
}

// Policy is the attested policy the challenge was issued under (frame
// limits, enabled actions).
func (ch *Challenge) Policy() wire.Policy { return ch.att.Binding.Policy }

func (c *Client) challengeRetry(ctx context.Context) (*Challenge, error) {
	for attempt := 0; ; attempt++ {
		a, err := c.attestation(ctx)
		if err != nil {
			return nil, err
		}
		ch, err := c.challenge(ctx, a)
		if attempt == 0 && errors.Is(err, ErrUnknownKeyID) {
			c.forget(a)
			continue
		}
		return ch, err
	}
}

func (c *Client) challenge(ctx context.Context, a *Attestation) (*Challenge, error) {
	pt, err := wire.MarshalPadded(wire.ChallengeRequest{}, 64)
	if err != nil {
		return nil, err
	}
	out, err := c.sealed(ctx, a, wire.RouteChallenge, pt)
	if err != nil {
		return nil, err
	}
	var cr wire.ChallengeResponse
	if err := wire.UnmarshalPadded(out, &cr); err != nil {
		return nil, fmt.Errorf("%w: challenge: %v", ErrBadResponse, err)
	}
	if cr.Reason != "" {
		return nil, &RejectedError{Code: cr.Reason, Message: cr.Message, Sealed: true}
	}
	if len(cr.ID) != 16 || len(cr.Nonce) != 32 || len(cr.Actions) == 0 || cr.ExpiresAtMS <= 0 {
		return nil, fmt.Errorf("%w: incomplete challenge", ErrBadResponse)
	}
	for _, act := range cr.Actions {
		if !allowed(a.Binding.Policy.Actions, act) {
			return nil, fmt.Errorf("%w: challenge asks for %q, which the policy does not enable", ErrBadResponse, act)
		}
	}
	return &Challenge{ID: cr.ID, Nonce: cr.Nonce, Actions: cr.Actions, ExpiresAt: time.UnixMilli(cr.ExpiresAtMS).UTC(), att: a}, nil
}

func allowed(set []string, s string) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

// Result is the enclave's verified answer to a face request. The entropy is
// the secret behind the person's wallet keys: handle it like a private key.
type Result struct {
	Status   wire.Status // new, existing, not_found or deleted
	UniqueID string      // empty for not_found
	Entropy  []byte      // 32 bytes for new and existing, else nil
	// Receipt is the verified content of SignedReceipt.
	Receipt       wire.Receipt
	SignedReceipt wire.SignedReceipt
	// Attestation is the verified attestation the request was sealed under;
	// issuers check SignedReceipt against its binding.
	Attestation *Attestation
}

// Enroll enrols the face in frames (JPEG or PNG, capture order) answering
// ch, or finds it already enrolled: Status new or existing.
func (c *Client) Enroll(ctx context.Context, ch *Challenge, frames [][]byte, segments ...wire.Segment) (*Result, error) {
	return c.face(ctx, wire.RouteEnroll, ch, frames, segments)
}

// Login finds the enrolled face in frames: Status existing or not_found. It
// never enrols.
func (c *Client) Login(ctx context.Context, ch *Challenge, frames [][]byte, segments ...wire.Segment) (*Result, error) {
	return c.face(ctx, wire.RouteLogin, ch, frames, segments)
}

// Delete forgets the enrolled face in frames and its entropy: Status deleted
// or not_found.
func (c *Client) Delete(ctx context.Context, ch *Challenge, frames [][]byte, segments ...wire.Segment) (*Result, error) {
	return c.face(ctx, wire.RouteDelete, ch, frames, segments)
}

// statuses a route may answer with (besides rejected).
var routeStatuses = map[string][]wire.Status{
	wire.RouteEnroll: {wire.StatusNew, wire.StatusExisting},
	wire.RouteLogin:  {wire.StatusExisting, wire.StatusNotFound},
	wire.RouteDelete: {wire.StatusDeleted, wire.StatusNotFound},
}

func (c *Client) face(ctx context.Context, route string, ch *Challenge, frames [][]byte, segments []wire.Segment) (*Result, error) {
	if ch == nil || ch.att == nil {
		return nil, fmt.Errorf("%w: no challenge (call Challenge first)", ErrOptions)
	}
	plain, err := wire.Marshal(wire.FaceRequest{ChallengeID: ch.ID, ChallengeNonce: ch.Nonce, Frames: frames, Segments: segments})
	if err != nil {
		return nil, fmt.Errorf("client: encode request: %w", err)
	}
	// Pad to a multiple of PadTo so the parent sees only a coarse size.
	padded := make([]byte, (len(plain)+c.opts.PadTo-1)/c.opts.PadTo*c.opts.PadTo)
	copy(padded, plain)
	out, err := c.sealed(ctx, ch.att, route, padded)
	if err != nil {
		if errors.Is(err, ErrUnknownKeyID) {
			c.forget(ch.att)
		}
		return nil, err
	}
	var resp wire.Response
	if err := wire.UnmarshalPadded(out, &resp); err != nil {
		return nil, fmt.Errorf("%w: response: %v", ErrBadResponse, err)
	}
	return checkResponse(route, ch.att, resp)
}

// checkResponse validates a decoded answer against the protocol and its
// receipt against the attested binding.
func checkResponse(route string, a *Attestation, resp wire.Response) (*Result, error) {
	if resp.Receipt == nil {
		return nil, fmt.Errorf("%w: no receipt", ErrReceipt)
	}
	rc, err := resp.Receipt.Open(a.Binding)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrReceipt, err)
	}
	if rc.Status != resp.Status || rc.UniqueID != resp.UniqueID {
		return nil, fmt.Errorf("%w: receipt says %s %q, answer %s %q", ErrReceipt, rc.Status, rc.UniqueID, resp.Status, resp.UniqueID)
	}
	if resp.Status == wire.StatusRejected {
		if resp.Reason == "" {
			return nil, fmt.Errorf("%w: rejection without a reason", ErrBadResponse)
		}
		return nil, &RejectedError{Code: resp.Reason, Message: resp.Message, Sealed: true}
	}
	ok := false
	for _, s := range routeStatuses[route] {
		ok = ok || s == resp.Status
	}
	if !ok {
		return nil, fmt.Errorf("%w: status %q on %s", ErrBadResponse, resp.Status, route)
	}
	switch resp.Status {
	case wire.StatusNew, wire.StatusExisting:
		if len(resp.Entropy) != 32 {
			return nil, fmt.Errorf("%w: %s without 32 bytes of entropy", ErrBadResponse, resp.Status)
		}
		fallthrough
	case wire.StatusDeleted:
		if _, err := uuid.Parse(resp.UniqueID); err != nil {
			return nil, fmt.Errorf("%w: unique id is not a UUID", ErrBadResponse)
		}
	case wire.StatusNotFound:
		if resp.UniqueID != "" || resp.Entropy != nil {
			return nil, fmt.Errorf("%w: not_found with an identity", ErrBadResponse)
		}
	}
	if resp.Status == wire.StatusDeleted && resp.Entropy != nil {
		return nil, fmt.Errorf("%w: deleted with entropy", ErrBadResponse)
	}
	return &Result{Status: resp.Status, UniqueID: resp.UniqueID, Entropy: resp.Entropy, Receipt: rc, SignedReceipt: *resp.Receipt, Attestation: a}, nil
}

// sealed seals plaintext for route to a's key, posts it and opens the answer.
func (c *Client) sealed(ctx context.Context, a *Attestation, route string, plaintext []byte) ([]byte, error) {
	msg, opener, err := wire.SealRequest(a.KeyConfig, route, plaintext)
	if err != nil {
		return nil, fmt.Errorf("client: seal: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(route), bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", wire.MediaTypeRequest)
	req.Header.Set("Accept", wire.MediaTypeResponse)
	body, err := c.do(req, wire.MediaTypeResponse, 1<<20)
	if err != nil {
		return nil, err
	}
	out, err := opener.Open(body)
	if err != nil {
		return nil, fmt.Errorf("%w: response does not open: %v", ErrBadResponse, err)
	}
	return out, nil
}

// do sends req and returns a 200 body of media type want; JSON errors become
// [*RejectedError].
func (c *Client) do(req *http.Request, want string, limit int64) ([]byte, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", req.Method, req.URL.Path, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: answer over %d bytes", ErrServer, limit)
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if resp.StatusCode == http.StatusOK && mt == want {
		return body, nil
	}
	if mt == "application/json" {
		var eb wire.ErrorResponse
		if err := json.Unmarshal(body, &eb); err == nil && eb.Error.Code != "" {
			return nil, &RejectedError{Code: eb.Error.Code, Message: eb.Error.Message, HTTPStatus: resp.StatusCode}
		}
	}
	return nil, fmt.Errorf("%w: %s %s answered %d %q", ErrServer, req.Method, req.URL.Path, resp.StatusCode, mt)
}

// FetchSimulatorRoot downloads the root certificate a simulator parent
// serves at /v1/simulator/root.pem. Trusting it means trusting ANY simulated
// enclave: call it only when the user explicitly opted in, and say so.
func FetchSimulatorRoot(ctx context.Context, hc *http.Client, baseURL string) (*x509.Certificate, error) {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/v1/simulator/root.pem", nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("client: simulator root: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("client: simulator root: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: no simulator root (status %d): is this a simulator?", ErrServer, resp.StatusCode)
	}
	return ParseRootPEM(body)
}

// ParseRootPEM reads one PEM certificate.
func ParseRootPEM(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: not a PEM certificate", ErrOptions)
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrOptions, err)
	}
	return cert, nil
}

// checkPolicy applies the policy pins of o to p, whose hash is ph.
func (o Options) checkPolicy(p wire.Policy, ph [32]byte) error {
	if o.PolicyHash != nil && !bytes.Equal(o.PolicyHash, ph[:]) {
		return fmt.Errorf("%w: policy hash %x, pinned %x", ErrPolicy, ph, o.PolicyHash)
	}
	if o.Engine != "" && p.Engine != o.Engine {
		return fmt.Errorf("%w: engine %q, pinned %q", ErrPolicy, p.Engine, o.Engine)
	}
	if o.ModelSHA256 != nil && !bytes.Equal(p.ModelSHA256, o.ModelSHA256) {
		return fmt.Errorf("%w: model hash %x, pinned %x", ErrPolicy, p.ModelSHA256, o.ModelSHA256)
	}
	if o.MaxEpsilon > 0 {
		switch {
		case p.Rule == nil:
			return fmt.Errorf("%w: fixed thresholds bound no false-match rate, pinned epsilon ≤ %g", ErrPolicy, o.MaxEpsilon)
		case !(p.Rule.Epsilon > 0 && p.Rule.Epsilon <= o.MaxEpsilon):
			return fmt.Errorf("%w: epsilon %g, pinned ≤ %g", ErrPolicy, p.Rule.Epsilon, o.MaxEpsilon)
		}
	}
	return nil
}
