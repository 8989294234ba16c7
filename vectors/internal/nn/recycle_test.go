package nn

import (
	"testing"
	"unsafe"
)

// TestReleaseNew: New after Release gives a zero tensor of the asked
// length, whether or not its memory was recycled; Release leaves the
// released tensor without data, and ignores nil, small tensors and
// slices of a larger buffer.
func TestReleaseNew(t *testing.T) {
	tests := []struct {
		name string
		make func() *Tensor
		n    int
	}{
		{"recycled length", func() *Tensor { return New(2, recycleMin) }, 2 * recycleMin},
		{"small", func() *Tensor { return New(3, 5) }, 15},
		{"slice of a larger buffer", func() *Tensor {
			return &Tensor{Shape: []int{recycleMin}, Data: make([]float32, 2*recycleMin)[:recycleMin]}
		}, recycleMin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 3 {
				old := tt.make()
				for i := range old.Data {
					old.Data[i] = float32(i + 1)
				}
				wasRecyclable := len(old.Data) >= recycleMin && cap(old.Data) == len(old.Data)
				Release(old)
				if wasRecyclable != (old.Data == nil) {
					t.Fatalf("released data %v, recyclable %v", old.Data == nil, wasRecyclable)
				}
				nt := New(tt.n)
				if len(nt.Data) != tt.n || cap(nt.Data) < tt.n {
					t.Fatalf("%d values, want %d", len(nt.Data), tt.n)
				}
				for i, v := range nt.Data {
					if v != 0 {
						t.Fatalf("value %d is %v after recycling", i, v)
					}
				}
			}
		})
	}
	Release(nil)
}

// TestReleaseReused: a released buffer is what the next New of its
// length gets (when the pool keeps it; sync.Pool may drop it at a GC).
func TestReleaseReused(t *testing.T) {
	n := 3 * recycleMin
	for range 10 {
		a := New(n)
		p := unsafe.SliceData(a.Data)
		Release(a)
		if b := New(n); unsafe.SliceData(b.Data) == p {
			return
		}
	}
	t.Fatal("released memory never came back from New")
}

// The package's tests poison newUnwritten's buffers with NaN, so that any
// element a kernel handed such a buffer fails to write shows in a result.
func init() { poisonUnwritten = true }

// TestNewUnwrittenReuses: without the poison, newUnwritten hands out a
// released buffer as it is (its old values), where New zeroes it.
func TestNewUnwrittenReuses(t *testing.T) {
	poisonUnwritten = false
	defer func() { poisonUnwritten = true }()
	const n = recycleMin + 17
	old := New(n)
	for i := range old.Data {
		old.Data[i] = 7
	}
	Release(old)
	got := newUnwritten(1, n)
	if len(got.Data) != n || got.Shape[1] != n {
		t.Fatalf("shape %v, %d values", got.Shape, len(got.Data))
	}
	if got.Data[0] != 7 && got.Data[0] != 0 { // 0: the pool dropped it (a GC ran)
		t.Fatalf("a reused buffer holds %v", got.Data[0])
	}
}
