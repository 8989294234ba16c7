package parent

import (
	"encoding/json"
	"net/http"

	"github.com/facesign/facesign/wire"
)

// Stable error codes the parent itself answers with. They are the same
// strings as the enclave's (wire/); the parent only ever produces the
// ones it can decide without opening an envelope.
const (
	CodeBadRequest   = string(wire.CodeBadRequest)
	CodeBodyTooLarge = string(wire.CodeBodyTooLarge)
	CodeRateLimited  = string(wire.CodeRateLimited)
	CodeUnavailable  = string(wire.CodeUnavailable)
	CodeInternal     = string(wire.CodeInternal)
	// CodeNoRoute answers a path or method the API does not have.
	CodeNoRoute = "no_route"
	// CodeConflict answers a host-services log write that contradicts a
	// stored record (internal listener only).
	CodeConflict = "conflict"
)

// ErrorBody is the JSON shape of every error the parent (and the enclave,
// before an envelope opens) returns: {"error":{"code":…,"message":…}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of [ErrorBody].
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(ErrorBody{Error: ErrorDetail{Code: code, Message: msg}})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
