package nodetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"
)

// DefaultTimeout bounds one run of a script when [Peer.Timeout] is zero.
const DefaultTimeout = 5 * time.Minute

// deadlineMargin is how long before the test's deadline a run is cut off, so
// the test fails with the script's name instead of the test binary panicking.
const deadlineMargin = 10 * time.Second

// A Peer is a directory of Node.js scripts whose npm dependencies are
// installed (see the package documentation).
type Peer struct {
	// Dir holds the scripts, package.json and node_modules.
	Dir string
	// Node is the path of the node executable.
	Node string
	// Timeout bounds each run; zero means [DefaultTimeout].
	Timeout time.Duration
}

// Require returns the peer in dir. It fails tb, naming "make node-deps",
// when node is not on PATH, dir/node_modules is missing, or any of paths
// (relative to node_modules, e.g. "@tensorflow/tfjs-core") is.
func Require(tb testing.TB, dir string, paths ...string) *Peer {
	tb.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		tb.Fatalf("node not found (%v): install Node.js, then run make node-deps", err)
	}
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(modules); err != nil {
		tb.Fatalf("%s is missing: run make node-deps", modules)
	}
	if err := checkInstalled(dir); err != nil {
		tb.Fatalf("%v: run make node-deps", err)
	}
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join(modules, p)); err != nil {
			tb.Fatalf("%s is missing: run make node-deps", filepath.Join(modules, p))
		}
	}
	return &Peer{Dir: dir, Node: node}
}

// checkInstalled checks that every dependency dir/package.json names is in
// dir/node_modules, at the version it pins when the pin is an exact version.
// A directory without package.json passes.
func checkInstalled(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "package.json"), err)
	}
	deps := maps.Collect(maps.All(pkg.Dependencies))
	maps.Copy(deps, pkg.DevDependencies)
	for _, name := range slices.Sorted(maps.Keys(deps)) {
		path := filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json")
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s is not installed (%s missing)", name, path)
		}
		var got struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if want := deps[name]; exactVersion.MatchString(want) && got.Version != want {
			return fmt.Errorf("%s %s is installed, package.json pins %s", name, got.Version, want)
		}
	}
	return nil
}

// exactVersion matches a pinned semantic version (no range operators).
var exactVersion = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)

// Run runs `node script args...` in p.Dir with stdin as its standard input
// and returns its standard output. It fails tb on a non-zero exit or a
// timeout, with the script's standard error.
func (p *Peer) Run(tb testing.TB, stdin []byte, script string, args ...string) []byte {
	tb.Helper()
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if d, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := d.Deadline(); ok {
			timeout = max(min(timeout, time.Until(end)-deadlineMargin), time.Second)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.Node, append([]string{script}, args...)...)
	cmd.Dir = p.Dir
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.WaitDelay = 5 * time.Second // a grandchild holding the pipes open cannot hang the test
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		tb.Fatalf("node %s: killed after %v (timeout)\n%s", script, timeout, stderr.String())
	case err != nil:
		tb.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	return stdout.Bytes()
}

// RunJSON runs script with in, encoded as JSON, on its standard input and
// decodes its standard output, JSON, into out. It fails tb like [Peer.Run],
// and when the output is not one JSON value that fits out.
func (p *Peer) RunJSON(tb testing.TB, script string, in, out any) {
	tb.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		tb.Fatalf("node %s input: %v", script, err)
	}
	stdout := p.Run(tb, b, script)
	if err := json.Unmarshal(stdout, out); err != nil {
		tb.Fatalf("node %s output: %v\n%.4096s", script, err, stdout)
	}
}
