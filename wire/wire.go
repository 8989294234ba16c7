package wire

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"
)

var (
	encOnce sync.Once
	encMode cbor.EncMode
	decMode cbor.DecMode
)

func modes() (cbor.EncMode, cbor.DecMode) {
	encOnce.Do(func() {
		var err error
		encMode, err = cbor.CoreDetEncOptions().EncMode()
		if err != nil {
			panic(err)
		}
		decMode, err = cbor.DecOptions{
			DupMapKey:         cbor.DupMapKeyEnforcedAPF,
			MaxNestedLevels:   16,
			MaxArrayElements:  4096,
			MaxMapPairs:       256,
			IndefLength:       cbor.IndefLengthForbidden,
			TagsMd:            cbor.TagsForbidden,
			ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		}.DecMode()
		if err != nil {
			panic(err)
		}
	})
	return encMode, decMode
}

// Marshal encodes v with core deterministic CBOR.
func Marshal(v any) ([]byte, error) {
	em, _ := modes()
	return em.Marshal(v)
}

// Unmarshal decodes strict CBOR (no duplicate keys, no unknown fields, no
// indefinite lengths, no tags) into v.
func Unmarshal(data []byte, v any) error {
	_, dm := modes()
	return dm.Unmarshal(data, v)
}

// Policy is what the enclave promises to do with a face. Clients pin its hash.
//
// The decision thresholds come one of two ways. With Rule nil they are the
// fixed MatchThreshold and NewThreshold. With a [ThresholdRule] they follow
// the number of vectors enrolled (docs/protocol.md §6.1): MatchThreshold and
// NewThreshold are then zero, and the rule names the engine's calibration
// curve and the bounds the thresholds are derived under. Margin applies
// either way.
type Policy struct {
	Engine         string   `cbor:"engine"`
	ModelSHA256    []byte   `cbor:"model_sha256"`
	MatchThreshold float32  `cbor:"match_threshold"` // fixed: best score at or above: same person (0 under a rule)
	NewThreshold   float32  `cbor:"new_threshold"`   // fixed: every score below: a new person (0 under a rule)
	Margin         float32  `cbor:"margin"`          // best other identity must be this far below the match threshold
	Actions        []string `cbor:"actions"`         // liveness actions a challenge may ask for
	ChallengeTTLMS int64    `cbor:"challenge_ttl_ms"`
	MinFrames      int      `cbor:"min_frames"`
	MaxFrames      int      `cbor:"max_frames"`
	MaxFrameBytes  int      `cbor:"max_frame_bytes"`
	MaxPixels      int      `cbor:"max_pixels"`
	// Templates per identity (docs/templates.md). MaxTemplates is K, the
	// most vectors one identity keeps: its enrolment vector plus later
	// captures that matched it strongly (0 or 1: the enrolment vector
	// only). A capture becomes a template only when its best score reaches
	// TemplateMatch (and the match threshold) and it scores below
	// TemplateNovel against every vector the identity keeps. Absent (zero)
	// fields are left out of the encoding.
	MaxTemplates  int     `cbor:"max_templates,omitempty"`
	TemplateMatch float32 `cbor:"template_match,omitempty"`
	TemplateNovel float32 `cbor:"template_novel,omitempty"`
	// Rule, when set, derives the thresholds from the gallery size (absent
	// from the encoding when nil).
	Rule *ThresholdRule `cbor:"threshold_rule,omitempty"`
	// Migration, when set, names the engine the enclave is migrating the
	// gallery to and its thresholds (docs/fleet.md): every capture
	// runs through both engines, and a face is new only when it is new
	// under both galleries. Absent from the encoding when nil, so the
	// hashes of policies without a migration are unchanged.
	Migration *MigrationPolicy `cbor:"migration,omitempty"`
}

// MigrationPolicy is the new engine of an engine migration: its identity
// and model, and the decision thresholds it decides with — fixed, or, when
// Rule is set, derived from the size of the new engine's gallery as
// [Policy.Rule] derives the current engine's (the fixed thresholds are then
// zero, and Margin is the curve's).
type MigrationPolicy struct {
	Engine         string  `cbor:"engine"`
	ModelSHA256    []byte  `cbor:"model_sha256"`
	MatchThreshold float32 `cbor:"match_threshold"`
	NewThreshold   float32 `cbor:"new_threshold"`
	Margin         float32 `cbor:"margin"`
	// Rule is absent from the encoding when nil, so migrations with fixed
	// thresholds hash as before.
	Rule *ThresholdRule `cbor:"threshold_rule,omitempty"`
}

// AsPolicy is the decision part of m as a [Policy] of the new engine: its
// engine, model, thresholds and rule (everything else zero).
func (m MigrationPolicy) AsPolicy() Policy {
	return Policy{Engine: m.Engine, ModelSHA256: m.ModelSHA256, MatchThreshold: m.MatchThreshold,
		NewThreshold: m.NewThreshold, Margin: m.Margin, Rule: m.Rule}
}

