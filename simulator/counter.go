package simulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Counters is a CPU stand-in for the rollback counter a Nitro deployment
// keeps outside the parent's control: a DynamoDB table updated only with
// conditional writes. It speaks the subset of the DynamoDB JSON protocol
// (DynamoDB_20120810, awsJson1_0) the enclave's counter client sends —
// GetItem with ConsistentRead; UpdateItem "SET n = :new" conditioned on
// "attribute_not_exists(n)" or "n = :old"; and UpdateItem "SET n = :new,
// head = :head" (the counter that binds the log's chain hash, which
// several enclaves sharing one log move) conditioned on
// "attribute_not_exists(n)", "n = :old AND head = :oldhead" or "n = :old
// AND NOT begins_with(head, :oldprefix)" — so that client runs unchanged.
// Each condition is checked and the item written under one lock, as
// DynamoDB applies a conditional update atomically.
//
// What it can show: the enclave refuses a log older than the counter, two
// writers collide, and (with [Counters.RequireCredentials]) only the sealed
// counter principal's signed requests move it. What it cannot show:
// independence from the operator.
// In the simulator the counter, the parent and the storage run on one
// machine under one user, who can reset all three together; on Nitro the
// counter's write credentials are sealed to the enclave (docs/state.md).
type Counters struct {
	mu        sync.Mutex
	dir       string
	vals      map[string]uint64 // table/key → value
	heads     map[string]string // table/key → the head attribute, if set
	principal *principal        // the only signer allowed; nil: any SigV4 request
}

// principal is the IAM identity the simulated table is granted to.
type principal struct{ id, secret string }

var _ http.Handler = (*Counters)(nil)

// counterItem is one item as counters-v2.json stores it.
type counterItem struct {
	N    uint64 `json:"n"`
	Head string `json:"head,omitempty"`
}

// NewCounters returns a counter service persisting to dir
// (counters-v2.json, fsynced before each answer; a counters.json written
// before heads existed is read once and carried over), or in memory when
// dir is empty.
func NewCounters(dir string) (*Counters, error) {
	c := &Counters{dir: dir, vals: map[string]uint64{}, heads: map[string]string{}}
	if dir == "" {
		return c, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, "counters-v2.json"))
	if err == nil {
		var items map[string]counterItem
		if err := json.Unmarshal(b, &items); err != nil {
			return nil, fmt.Errorf("simulator: counters-v2.json: %w", err)
		}
		for k, it := range items {
			c.vals[k] = it.N
			if it.Head != "" {
				c.heads[k] = it.Head
			}
		}
		return c, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("simulator: counters: %w", err)
	}
	b, err = os.ReadFile(filepath.Join(dir, "counters.json"))
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("simulator: counters: %w", err)
	}
	if err := json.Unmarshal(b, &c.vals); err != nil {
		return nil, fmt.Errorf("simulator: counters.json: %w", err)
	}
	return c, nil
}

// RequireCredentials makes the service accept only requests signed (AWS
// Signature Version 4) with this access key, the way an IAM policy that
// grants the table to the counter's own principal alone does: any other
// signer, a wrong signature or a request altered after signing gets
// AccessDeniedException. The request time is not checked against a clock
// (the simulator keeps none), so a replayed request would pass; the enclave's
// conditional writes make a replay a no-op.
func (c *Counters) RequireCredentials(accessKeyID, secret string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.principal = &principal{accessKeyID, secret}
}

// verifySigV4 checks r's Authorization header against p, over body.
func verifySigV4(r *http.Request, body []byte, p *principal) error {
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ")
	if !ok {
		return errors.New("not SigV4")
	}
	fields := map[string]string{}
	for _, f := range strings.Split(auth, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || fields["SignedHeaders"] == "" || fields["Signature"] == "" {
		return errors.New("malformed Authorization")
	}
	if scope[0] != p.id {
		return errors.New("not the table's principal")
	}
	date := r.Header.Get("X-Amz-Date")
	if len(date) < 8 || date[:8] != scope[1] {
		return errors.New("X-Amz-Date does not match the credential scope")
	}
	signed := strings.Split(fields["SignedHeaders"], ";")
	if !slices.IsSorted(signed) || !slices.Contains(signed, "host") || !slices.Contains(signed, "x-amz-date") {
		return errors.New("SignedHeaders must be sorted and include host and x-amz-date")
	}
	var canon strings.Builder
	for _, h := range signed {
		var vals []string
		switch h {
		case "host":
			vals = []string{r.Host}
		case "content-length":
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		default:
			vals = r.Header.Values(h)
		}
		for i, v := range vals {
			vals[i] = strings.Join(strings.Fields(v), " ")
		}
		canon.WriteString(h + ":" + strings.Join(vals, ",") + "\n")
	}
	payload := sha256.Sum256(body)
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	creq := strings.Join([]string{r.Method, path, r.URL.Query().Encode(), canon.String(), fields["SignedHeaders"], hex.EncodeToString(payload[:])}, "\n")
	ch := sha256.Sum256([]byte(creq))
	sts := "AWS4-HMAC-SHA256\n" + date + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(ch[:])
	key := []byte("AWS4" + p.secret)
	for _, part := range append(scope[1:], sts) {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(part))
		key = m.Sum(nil)
	}
	want, err := hex.DecodeString(fields["Signature"])
	if err != nil || !hmac.Equal(key, want) {
		return errors.New("signature does not match")
	}
	return nil
}

