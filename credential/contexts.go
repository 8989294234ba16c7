package credential

import (
	"embed"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/piprate/json-gold/ld"
)

// The JSON-LD context URLs of an idOS FaceID credential.
const (
	ContextCredentialsV1 = "https://www.w3.org/2018/credentials/v1"
	ContextIDOSV1        = "https://idos-network.github.io/idos-sdk-js/credentials/idos-credentials-v1.json"
	ContextEd25519_2020  = "https://w3id.org/security/suites/ed25519-2020/v1"
	ContextFaceIDSubject = "https://idos-network.github.io/idos-sdk-js/credentials/idos-credential-subject-face-id-v1.json"
)

//go:embed contexts/*.json
var contextFiles embed.FS

var contextFileByURL = map[string]string{
	ContextCredentialsV1: "contexts/v1.json",
	ContextIDOSV1:        "contexts/idos-credentials-v1.json",
	ContextEd25519_2020:  "contexts/ed25519-signature-2020-v1.json",
	ContextFaceIDSubject: "contexts/idos-credential-subject-face-id-v1.json",
}

// ContextURLs lists the URLs the static loader serves.
func ContextURLs() []string {
	return []string{ContextCredentialsV1, ContextIDOSV1, ContextEd25519_2020, ContextFaceIDSubject}
}

// ContextDocument returns the raw bytes of the embedded context at url.
func ContextDocument(url string) ([]byte, error) {
	name, ok := contextFileByURL[url]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownContext, url)
	}
	return contextFiles.ReadFile(name)
}

// StaticLoader is a JSON-LD document loader that serves only the embedded
// contexts. It never touches the network; every other URL is
// [ErrUnknownContext]. Each load returns a freshly decoded copy, so no
// caller can change what the next one sees.
type StaticLoader struct{}

var _ ld.DocumentLoader = (*StaticLoader)(nil)

// LoadDocument implements [ld.DocumentLoader].
func (l *StaticLoader) LoadDocument(url string) (*ld.RemoteDocument, error) {
	raw, err := ContextDocument(url)
	if err != nil {
		return nil, ld.NewJsonLdError(ld.LoadingDocumentFailed, err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, ld.NewJsonLdError(ld.LoadingDocumentFailed, fmt.Errorf("credential: embedded context %s: %w", url, err))
	}
	return &ld.RemoteDocument{DocumentURL: url, Document: doc}, nil
}

var defaultLoader = &StaticLoader{}

// recordingLoader remembers the first URL the static loader refused, so the
// caller gets [ErrUnknownContext] instead of json-gold's opaque error.
type recordingLoader struct {
	base    *StaticLoader
	mu      sync.Mutex
	unknown string
}

func (r *recordingLoader) LoadDocument(url string) (*ld.RemoteDocument, error) {
	d, err := r.base.LoadDocument(url)
	if err != nil {
		r.mu.Lock()
		if r.unknown == "" {
			r.unknown = url
		}
		r.mu.Unlock()
	}
	return d, err
}
