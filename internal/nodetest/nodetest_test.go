package nodetest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fatalTB records the first Fatal instead of failing the real test; the
// function under test stops there, as with a real testing.TB.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

// fatal runs fn with a recording TB and returns what it failed with ("" when
// it did not).
func fatal(t *testing.T, fn func(tb testing.TB)) string {
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.msg
}

// peerDir makes a peer directory with an (empty) node_modules and scripts.
func peerDir(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "node_modules", "some-pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, src := range scripts {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	echoJS = `let s = ''; process.stdin.on('data', d => s += d).on('end', () => {
  const v = JSON.parse(s);
  process.stdout.write(JSON.stringify({echo: v, argv: process.argv.slice(2), cwd: process.cwd()}));
});`
	failJS  = `console.error('the peer says no'); process.exit(3);`
	hangJS  = `setInterval(() => {}, 1000);`
	notJSON = `process.stdout.write('not json');`
)

func TestRequire(t *testing.T) {
	dir := peerDir(t, nil)
	tests := []struct {
		name  string
		dir   string
		paths []string
		want  string // what the failure says; "" for none
	}{
		{"installed", dir, nil, ""},
		{"installed package", dir, []string{"some-pkg"}, ""},
		{"no node_modules", t.TempDir(), nil, "node_modules is missing: run make node-deps"},
		{"package missing", dir, []string{"some-pkg", "@tensorflow/tfjs-core"}, filepath.Join("node_modules", "@tensorflow", "tfjs-core") + " is missing: run make node-deps"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p *Peer
			got := fatal(t, func(tb testing.TB) { p = Require(tb, tc.dir, tc.paths...) })
			if tc.want == "" {
				if got != "" || p == nil || p.Dir != tc.dir || p.Node == "" {
					t.Fatalf("failed %q, peer %+v", got, p)
				}
				return
			}
			if !strings.Contains(got, tc.want) || p != nil {
				t.Fatalf("failed %q, want it to say %q", got, tc.want)
			}
		})
	}
}

func TestRequirePackageJSON(t *testing.T) {
	t.Parallel()
	dir := peerDir(t, map[string]string{"package.json": `{"name": "peer", "dependencies": {"@scope/exact": "1.2.3", "ranged": "^2.0.0"}, "devDependencies": {"dev": "0.1.0-beta.1"}}`})
	install := func(name, version string) {
		d := filepath.Join(dir, "node_modules", filepath.FromSlash(name))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "package.json"), []byte(`{"name": "`+name+`", "version": "`+version+`"}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name         string
		pkg, version string // installed before the check; "" for nothing
		want         string // what the failure says; "" for none
	}{
		{"nothing installed", "", "", "@scope/exact is not installed"},
		{"one of three", "@scope/exact", "1.2.3", "dev is not installed"},
		{"stale version", "dev", "0.1.0-beta.0", "dev 0.1.0-beta.0 is installed, package.json pins 0.1.0-beta.1"},
		{"two of three", "dev", "0.1.0-beta.1", "ranged is not installed"},
		{"a range is not compared", "ranged", "2.5.0", ""},
		{"exact pin compared", "@scope/exact", "1.2.4", "@scope/exact 1.2.4 is installed, package.json pins 1.2.3"},
	}
	for _, st := range steps { // in order: each builds on the last
		if st.pkg != "" {
			install(st.pkg, st.version)
		}
		got := fatal(t, func(tb testing.TB) { Require(tb, dir) })
		if st.want == "" && got != "" || !strings.Contains(got, st.want) || st.want != "" && !strings.HasSuffix(got, ": run make node-deps") {
			t.Fatalf("%s: failed %q, want %q", st.name, got, st.want)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"dependencies": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := fatal(t, func(tb testing.TB) { Require(tb, dir) }); !strings.Contains(got, "package.json") {
		t.Fatalf("bad package.json: failed %q", got)
	}
}

func TestRequireWithoutNode(t *testing.T) {
	dir := peerDir(t, nil)
	t.Setenv("PATH", t.TempDir())
	got := fatal(t, func(tb testing.TB) { Require(tb, dir) })
	if !strings.Contains(got, "node not found") || !strings.Contains(got, "run make node-deps") {
		t.Fatalf("failed %q", got)
	}
}

func TestRunJSON(t *testing.T) {
	t.Parallel()
	dir := peerDir(t, map[string]string{"echo.mjs": echoJS, "notjson.mjs": notJSON})
	p := Require(t, dir)
	in := map[string]any{"bytes": "00ff", "n": 3, "list": []string{"a", "b"}}
	var out struct {
		Echo map[string]any `json:"echo"`
		Argv []string       `json:"argv"`
		Cwd  string         `json:"cwd"`
	}
	p.RunJSON(t, "echo.mjs", in, &out)
	if fmt.Sprint(out.Echo) != fmt.Sprint(map[string]any{"bytes": "00ff", "n": 3.0, "list": []any{"a", "b"}}) || len(out.Argv) != 0 {
		t.Fatalf("got %+v", out)
	}
	if wd, _ := filepath.EvalSymlinks(dir); out.Cwd != dir && out.Cwd != wd {
		t.Fatalf("ran in %s, want %s", out.Cwd, dir)
	}
	if got := fatal(t, func(tb testing.TB) { p.RunJSON(tb, "notjson.mjs", in, &out) }); !strings.Contains(got, "node notjson.mjs output") || !strings.Contains(got, "not json") {
		t.Fatalf("failed %q", got)
	}
	if got := fatal(t, func(tb testing.TB) { p.RunJSON(tb, "echo.mjs", make(chan int), &out) }); !strings.Contains(got, "node echo.mjs input") {
		t.Fatalf("failed %q", got)
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	dir := peerDir(t, map[string]string{"echo.mjs": echoJS, "fail.mjs": failJS, "hang.mjs": hangJS})
	p := Require(t, dir)
	out := p.Run(t, []byte(`[1,2]`), "echo.mjs", "--flag", "x y")
	if !strings.HasPrefix(string(out), `{"echo":[1,2],"argv":["--flag","x y"]`) {
		t.Fatalf("got %s", out)
	}
	tests := []struct {
		name, script string
		timeout      time.Duration
		want         []string
	}{
		{"non-zero exit", "fail.mjs", 0, []string{"node fail.mjs: exit status 3", "the peer says no"}},
		{"missing script", "missing.mjs", 0, []string{"node missing.mjs: exit status"}},
		// The script never ends: any timeout ends it.
		{"timeout", "hang.mjs", 300 * time.Millisecond, []string{"node hang.mjs: killed after 300ms (timeout)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := *p
			q.Timeout = tc.timeout
			got := fatal(t, func(tb testing.TB) { q.Run(tb, nil, tc.script) })
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Fatalf("failed %q, want it to say %q", got, w)
				}
			}
		})
	}
}
