package vectors

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Benchmarks of the gallery at a size that keeps `make bench` quick; the
// large sizes are measured with `facesign bench search` (docs/search.md).

const benchN, benchDim, benchQ = 1 << 15, 192, 64

func benchGallery(b *testing.B, typ GalleryType) (*Gallery, [][]float32) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	g, err := NewGallery(benchDim, GalleryOptions{Type: typ})
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < benchN; i++ {
		if _, err := g.Add(galRandVec(r, benchDim)); err != nil {
			b.Fatal(err)
		}
	}
	qs := make([][]float32, benchQ)
	for i := range qs {
		qs[i] = galRandVec(r, benchDim)
	}
	return g, qs
}

func BenchmarkGallerySearch(b *testing.B) {
	for _, typ := range galTypes() {
		b.Run(typ.String(), func(b *testing.B) {
			g, qs := benchGallery(b, typ)
			b.SetBytes(int64(benchN * g.ScanBytesPerIdentity()))
			i := 0
			for b.Loop() {
				if _, err := g.Search(qs[i%len(qs)], 10); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkGallerySearchBatch(b *testing.B) {
	for _, typ := range galTypes() {
		b.Run(fmt.Sprintf("%v/q=%d", typ, benchQ), func(b *testing.B) {
			g, qs := benchGallery(b, typ)
			for b.Loop() {
				if _, err := g.SearchBatch(qs, 10); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(benchN*benchQ), "ns/comparison")
		})
	}
}

// BenchmarkGonumSgemm is the alternative SearchBatch does not use: the
// same 64×N score matrix through gonum's blas32.Gemm (no top-k selection
// at all), for comparison with BenchmarkGallerySearchBatch/f32.
func BenchmarkGonumSgemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	base := blas32.General{Rows: benchN, Cols: benchDim, Stride: benchDim, Data: make([]float32, benchN*benchDim)}
	for i := 0; i < benchN; i++ {
		copy(base.Data[i*benchDim:], galRandVec(r, benchDim))
	}
	q := blas32.General{Rows: benchQ, Cols: benchDim, Stride: benchDim, Data: make([]float32, benchQ*benchDim)}
	for i := 0; i < benchQ; i++ {
		copy(q.Data[i*benchDim:], galRandVec(r, benchDim))
	}
	c := blas32.General{Rows: benchQ, Cols: benchN, Stride: benchN, Data: make([]float32, benchQ*benchN)}
	for b.Loop() {
		blas32.Gemm(blas.NoTrans, blas.Trans, 1, q, base, 0, c)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(benchN*benchQ), "ns/comparison")
}
