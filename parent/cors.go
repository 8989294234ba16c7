package parent

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// CodeOriginNotAllowed answers a CORS preflight from an origin the parent was
// not configured to serve.
const CodeOriginNotAllowed = "origin_not_allowed"

// corsMaxAge is how long (seconds) a browser may cache a preflight answer.
const corsMaxAge = "600"

// CheckOrigins validates [Config.AllowedOrigins] (wrapping [ErrConfig] if
// not), so that a command can also refuse a bad flag before it starts
// anything: each must be an exact web origin (scheme "https", or "http" for
// local development, a host, an optional port, nothing else). A wildcard is refused: the API hands out the secrets
// behind a person's wallet, so the pages that may call it are named.
func CheckOrigins(origins []string) error {
	for _, o := range origins {
		u, err := url.Parse(o)
		switch {
		case strings.Contains(o, "*"):
			return fmt.Errorf("%w: allowed origin %q: wildcards are not accepted, name each origin", ErrConfig, o)
		case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "":
			return fmt.Errorf("%w: allowed origin %q is not scheme://host[:port]", ErrConfig, o)
		case strings.ToLower(o) != o:
			return fmt.Errorf("%w: allowed origin %q must be lower case (browsers send it so)", ErrConfig, o)
		}
	}
	return nil
}

// cors adds the CORS response headers for a request from an allowed origin
// and answers preflights. It reports whether the request is finished (a
// preflight was answered).
//
// Only the /v1/ API routes take part; an origin that is not allowed gets no
// CORS headers (its page cannot read the answer) and its preflight gets 403
// origin_not_allowed. Requests without an Origin header (other servers,
// the CLI, same-origin GETs) are not affected.
func (s *Server) cors(w http.ResponseWriter, r *http.Request, ep *endpoint) (done bool) {
	origin := r.Header.Get("Origin")
	if origin == "" || !ep.limited || ep.methods == nil {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if !slices.Contains(s.cfg.AllowedOrigins, origin) {
		if preflight {
			writeError(w, http.StatusForbidden, CodeOriginNotAllowed, "this origin may not call the API")
			return true
		}
		return false
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After")
	if !preflight {
		return false
	}
	var methods []string
	for m := range ep.methods {
		methods = append(methods, m)
	}
	slices.Sort(methods)
	h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
	h.Set("Access-Control-Allow-Headers", "Content-Type, X-Request-ID")
	h.Set("Access-Control-Max-Age", corsMaxAge)
	w.WriteHeader(http.StatusNoContent)
	return true
}
