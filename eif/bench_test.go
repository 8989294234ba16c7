package eif_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/facesign/facesign/eif"
)

func benchImage(b *testing.B) []byte {
	b.Helper()
	in := &eif.Input{
		Kernel:    bytes.Repeat([]byte{0x5a}, 8<<20),
		Cmdline:   "console=ttyS0",
		Ramdisks:  [][]byte{bytes.Repeat([]byte{1}, 1<<20), bytes.Repeat([]byte{2}, 23<<20)},
		BuildTime: time.Unix(1, 0),
	}
	var buf bytes.Buffer
	if _, err := eif.Build(&buf, in); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkRead measures a full read of a 32 MiB image: one streaming pass
// for the CRC and the three SHA-384 PCR chains.
func BenchmarkRead(b *testing.B) {
	img := benchImage(b)
	b.SetBytes(int64(len(img)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eif.Read(bytes.NewReader(img), int64(len(img)), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	in := &eif.Input{
		Kernel:    bytes.Repeat([]byte{0x5a}, 8<<20),
		Cmdline:   "console=ttyS0",
		Ramdisks:  [][]byte{bytes.Repeat([]byte{1}, 1<<20), bytes.Repeat([]byte{2}, 23<<20)},
		BuildTime: time.Unix(1, 0),
	}
	b.SetBytes(32 << 20)
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if _, err := eif.Build(&buf, in); err != nil {
			b.Fatal(err)
		}
	}
}
