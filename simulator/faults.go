package simulator

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"
)

// Faults injects the failures a store or database service shows in
// production in front of a simulated one ([S3], [Counters]): error answers
// (500, 503), slow answers, connections dropped before the request is
// served, and connections dropped after it was served (the write happened,
// the client never hears so). A test sets them at run time with
// [Faults.Set]; [Faults.Wrap] puts them in front of a handler. The zero
// value injects nothing.
//
// Faults are chosen by counting: the Nth request a [Fault] matches fails
// when N is a multiple of its Every, so a run is reproducible for a given
// request order.
type Faults struct {
	mu     sync.Mutex
	faults []Fault
	counts []int
	// Injected counts the faults injected, by kind ("status", "delay",
	// "drop", "drop-after").
	injected map[string]int
}

// A Fault is one kind of failure and the requests it applies to.
type Fault struct {
	// Status, when non-zero, answers the request with this HTTP status and
	// the service's error body ([Faults.Protocol]) without serving it.
	Status int
	// Delay holds the request this long before it is served (after Status
	// and Drop are decided); the client's timeouts apply.
	Delay time.Duration
	// Drop closes the connection without an answer and without serving
	// the request.
	Drop bool
	// DropAfter serves the request, then closes the connection without
	// sending the answer: the change is made, the client sees an error.
	DropAfter bool
	// Every applies the fault to every Every-th matching request (0 or 1:
	// all of them).
	Every int
	// Method and PathPrefix restrict the requests it matches (empty: any).
	Method, PathPrefix string
	// Header, when set, must be present on the request (for example
	// "If-None-Match": only conditional writes).
	Header string
}

// Protocol is how an injected error status is rendered.
type Protocol int

const (
	// ProtocolS3 renders S3 XML errors (InternalError, SlowDown).
	ProtocolS3 Protocol = iota
	// ProtocolDynamoDB renders DynamoDB JSON errors.
	ProtocolDynamoDB
)

// Set replaces the active faults (none: heal).
func (f *Faults) Set(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append([]Fault(nil), faults...)
	f.counts = make([]int, len(faults))
}

// Injected reports how many faults of each kind were injected so far.
func (f *Faults) Injected() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.injected {
		out[k] = v
	}
	return out
}

func (f *Faults) pick(r *http.Request) (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ft := range f.faults {
		if (ft.Method != "" && ft.Method != r.Method) || (ft.PathPrefix != "" && !hasPrefix(r.URL.Path, ft.PathPrefix)) ||
			(ft.Header != "" && r.Header.Get(ft.Header) == "") {
			continue
		}
		f.counts[i]++
		if every := max(ft.Every, 1); f.counts[i]%every != 0 {
			continue
		}
		if f.injected == nil {
			f.injected = map[string]int{}
		}
		switch {
		case ft.Status != 0:
			f.injected["status"]++
		case ft.Drop:
			f.injected["drop"]++
		case ft.DropAfter:
			f.injected["drop-after"]++
		case ft.Delay > 0:
			f.injected["delay"]++
		}
		return ft, true
	}
	return Fault{}, false
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// Wrap returns h behind the faults, rendering error statuses in protocol p.
func (f *Faults) Wrap(p Protocol, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ft, ok := f.pick(r)
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		if ft.Delay > 0 {
			select {
			case <-time.After(ft.Delay):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case ft.Status != 0:
			writeFaultStatus(w, p, ft.Status)
		case ft.Drop:
			drop(w)
		case ft.DropAfter:
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			drop(w)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

func writeFaultStatus(w http.ResponseWriter, p Protocol, status int) {
	var body bytes.Buffer
	switch p {
	case ProtocolDynamoDB:
		typ := "InternalServerError"
		if status == http.StatusServiceUnavailable {
			typ = "ServiceUnavailable"
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		fmt.Fprintf(&body, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"injected fault"}`, typ)
	default:
		code := "InternalError"
		if status == http.StatusServiceUnavailable {
			code = "SlowDown"
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(&body, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected fault</Message></Error>`, code)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body.Bytes())
}
