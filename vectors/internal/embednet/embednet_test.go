package embednet

import (
	"crypto/sha256"
	"errors"
	"image"
	"math"
	"slices"
	"testing"
	"testing/fstest"
)

func TestInput(t *testing.T) {
	big := image.NewRGBA(image.Rect(-3, 2, 20, 20))
	for i := range big.Pix {
		big.Pix[i] = uint8(i * 13)
	}
	crop := big.SubImage(image.Rect(1, 5, 5, 9)).(*image.RGBA)
	sub, div := [3]float32{1, 0.5, 2}, [3]float32{-1, 255, 3}
	x, ok := Input(crop, 4, sub, div)
	if !ok || len(x.Shape) != 4 || x.Shape[1] != 4 || x.Shape[2] != 4 || x.Shape[3] != 3 {
		t.Fatalf("ok %v shape %v", ok, x)
	}
	for y := range 4 {
		for xx := range 4 {
			for c := range 3 {
				v := big.Pix[big.PixOffset(1+xx, 5+y)+c]
				if got, want := x.Data[(y*4+xx)*3+c], (float32(v)-sub[c])/div[c]; got != want {
					t.Fatalf("(%d,%d,%d): %v, want %v", xx, y, c, got, want)
				}
			}
		}
	}
	for _, r := range []image.Rectangle{image.Rect(0, 0, 4, 5), image.Rect(0, 0, 3, 4), image.Rect(0, 0, 0, 0)} {
		if x, ok := Input(image.NewRGBA(r), 4, sub, div); ok || x != nil {
			t.Fatalf("%v accepted", r)
		}
	}
}

func TestUnitNorm(t *testing.T) {
	tests := []struct {
		name string
		v    []float32
		ok   bool
	}{
		{"3-4", []float32{3, 4}, true},
		{"tiny", []float32{1e-30, 0, 1e-30}, true},
		{"zero", []float32{0, 0}, false},
		{"empty", nil, false},
		{"nan", []float32{1, float32(math.NaN())}, false},
		{"inf", []float32{float32(math.Inf(-1)), 1}, false},
		{"huge", []float32{math.MaxFloat32, math.MaxFloat32}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := append([]float32(nil), tt.v...)
			if ok := UnitNorm(v); ok != tt.ok {
				t.Fatalf("ok %v, want %v", ok, tt.ok)
			}
			if !tt.ok {
				return
			}
			var s float64
			for _, x := range v {
				s += float64(x) * float64(x)
			}
			if math.Abs(s-1) > 1e-6 {
				t.Fatalf("norm² %v", s)
			}
		})
	}
}

func TestHashFiles(t *testing.T) {
	fsys := fstest.MapFS{"a": {Data: []byte("ab")}, "b": {Data: []byte("c")}}
	got, err := HashFiles(fsys, "a", "b")
	if err != nil || got != sha256.Sum256([]byte("abc")) {
		t.Fatalf("%x %v", got, err)
	}
	if swapped, _ := HashFiles(fsys, "b", "a"); swapped == got {
		t.Fatal("order does not matter")
	}
	if sum, err := HashFiles(fsys, "a", "missing"); err == nil || sum != ([32]byte{}) {
		t.Fatalf("missing file: %x %v", sum, err)
	}
}

func TestEmbed(t *testing.T) {
	errNF, errRun := errors.New("not finite"), errors.New("run failed")
	crop := image.NewRGBA(image.Rect(0, 0, 2, 1))
	crop.Pix[0] = 10 // left pixel red: the mirror differs
	out := func(v []float32, err error) func(*image.RGBA) ([]float32, error) {
		return func(c *image.RGBA) ([]float32, error) {
			if err != nil {
				return nil, err
			}
			w := slices.Clone(v)
			if c.Pix[0] == 0 { // the mirror: a different output
				w[0] = 0
			}
			return w, nil
		}
	}
	if v, err := Embed(out([]float32{3, 4}, nil), crop, errNF); err != nil || v[0] != 0.6 || v[1] != 0.8 {
		t.Errorf("Embed: %v, %v", v, err)
	}
	n := math.Sqrt(73)
	if v, err := EmbedFlip(out([]float32{3, 4}, nil), crop, errNF); err != nil || math.Abs(float64(v[0])-3/n) > 1e-6 || math.Abs(float64(v[1])-8/n) > 1e-6 {
		t.Errorf("EmbedFlip: %v, %v (want (3+0, 4+4) normalised)", v, err)
	}
	for _, f := range []func(func(*image.RGBA) ([]float32, error), *image.RGBA, error) ([]float32, error){Embed, EmbedFlip} {
		if _, err := f(out(nil, errRun), crop, errNF); !errors.Is(err, errRun) {
			t.Errorf("a failed run: %v", err)
		}
		if _, err := f(out([]float32{float32(math.NaN()), 1}, nil), crop, errNF); !errors.Is(err, errNF) {
			t.Errorf("NaN output: %v", err)
		}
	}
}
