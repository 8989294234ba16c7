package detect

import (
	"fmt"
	"image"
	"math"

	"github.com/facesign/facesign/vectors"
)

// Track measures the face of prev again in img, a later frame of the same
// video, without running BlazeFace: one FaceMesh pass on the region that
// prev's landmarks span (level eye corners, 1.5× their bounding square),
// as MediaPipe's tracking does between detections. It is several times
// faster than [Detector.Detect] (BlazeFace dominates the cost) and is for
// live guidance only: it cannot see a second face, and its region is one
// frame old.
//
// prev must come from this detector ([Detector.Detect] or Track: 468
// landmarks). The returned face's Box is its landmarks' bounding box and its
// Score the mesh's presence probability. A face whose presence falls below
// [Options.MinMeshScore] is lost: the error wraps [vectors.ErrNoFace] and
// the caller detects again.
func (d *Detector) Track(img image.Image, prev vectors.Face) (vectors.Face, error) {
	if len(prev.Landmarks) != meshPoints {
		return vectors.Face{}, fmt.Errorf("%w: tracking needs the %d landmarks of a previous face, got %d", vectors.ErrNoFace, meshPoints, len(prev.Landmarks))
	}
	rgba := toRGBA(img)
	if rgba.Rect.Dx() < 1 || rgba.Rect.Dy() < 1 {
		return vectors.Face{}, fmt.Errorf("%w: empty image", vectors.ErrNoFace)
	}
	pm := make([]mesh3, meshPoints)
	for i, p := range prev.Landmarks {
		pm[i] = mesh3{x: float64(p.X), y: float64(p.Y)}
	}
	m, p, err := d.runMesh(rgba, meshROI(pm))
	if err != nil {
		return vectors.Face{}, err
	}
	if p < d.opts.MinMeshScore {
		return vectors.Face{}, fmt.Errorf("%w: lost the tracked face (presence %.2f)", vectors.ErrNoFace, p)
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, q := range m {
		minX, maxX = math.Min(minX, q.x), math.Max(maxX, q.x)
		minY, maxY = math.Min(minY, q.y), math.Max(maxY, q.y)
	}
	c := candidate{score: p, box: vectors.Box{X: float32(minX), Y: float32(minY), W: float32(maxX - minX), H: float32(maxY - minY)}}
	return measure(c, m), nil
}