// ThresholdRule derives the decision thresholds from the number N of
// vectors a search compares against, at each decision, from the engine's
// calibration curve (package vectors/calib defines the rule): the match
// threshold is the lowest t with N × FMR(t) ≤ Epsilon; the new threshold
// the lowest t at which at most MaxNewRefused of new people are refused,
// 1 − (1 − FMR(t))^N ≤ MaxNewRefused; and both exist only while FNMR(new) ≤
// MaxDuplicate and new < match − margin. Capacity is the largest N at which
// they do; above it the enclave enrols nobody (docs/protocol.md §6.1 says
// what it answers). TemplateEpsilon, when the policy keeps templates, sets
// the template levels the same way: strong = the lowest t with N × FMR(t) ≤
// TemplateEpsilon (≤ Epsilon, so at or above the match threshold), novel =
// strong + (1 − strong)/2; the policy's TemplateMatch and TemplateNovel are
// then zero. Absent (zero) from the encoding when the policy keeps none.
type ThresholdRule struct {
	CurveSHA256   []byte  `cbor:"curve_sha256"` // SHA-256 of the curve's canonical JSON
	Epsilon       float64 `cbor:"epsilon"`
	MaxNewRefused float64 `cbor:"max_new_refused"`
	MaxDuplicate  float64 `cbor:"max_duplicate"`
	Capacity      int64   `cbor:"capacity"`
	// TemplateEpsilon bounds the chance per attempt that a stranger's
	// capture becomes an enrolled person's template (docs/templates.md).
	TemplateEpsilon float64 `cbor:"template_epsilon,omitempty"`
}

// Hash is SHA-256 of the policy's canonical encoding.
func (p Policy) Hash() ([32]byte, error) { return hashOf(p) }

// Binding is bound into every attestation document: its SHA-256 is the
// document's user_data. It ties the HPKE key clients seal to, the policy the
// enclave enforces and the key that signs receipts to one measured enclave.
type Binding struct {
	KeyConfig  []byte `cbor:"key_config"` // RFC 9458 key configuration
	Policy     Policy `cbor:"policy"`
	ReceiptKey []byte `cbor:"receipt_key"` // Ed25519 public key, 32 bytes
}

// Hash is SHA-256 of the binding's canonical encoding.
func (b Binding) Hash() ([32]byte, error) { return hashOf(b) }

func hashOf(v any) ([32]byte, error) {
	b, err := Marshal(v)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}

// Status is the outcome of a request.
type Status string

const (
	StatusNew      Status = "new"
	StatusExisting Status = "existing"
	StatusNotFound Status = "not_found"
	StatusDeleted  Status = "deleted"
)

// Receipt is the enclave's signed statement about one answered request, for
// issuers. It names the unique ID, never the entropy.
type Receipt struct {
	UniqueID   string `cbor:"unique_id"`
	Status     Status `cbor:"status"`
	IssuedAtMS int64  `cbor:"issued_at_ms"`
	PolicyHash []byte `cbor:"policy_hash"`
}

// IssuedAt returns the receipt time.
func (r Receipt) IssuedAt() time.Time { return time.UnixMilli(r.IssuedAtMS).UTC() }

// SignedReceipt is a Receipt's canonical encoding and its Ed25519 signature
// by the binding's receipt key, over "facesign-receipt-v1" ‖ Body.
type SignedReceipt struct {
	Body      []byte `cbor:"body"`
	Signature []byte `cbor:"signature"`
}

const receiptContext = "facesign-receipt-v1"

// SignReceipt signs r with the enclave's receipt key.
func SignReceipt(key ed25519.PrivateKey, r Receipt) (SignedReceipt, error) {
	body, err := Marshal(r)
	if err != nil {
		return SignedReceipt{}, err
	}
	sig := ed25519.Sign(key, append([]byte(receiptContext), body...))
	return SignedReceipt{Body: body, Signature: sig}, nil
}

// ErrBadReceipt reports a receipt whose signature, encoding or policy does not check.
var ErrBadReceipt = errors.New("wire: receipt does not verify")

// Open checks the receipt against binding b (its key and its policy hash) and
// returns its content.
func (s SignedReceipt) Open(b Binding) (Receipt, error) {
	if len(b.ReceiptKey) != ed25519.PublicKeySize {
		return Receipt{}, fmt.Errorf("%w: binding has no receipt key", ErrBadReceipt)
	}
	if !ed25519.Verify(ed25519.PublicKey(b.ReceiptKey), append([]byte(receiptContext), s.Body...), s.Signature) {
		return Receipt{}, fmt.Errorf("%w: bad signature", ErrBadReceipt)
	}
	var r Receipt
	if err := Unmarshal(s.Body, &r); err != nil {
		return Receipt{}, fmt.Errorf("%w: %v", ErrBadReceipt, err)
	}
	ph, err := b.Policy.Hash()
	if err != nil {
		return Receipt{}, err
	}
	if string(ph[:]) != string(r.PolicyHash) {
		return Receipt{}, fmt.Errorf("%w: receipt is for another policy", ErrBadReceipt)
	}
	return r, nil
}