func (c *Counters) saveLocked() error {
	if c.dir == "" {
		return nil
	}
	items := make(map[string]counterItem, len(c.vals))
	for k, v := range c.vals {
		items[k] = counterItem{N: v, Head: c.heads[k]}
	}
	b, err := json.Marshal(items)
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, "counters-v2.json.tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "counters-v2.json")); err != nil {
		return err
	}
	d, err := os.Open(c.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

type attr struct {
	S *string `json:"S,omitempty"`
	N *string `json:"N,omitempty"`
}

type ddbRequest struct {
	TableName                 string
	Key                       map[string]attr
	ConsistentRead            bool
	UpdateExpression          string
	ConditionExpression       string
	ExpressionAttributeValues map[string]attr
}

type ddbError struct {
	Type string `json:"__type"`
	Msg  string `json:"message"`
}

func (e *ddbError) Error() string { return e.Type + ": " + e.Msg }

func ddbErr(typ, format string, args ...any) *ddbError {
	return &ddbError{"com.amazonaws.dynamodb.v20120810#" + typ, fmt.Sprintf(format, args...)}
}

// ServeHTTP implements the DynamoDB subset described on [Counters].
func (c *Counters) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	out, err := c.serve(r)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if err != nil {
		var de *ddbError
		if !errors.As(err, &de) {
			de = ddbErr("InternalServerError", "%v", err)
			w.WriteHeader(http.StatusInternalServerError)
		} else {
			w.WriteHeader(http.StatusBadRequest)
		}
		_ = json.NewEncoder(w).Encode(de)
		return
	}
	_ = json.NewEncoder(w).Encode(out)
}

func (c *Counters) serve(r *http.Request) (any, error) {
	if r.Method != http.MethodPost {
		return nil, ddbErr("ValidationException", "method %s", r.Method)
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		return nil, ddbErr("MissingAuthenticationTokenException", "request is not signed with SigV4")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 16<<10))
	if err != nil {
		return nil, ddbErr("SerializationException", "%v", err)
	}
	c.mu.Lock()
	p := c.principal
	c.mu.Unlock()
	if p != nil {
		if err := verifySigV4(r, body, p); err != nil {
			return nil, ddbErr("AccessDeniedException", "the caller is not authorized to use this table: %v", err)
		}
	}
	var req ddbRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, ddbErr("SerializationException", "%v", err)
	}
	id, ok := req.Key["id"]
	if req.TableName == "" || len(req.Key) != 1 || !ok || id.S == nil {
		return nil, ddbErr("ValidationException", "the key must be the string attribute \"id\"")
	}
	name := req.TableName + "/" + *id.S
	c.mu.Lock()
	defer c.mu.Unlock()
	switch r.Header.Get("X-Amz-Target") {
	case "DynamoDB_20120810.GetItem":
		v, ok := c.vals[name]
		if !ok {
			return struct{}{}, nil
		}
		n := strconv.FormatUint(v, 10)
		item := map[string]attr{"id": id, "n": {N: &n}}
		if h, ok := c.heads[name]; ok {
			item["head"] = attr{S: &h}
		}
		return map[string]any{"Item": item}, nil
	case "DynamoDB_20120810.UpdateItem":
		return c.update(name, req)
	default:
		return nil, ddbErr("UnknownOperationException", "operation %q is not simulated", r.Header.Get("X-Amz-Target"))
	}
}

func number(a attr) (uint64, error) {
	if a.N == nil {
		return 0, ddbErr("ValidationException", "expected a number attribute")
	}
	v, err := strconv.ParseUint(*a.N, 10, 64)
	if err != nil {
		return 0, ddbErr("ValidationException", "number %q: %v", *a.N, err)
	}
	return v, nil
}

// update applies one conditional UpdateItem (see [Counters]). Called with
// c.mu held.
func (c *Counters) update(name string, req ddbRequest) (any, error) {
	vals := req.ExpressionAttributeValues
	var newHead *string
	switch req.UpdateExpression {
	case "SET n = :new":
	case "SET n = :new, head = :head":
		h := vals[":head"].S
		if h == nil {
			return nil, ddbErr("ValidationException", "expected a string :head")
		}
		newHead = h
	default:
		return nil, ddbErr("ValidationException", "only \"SET n = :new\" and \"SET n = :new, head = :head\" are simulated")
	}
	nv, err := number(vals[":new"])
	if err != nil {
		return nil, err
	}
	cur, exists := c.vals[name]
	curHead, hasHead := c.heads[name]
	fail := ddbErr("ConditionalCheckFailedException", "The conditional request failed")
	switch req.ConditionExpression {
	case "attribute_not_exists(n)":
		if exists {
			return nil, fail
		}
	case "n = :old", "n = :old AND head = :oldhead", "n = :old AND NOT begins_with(head, :oldprefix)":
		old, err := number(vals[":old"])
		if err != nil {
			return nil, err
		}
		if !exists || cur != old {
			return nil, fail
		}
		switch req.ConditionExpression {
		case "n = :old AND head = :oldhead":
			want := vals[":oldhead"].S
			if want == nil {
				return nil, ddbErr("ValidationException", "expected a string :oldhead")
			}
			if !hasHead || curHead != *want {
				return nil, fail
			}
		case "n = :old AND NOT begins_with(head, :oldprefix)":
			prefix := vals[":oldprefix"].S
			if prefix == nil {
				return nil, ddbErr("ValidationException", "expected a string :oldprefix")
			}
			if hasHead && strings.HasPrefix(curHead, *prefix) {
				return nil, fail
			}
		}
	default:
		return nil, ddbErr("ValidationException", "condition %q is not simulated", req.ConditionExpression)
	}
	c.vals[name] = nv
	if newHead != nil {
		c.heads[name] = *newHead
	}
	if err := c.saveLocked(); err != nil {
		if exists {
			c.vals[name] = cur
		} else {
			delete(c.vals, name)
		}
		if hasHead {
			c.heads[name] = curHead
		} else {
			delete(c.heads, name)
		}
		return nil, err
	}
	return struct{}{}, nil
}
