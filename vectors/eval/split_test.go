package eval

import (
	"errors"
	"fmt"
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
