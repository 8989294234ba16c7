package eval

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestSplit(t *testing.T) {
	// Pinned: the split must never move (figures name the part they come from).
	for name, want := range map[string]Part{
		"Aaron_Eckhart": PartCalibrate, "Abel_Pacheco": PartCalibrate, "anna": PartCalibrate,
		"George_W_Bush": PartReport, "Zico": PartReport, "bert": PartReport,
	} {
		if got := PartOf(name); got != want {
			t.Errorf("PartOf(%q) = %v, want %v", name, got, want)
		}
	}
	var people []Person
	for i := range 1000 {
		people = append(people, Person{Name: fmt.Sprintf("person_%04d", i)})
	}
	cal, rep := Select(people, PartCalibrate), Select(people, PartReport)
	if len(cal)+len(rep) != len(people) || len(cal) < 430 || len(rep) < 430 {
		t.Fatalf("split %d / %d", len(cal), len(rep))
	}
	seen := map[string]bool{}
	for _, p := range cal {
		seen[p.Name] = true
	}
	for _, p := range rep {
		if seen[p.Name] {
			t.Fatalf("%s in both halves", p.Name)
		}
	}
	if len(Select(people, PartAll)) != len(people) {
		t.Fatal("PartAll")
	}
	for _, p := range []Part{PartAll, PartCalibrate, PartReport} {
		if q, err := ParsePart(p.String()); err != nil || q != p {
			t.Fatalf("ParsePart(%q) = %v, %v", p, q, err)
		}
	}
	if _, err := ParsePart("half"); !errors.Is(err, ErrPart) {
		t.Fatalf("ParsePart(half): %v", err)
	}
}

// TestLoadDatasetLinks: a subset made of symbolic links to person folders
// and to image files loads like the real thing; a dangling link is skipped.
func TestLoadDatasetLinks(t *testing.T) {
	real, sub := t.TempDir(), t.TempDir()
	for _, f := range []string{"ann/ann_0001.jpg", "ann/ann_0002.jpg", "bob/bob_0001.jpg"} {
		p := filepath.Join(real, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(real, "ann"), filepath.Join(sub, "ann")))
	must(os.Mkdir(filepath.Join(sub, "bob"), 0o755))
	must(os.Symlink(filepath.Join(real, "bob", "bob_0001.jpg"), filepath.Join(sub, "bob", "bob_0001.jpg")))
	must(os.Symlink(filepath.Join(real, "nobody"), filepath.Join(sub, "cy")))
	people, err := LoadDataset(sub)
	if err != nil {
		t.Fatal(err)
	}
	if len(people) != 2 || people[0].Name != "ann" || len(people[0].Files) != 2 || people[1].Name != "bob" || len(people[1].Files) != 1 {
		t.Fatalf("people %+v", people)
	}
}
