package eif

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// maxMetadataSection bounds the metadata section read into memory.
const maxMetadataSection = 1 << 20

// Metadata is the JSON object of the metadata section, with the keys and key
// order nitro-cli writes (EifIdentityInfo).
type Metadata struct {
	ImageName      string          `json:"ImageName"`
	ImageVersion   string          `json:"ImageVersion"`
	BuildMetadata  BuildMetadata   `json:"BuildMetadata"`
	DockerInfo     json.RawMessage `json:"DockerInfo"`
	CustomMetadata json.RawMessage `json:"CustomMetadata"`
}

// BuildMetadata describes the build (EifBuildInfo).
type BuildMetadata struct {
	BuildTime        string `json:"BuildTime"` // RFC 3339, as chrono's to_rfc3339 prints it
	BuildTool        string `json:"BuildTool"`
	BuildToolVersion string `json:"BuildToolVersion"`
	OperatingSystem  string `json:"OperatingSystem"`
	KernelVersion    string `json:"KernelVersion"`
}

// FormatBuildTime formats t as nitro-cli does (chrono to_rfc3339 in UTC:
// "2006-01-02T15:04:05+00:00", fractional seconds only when non-zero).
func FormatBuildTime(t time.Time) (string, error) {
	if t.IsZero() {
		return "", fmt.Errorf("%w: zero build time", ErrInput)
	}
	t = t.UTC()
	s := t.Format("2006-01-02T15:04:05")
	if ns := t.Nanosecond(); ns != 0 {
		switch {
		case ns%1_000_000 == 0:
			s += fmt.Sprintf(".%03d", ns/1_000_000)
		case ns%1_000 == 0:
			s += fmt.Sprintf(".%06d", ns/1_000)
		default:
			s += fmt.Sprintf(".%09d", ns)
		}
	}
	return s + "+00:00", nil
}

// KernelInfo extracts the operating system and kernel version from a kernel
// .config the way nitro-cli does: from its third line,
// "# Linux/x86_64 6.1.0-47 Kernel Configuration", split at ' ', '/' and '-',
// words 1 and 3 ("Linux", "6.1.0"). Missing words read "Unknown".
func KernelInfo(config []byte) (os, version string) {
	sc := bufio.NewScanner(bytes.NewReader(config))
	var line string
	for i := 0; i < 3; i++ {
		if !sc.Scan() {
			return "Unknown", "Unknown"
		}
		line = sc.Text()
	}
	split := splitAny(line, " /-")
	os, version = "Unknown", "Unknown"
	if len(split) > 1 {
		os = split[1]
	}
	if len(split) > 3 {
		version = split[3]
	}
	return os, version
}

// splitAny splits s at every byte in seps, keeping empty fields (like Rust's str::split).
func splitAny(s, seps string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(seps, s[i]) >= 0 {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// marshal encodes m as serde_json::to_vec does: compact, no HTML escaping,
// object keys of DockerInfo and CustomMetadata sorted (serde_json's default
// map), absent values as null.
func (m *Metadata) marshal() ([]byte, error) {
	c := *m
	var err error
	if c.DockerInfo, err = canonicalJSON(c.DockerInfo); err != nil {
		return nil, fmt.Errorf("%w: DockerInfo: %w", ErrInput, err)
	}
	if c.CustomMetadata, err = canonicalJSON(c.CustomMetadata); err != nil {
		return nil, fmt.Errorf("%w: CustomMetadata: %w", ErrInput, err)
	}
	return marshalNoEscape(&c)
}

// canonicalJSON re-encodes a JSON value compactly with sorted object keys;
// empty input is null.
func canonicalJSON(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("null"), nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("trailing data after the JSON value")
	}
	return marshalNoEscape(v)
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// parseMetadata decodes a metadata section. Like nitro-cli it requires the
// five top-level keys (and the five BuildMetadata keys) with fitting types;
// unknown keys are ignored.
func parseMetadata(b []byte) (*Metadata, error) {
	var keys struct {
		Top   map[string]json.RawMessage
		Build map[string]json.RawMessage
	}
	if err := json.Unmarshal(b, &keys.Top); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	for _, k := range []string{"ImageName", "ImageVersion", "BuildMetadata", "DockerInfo", "CustomMetadata"} {
		if _, ok := keys.Top[k]; !ok {
			return nil, fmt.Errorf("%w: missing key %s", ErrMetadata, k)
		}
	}
	isString := func(raw json.RawMessage) bool {
		t := bytes.TrimSpace(raw)
		return len(t) > 0 && t[0] == '"'
	}
	for _, k := range []string{"ImageName", "ImageVersion"} {
		if !isString(keys.Top[k]) {
			return nil, fmt.Errorf("%w: %s is not a string", ErrMetadata, k)
		}
	}
	if err := json.Unmarshal(keys.Top["BuildMetadata"], &keys.Build); err != nil {
		return nil, fmt.Errorf("%w: BuildMetadata: %w", ErrMetadata, err)
	}
	for _, k := range []string{"BuildTime", "BuildTool", "BuildToolVersion", "OperatingSystem", "KernelVersion"} {
		if !isString(keys.Build[k]) {
			return nil, fmt.Errorf("%w: BuildMetadata.%s missing or not a string", ErrMetadata, k)
		}
	}
	var m Metadata
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	if d.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrMetadata)
	}
	return &m, nil
}
