package scan

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// Kernel throughput on cache-resident data (16 blocks of 16 vectors,
// dim 192): the compute ceiling, separate from memory bandwidth.

const benchDim, benchBlocks = 192, 16

func BenchmarkDotF32Blocks(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	blocks := randF32Blocks(r, benchDim, benchBlocks)
	q := randVec(r, benchDim)
	out, masks := make([]float32, benchBlocks*Lanes), make([]uint32, benchBlocks)
	b.SetBytes(int64(len(blocks) * 4))
	for b.Loop() {
		DotF32Blocks(q, blocks, benchBlocks, 1, out, masks)
	}
}

func BenchmarkDotF32Blocks4(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	blocks := randF32Blocks(r, benchDim, benchBlocks)
	q := randVec(r, benchDim)
	out, masks := make([]float32, benchBlocks*Lanes), make([]uint32, benchBlocks)
	b.SetBytes(int64(len(blocks) * 4))
	for b.Loop() {
		DotF32Blocks4(q, blocks, benchBlocks/Streams, benchBlocks/Streams, 1, out, masks)
	}
}

func BenchmarkDotI8Blocks(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	blocks, _, _ := randI8Blocks(r, benchDim, benchBlocks)
	q := PackI8Query(randVec(r, benchDim))
	out, masks := make([]float32, benchBlocks*Lanes), make([]uint32, benchBlocks)
	b.SetBytes(int64(len(blocks)))
	for b.Loop() {
		DotI8Blocks(&q, blocks, benchBlocks, 1, out, masks)
	}
}

func BenchmarkDotI8Blocks4(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	blocks, _, _ := randI8Blocks(r, benchDim, benchBlocks)
	q := PackI8Query(randVec(r, benchDim))
	out, masks := make([]float32, benchBlocks*Lanes), make([]uint32, benchBlocks)
	b.SetBytes(int64(len(blocks)))
	for b.Loop() {
		DotI8Blocks4(&q, blocks, benchBlocks/Streams, benchBlocks/Streams, 1, out, masks)
	}
}

// The group kernels report bytes as (block bytes × queries), i.e. the
// equivalent one-query scan rate.
func BenchmarkDotF32Group(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	block := randF32Blocks(r, benchDim, 1)
	qs := make([][]float32, F32Group)
	for i := range qs {
		qs[i] = randVec(r, benchDim)
	}
	qp := PackF32Group(qs, benchDim)
	var thr [F32Group]float32
	var out [F32Group * Lanes]float32
	var masks [F32Group]uint32
	b.SetBytes(int64(len(block) * 4 * F32Group))
	for b.Loop() {
		DotF32Group(qp, block, &thr, &out, &masks)
	}
}

func BenchmarkDotI8Group(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	blocks, _, _ := randI8Blocks(r, benchDim, 1)
	var qs []I8Query
	for i := 0; i < I8Group; i++ {
		qs = append(qs, PackI8Query(randVec(r, benchDim)))
	}
	qg := PackI8Group(qs, benchDim)
	var thr [I8Group]float32
	var out [I8Group * Lanes]float32
	var masks [I8Group]uint32
	b.SetBytes(int64(len(blocks) * I8Group))
	for b.Loop() {
		DotI8Group(&qg, blocks, &thr, &out, &masks)
	}
}

func BenchmarkRead(b *testing.B) {
	buf := make([]byte, 1<<16)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		Read(buf)
	}
}

// The one-query kernels over 64 MiB (twice the L3 cache of the development
// machine) on one goroutine, in segments of 128 blocks as the gallery keeps
// them: streams=1 is DotI8Blocks / DotF32Blocks over consecutive blocks (the
// float32 kernel takes two adjacent blocks per step), streams=4 is the
// *Blocks4 kernel over the segment's quarters side by side. The difference
// is the read rate one core gets from DRAM with one or several sequential
// streams.
const memBytes, segBlks = 64 << 20, 128

func BenchmarkI8Memory(b *testing.B) { benchI8Memory(b, benchDim, memBytes) }

// BenchmarkI8Memory704 is BenchmarkI8Memory at the enclave's dimension (704)
// over 256 MiB, far beyond any L3 cache the service runs on.
func BenchmarkI8Memory704(b *testing.B) { benchI8Memory(b, 704, 256<<20) }

func benchI8Memory(b *testing.B, dim, bytes int) {
	bl := I8BlockLen(dim)
	nseg := bytes / (segBlks * bl)
	blocks := make([]byte, nseg*segBlks*bl)
	ClearI8Blocks(blocks, dim)
	q := PackI8Query(randVec(rand.New(rand.NewPCG(1, 1)), dim))
	out, masks := make([]float32, 16*Lanes), make([]uint32, 16)
	for _, streams := range []int{1, Streams} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			b.SetBytes(int64(len(blocks)))
			for b.Loop() {
				for s := 0; s < nseg; s++ {
					seg := blocks[s*segBlks*bl:]
					if streams == 1 {
						for c := 0; c < segBlks; c += 16 {
							DotI8Blocks(&q, seg[c*bl:], 16, 1, out, masks)
						}
						continue
					}
					for c := 0; c < segBlks/Streams; c += 4 {
						DotI8Blocks4(&q, seg[c*bl:], segBlks/Streams, 4, 1, out, masks)
					}
				}
			}
		})
	}
}

func BenchmarkF32Memory(b *testing.B) {
	bl := F32BlockLen(benchDim)
	nseg := memBytes / (segBlks * bl * 4)
	blocks := make([]float32, nseg*segBlks*bl)
	q := randVec(rand.New(rand.NewPCG(1, 1)), benchDim)
	out, masks := make([]float32, 16*Lanes), make([]uint32, 16)
	for _, streams := range []int{1, Streams} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			b.SetBytes(int64(len(blocks) * 4))
			for b.Loop() {
				for s := 0; s < nseg; s++ {
					seg := blocks[s*segBlks*bl:]
					if streams == 1 {
						for c := 0; c < segBlks; c += 16 {
							DotF32Blocks(q, seg[c*bl:], 16, 1, out, masks)
						}
						continue
					}
					for c := 0; c < segBlks/Streams; c += 4 {
						DotF32Blocks4(q, seg[c*bl:], segBlks/Streams, 4, 1, out, masks)
					}
				}
			}
		})
	}
}
