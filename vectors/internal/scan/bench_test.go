package scan

import (
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
