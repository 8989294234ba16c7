package tfjs

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"

	"github.com/facesign/facesign/vectors/internal/nn"
)

// LoadWeights reads a standalone tfjs weights manifest — a JSON array of
// {paths, weights} groups, the format of face-api's *-weights_manifest.json
// files, whose network is defined in code rather than in a graph — and
// returns every float32 weight by name, decoded and dequantised exactly as
// [Load] does. Shard paths are relative to the manifest. Errors wrap
// [ErrFormat] or [ErrWeights].
func LoadWeights(fsys fs.FS, manifest string) (map[string]*nn.Tensor, error) {
	raw, err := fs.ReadFile(fsys, manifest)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	var groups []weightGroup
	if err := json.Unmarshal(raw, &groups); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	vals, err := loadWeights(fsys, path.Dir(manifest), groups)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*nn.Tensor, len(vals))
	for name, v := range vals {
		if v.Float == nil {
			return nil, fmt.Errorf("%w: weight %q is not float32", ErrWeights, name)
		}
		out[name] = v.Float
	}
	return out, nil
}
