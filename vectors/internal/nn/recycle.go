package nn

import (
	"math"
	"sync"
)

// Recycling of tensor memory.
//
// A face model allocates a fresh tensor for the result of nearly every
// node, tens of megabytes per frame; fresh memory costs page faults,
// zeroing, garbage-collector work and the scavenger handing it back. A
// graph executor that knows a result is dead and that no other value
// shares its memory gives it back with [Release]; [New] takes a buffer of
// exactly the length it needs from there before it allocates, and zeroes
// it, so New's result is the same either way.

// recycleMin is the smallest tensor, in elements, whose memory is
// recycled; smaller ones are left to the allocator.
const recycleMin = 1 << 12

// recycled maps a buffer length to a *sync.Pool of *[]float32 of exactly
// that length (and capacity).
var recycled sync.Map

// Release gives t's memory back for [New] to reuse and leaves t without
// data. The caller guarantees that nothing reads or writes t's data
// afterwards: no other tensor shares it (a [Reshape] or [Squeeze] view
// does), and t is not read again. Small tensors and nil are ignored.
func Release(t *Tensor) {
	if t == nil || len(t.Data) < recycleMin || cap(t.Data) != len(t.Data) {
		return
	}
	d := t.Data
	t.Data = nil
	p, _ := recycled.LoadOrStore(len(d), new(sync.Pool))
	p.(*sync.Pool).Put(&d)
}

// zeroed returns a zero buffer of n elements, recycled when one of that
// length was released.
func zeroed(n int) []float32 {
	if b := reused(n); b != nil {
		clear(b)
		return b
	}
	return make([]float32, n)
}

// reused returns a released buffer of exactly n elements, as it was left,
// or nil when there is none.
func reused(n int) []float32 {
	if n >= recycleMin {
		if p, ok := recycled.Load(n); ok {
			if b, ok := p.(*sync.Pool).Get().(*[]float32); ok {
				return *b
			}
		}
	}
	return nil
}

// poisonUnwritten makes newUnwritten fill its buffers with NaN: the tests
// set it, so that an element its caller fails to write shows.
var poisonUnwritten = false

// newUnwritten is [New] for a result whose every element the caller writes
// before anything reads it: a recycled buffer is handed out as it is,
// without zeroing.
func newUnwritten(shape ...int) *Tensor {
	n, err := CheckShape(shape)
	if err != nil {
		panic(err)
	}
	d := reused(n)
	if d == nil {
		d = make([]float32, n)
	}
	if poisonUnwritten {
		for i := range d {
			d[i] = float32(math.NaN())
		}
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: d}
}
