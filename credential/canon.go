package credential

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/piprate/json-gold/ld"
)

// Canonicalize returns the URDNA2015 (RDF Dataset Canonicalization, RDFC-1.0)
// N-Quads of a JSON-LD document, with contexts served by the static loader
// only. Like jsonld.js in "safe" mode, which @digitalbazaar's signature
// suites use, a property that no context defines is an error instead of
// being silently dropped.
func Canonicalize(doc any) (string, error) {
	doc, err := generic(doc)
	if err != nil {
		return "", err
	}
	rl := &recordingLoader{base: defaultLoader}
	opts := ld.NewJsonLdOptions("")
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.DocumentLoader = rl
	opts.SafeMode = true
	opts.Format = ""
	ds, err := ld.NewJsonLdProcessor().ToRDF(doc, opts)
	if err != nil {
		if rl.unknown != "" {
			return "", fmt.Errorf("%w: %q", ErrUnknownContext, rl.unknown)
		}
		return "", fmt.Errorf("%w: %v", ErrCanonical, err)
	}
	dataset, ok := ds.(*ld.RDFDataset)
	if !ok {
		return "", fmt.Errorf("%w: unexpected RDF result %T", ErrCanonical, ds)
	}
	nopts := ld.NewJsonLdOptions("")
	nopts.Algorithm = ld.AlgorithmURDNA2015
	nopts.Format = "application/n-quads"
	out, err := ld.NewJsonLdApi().Normalize(dataset, nopts)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrCanonical, err)
	}
	s, ok := out.(string)
	if !ok {
		return "", fmt.Errorf("%w: unexpected normalisation result %T", ErrCanonical, out)
	}
	return s, nil
}

// generic turns a Go value into the plain maps/slices json-gold walks.
func generic(v any) (any, error) {
	switch v.(type) {
	case map[string]any, []any:
		return v, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCanonical, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCanonical, err)
	}
	return out, nil
}

// hashCanonical is SHA-256 of the canonical N-Quads of doc.
func hashCanonical(doc any) ([32]byte, error) {
	s, err := Canonicalize(doc)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256([]byte(s)), nil
}
