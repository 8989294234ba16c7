package eif_test

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// The golden image pins the exact bytes this package writes (layout, CRC,
// metadata JSON, signature encoding) so that any change to them is a
// deliberate one. Regenerate with: go test ./eif -run TestGolden -update
func TestGolden(t *testing.T) {
	in := testInput(t)
	in.Signer = loadSigner(t, "sign")
	b, _ := build(t, in)
	desc, err := read(t, b).Describe()
	if err != nil {
		t.Fatal(err)
	}
	desc = append(desc, '\n')
	for _, g := range []struct {
		file string
		data []byte
	}{{"testdata/golden-signed.eif", b}, {"testdata/golden-signed.describe.json", desc}} {
		if *update {
			if err := os.WriteFile(g.file, g.data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(g.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(g.data, want) {
			t.Errorf("%s differs from what the package writes now", g.file)
		}
	}
	// The committed image reads back with a valid CRC and signature.
	want, _ := os.ReadFile("testdata/golden-signed.eif")
	im := read(t, want)
	if !im.CRCValid() || !im.SignatureValid() {
		t.Fatal("golden image does not verify")
	}
}
