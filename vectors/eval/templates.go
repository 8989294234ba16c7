package eval

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/imageio"
)

// Templates measurements: does each step of issue 12 item 3 help?
//
//   - [FusionLFW] and [FusionRecordings]: a capture's vector as the
//     quality-weighted mean of its frames ([vectors.Quality],
//     [vectors.Fuse]) against the plain mean, on the same frames;
//   - [TemplatesLFW]: an identity kept as its enrolment vector plus a later
//     image (two templates, scored by the best) against the enrolment
//     vector alone, for the genuine scores, the impostor exposure and the
//     service's own decision rule ([vectors.Decide]).

// ErrTemplates reports data a templates measurement cannot run on.
var ErrTemplates = errors.New("eval: templates measurement cannot run")

// QualityImage is one image's subject (see [Subject]): its face, vector
// and fusion weight.
type QualityImage struct {
	Person  int // index into the people the image results came from
	File    string
	Face    vectors.Face
	Vector  vectors.FaceVector
	Quality float32
	Factors vectors.QualityFactors
}

// QualityImages adds the subject's face and [vectors.Quality] to every
// image of res that has a vector. The face comes from opt.Cache's
// detections (the ones [EmbedImages] stored) or, without a cache or when
// the cache lacks them, from e.Detect; either way the image is decoded
// again for its sharpness. opt.Workers images are processed at once. Images
// that no longer decode are errors: res said they did.
func QualityImages(e vectors.Engine, res []ImageResult, opt EmbedOptions) ([]QualityImage, error) {
	var idx []int
	for i, r := range res {
		if r.Vector != nil {
			idx = append(idx, i)
		}
	}
	out := make([]QualityImage, len(idx))
	det := DetectorKey(e)
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	jobs := make(chan int)
	for range max(1, opt.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range jobs {
				q, err := qualityImage(e, det, res[idx[k]], opt)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				out[k] = q
				mu.Unlock()
			}
		}()
	}
	for k := range idx {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func qualityImage(e vectors.Engine, det [32]byte, r ImageResult, opt EmbedOptions) (QualityImage, error) {
	data, err := os.ReadFile(r.File)
	if err != nil {
		return QualityImage{}, err
	}
	img, _, err := imageio.Decode(data, opt.Limits)
	if err != nil {
		return QualityImage{}, fmt.Errorf("%s: %w", r.File, err)
	}
	var faces []vectors.Face
	if opt.Cache != nil {
		d, ok, err := opt.Cache.Detections(det, sha256.Sum256(data))
		if err != nil {
			return QualityImage{}, err
		}
		if ok {
			faces = d.Faces
		}
	}
	if len(faces) == 0 {
		if faces, err = e.Detect(img); err != nil {
			return QualityImage{}, fmt.Errorf("%s: %w", r.File, err)
		}
	}
	f := faces[Subject(faces, img.Bounds())]
	fs := vectors.Factors(f, img)
	return QualityImage{Person: r.Person, File: r.File, Face: f, Vector: *r.Vector, Quality: fs.Weight(), Factors: fs}, nil
}

// Quantiles summarises a score distribution.
type Quantiles struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	P001 float64 `json:"p0_1"` // 0.1 %
	P01  float64 `json:"p1"`
	P50  float64 `json:"median"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func quantilesOf(s []float64) Quantiles {
	if len(s) == 0 {
		return Quantiles{}
	}
	s = slices.Clone(s)
	sort.Float64s(s)
	var m float64
	for _, x := range s {
		m += x
	}
	return Quantiles{N: len(s), Mean: m / float64(len(s)), Min: s[0], Max: s[len(s)-1],
		P001: quantile(s, 0.001), P01: quantile(s, 0.01), P50: quantile(s, 0.5), P99: quantile(s, 0.99), P999: quantile(s, 0.999)}
}

// Paired compares one score under two methods on the same pairs: the
// difference B − A.
type Paired struct {
	MeanDiff float64 `json:"mean_diff"`
	SDDiff   float64 `json:"sd_diff"`
	// Higher is the share of pairs where B scored higher than A.
	Higher float64 `json:"higher"`
}

func pairedOf(a, b []float64) Paired {
	if len(a) == 0 {
		return Paired{}
	}
	var s, sq float64
	hi := 0
	for i := range a {
		d := b[i] - a[i]
		s += d
		sq += d * d
		if d > 0 {
			hi++
		}
	}
	n := float64(len(a))
	m := s / n
	return Paired{MeanDiff: m, SDDiff: math.Sqrt(math.Max(0, sq/n-m*m)), Higher: float64(hi) / n}
}

// Weighting is one way of weighting a capture's frames in the fusion.
type Weighting struct {
	Name   string
	Weight func(QualityImage) float32
}

func floored(x float64) float32 { return float32(math.Max(x, vectors.QualityFloor)) }

// Weightings are the ways measured: the plain mean, the quality weight the
// enclave uses, and each factor of it alone (what each contributes).
var Weightings = []Weighting{
	{"plain mean", func(QualityImage) float32 { return 1 }},
	{"quality", func(q QualityImage) float32 { return q.Quality }},
	{"detector only", func(q QualityImage) float32 { return floored(q.Factors.Detector) }},
	{"pose only", func(q QualityImage) float32 { return floored(q.Factors.Pose) }},
	{"sharpness only", func(q QualityImage) float32 { return floored(q.Factors.Sharpness) }},
	{"size only", func(q QualityImage) float32 { return floored(q.Factors.Size) }},
}

// fuseImages fuses imgs with the weights w gives.
func fuseImages(imgs []QualityImage, w Weighting) (vectors.FaceVector, error) {
	vs := make([]vectors.FaceVector, len(imgs))
	ws := make([]float32, len(imgs))
	for i, q := range imgs {
		vs[i], ws[i] = q.Vector, w.Weight(q)
	}
	return vectors.Fuse(vs, ws)
}

func cos(a, b vectors.FaceVector) float64 {
	var s float64
	for i := range a.Values {
		s += float64(a.Values[i]) * float64(b.Values[i])
	}
	return s
}

// FusionLFWResult compares ways of weighting the fusion of photos.
type FusionLFWResult struct {
	Images  int               `json:"images_per_side"` // photos fused into each side
	People  int               `json:"people"`          // people with at least 2·Images photos
	Methods []FusionLFWMethod `json:"methods"`
}

// FusionLFWMethod is one [Weighting]'s figures.
type FusionLFWMethod struct {
	Name string `json:"name"`
	// Report is the verification figures of the fused sides: genuine = a
	// person's two sides, impostor = sides of two people.
	Report Report `json:"report"`
	// GenuineGain and ImpostorGain pair the method's scores with the plain
	// mean's (the first method).
	GenuineGain  Paired `json:"genuine_gain"`
	ImpostorGain Paired `json:"impostor_gain"`
}

// byPerson groups images by person, in person then file order.
func byPerson(imgs []QualityImage) [][]QualityImage {
	var out [][]QualityImage
	idx := map[int]int{}
	for _, q := range imgs {
		i, ok := idx[q.Person]
		if !ok {
			i = len(out)
			idx[q.Person] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], q)
	}
	return out
}

// FusionLFW fuses, for every person with at least 2·m usable photos, the
// first m into one side and the next m into the other, once per
// [Weightings] entry, and scores every pair of sides: a person's two sides
// are the genuine pairs, sides of two people the impostor pairs (side A of
// one with side B of the other).
func FusionLFW(imgs []QualityImage, m int) (FusionLFWResult, error) {
	if m < 1 {
		return FusionLFWResult{}, fmt.Errorf("%w: %d photos per side", ErrTemplates, m)
	}
	var eligible [][]QualityImage
	for _, ps := range byPerson(imgs) {
		if len(ps) >= 2*m {
			eligible = append(eligible, ps)
		}
	}
	n := len(eligible)
	if n < 2 {
		return FusionLFWResult{}, fmt.Errorf("%w: %d people with %d photos", ErrTemplates, n, 2*m)
	}
	r := FusionLFWResult{Images: m, People: n}
	var gen0, imp0 []float64
	for k, w := range Weightings {
		a := make([]vectors.FaceVector, n)
		b := make([]vectors.FaceVector, n)
		for i, ps := range eligible {
			var err error
			if a[i], err = fuseImages(ps[:m], w); err != nil {
				return FusionLFWResult{}, err
			}
			if b[i], err = fuseImages(ps[m:2*m], w); err != nil {
				return FusionLFWResult{}, err
			}
		}
		var gen, imp []float64
		for i := range n {
			for j := range n {
				if i == j {
					gen = append(gen, cos(a[i], b[j]))
				} else {
					imp = append(imp, cos(a[i], b[j]))
				}
			}
		}
		rep, err := Analyze(gen, imp)
		if err != nil {
			return FusionLFWResult{}, err
		}
		if k == 0 {
			gen0, imp0 = gen, imp
		}
		r.Methods = append(r.Methods, FusionLFWMethod{Name: w.Name, Report: rep, GenuineGain: pairedOf(gen0, gen), ImpostorGain: pairedOf(imp0, imp)})
	}
	return r, nil
}

// TakeSpec names the frames of one recording of one person.
type TakeSpec struct {
	Person, Name string
	Files        []string
}

// RecordingTakes lists the takes of the project's liveness recordings in
// dir (shared/testdata/liveness, or the subset in
// enclave/testdata/liveness): person A is head-turn-a, whose frames 1–56
// and 57–112 are two takes (the second with a cap); person B is
// talking-b-take1 and talking-b-take2, two recordings; person C is
// attack-demo-real (a real woman, one take). Folders that are missing are
// skipped; the attack and several-face folders are not takes.
func RecordingTakes(dir string) ([]TakeSpec, error) {
	list := func(folder string, keep func(n int) bool) ([]string, error) {
		ents, err := os.ReadDir(filepath.Join(dir, folder))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDataset, err)
		}
		var out []string
		for _, e := range ents {
			if !e.Type().IsRegular() || !imageExt[strings.ToLower(filepath.Ext(e.Name()))] {
				continue
			}
			var n int
			if _, err := fmt.Sscanf(e.Name(), "frame_%d.jpg", &n); err != nil {
				n = -1
			}
			if keep(n) {
				out = append(out, filepath.Join(dir, folder, e.Name()))
			}
		}
		sort.Strings(out)
		return out, nil
	}
	all := func(int) bool { return true }
	specs := []struct {
		person, name, folder string
		keep                 func(int) bool
	}{
		{"A", "head-turn-a frames 1-56", "head-turn-a", func(n int) bool { return n >= 1 && n <= 56 }},
		{"A", "head-turn-a frames 57-112", "head-turn-a", func(n int) bool { return n >= 57 }},
		{"B", "talking-b-take1", "talking-b-take1", all},
		{"B", "talking-b-take2", "talking-b-take2", all},
		{"C", "attack-demo-real", "attack-demo-real", all},
	}
	var out []TakeSpec
	for _, sp := range specs {
		files, err := list(sp.folder, sp.keep)
		if err != nil {
			return nil, err
		}
		if len(files) > 0 {
			out = append(out, TakeSpec{Person: sp.person, Name: sp.name, Files: files})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no recordings under %s", ErrDataset, dir)
	}
	return out, nil
}

// Take is one recording of one person: its frames in capture order.
type Take struct {
	Person string         `json:"person"`
	Name   string         `json:"name"`
	Frames []QualityImage `json:"-"`
}

// CaptureScores are the scores of simulated captures under one fusion.
type CaptureScores struct {
	// Genuine: captures from two different takes of one person. Impostor:
	// captures of two people.
	Genuine  Quantiles `json:"genuine"`
	Impostor Quantiles `json:"impostor"`
	// SamePerson: every frame of a genuine capture against the fused vector
	// of the capture's other frames (the liveness check's leave-one-out
	// score); Intruder: one frame of another person put into a capture,
	// against the fused vector of the capture's frames (the score that
	// must stay below the liveness threshold).
	SamePerson Quantiles `json:"same_person"`
	Intruder   Quantiles `json:"intruder"`
}

// RecordingFusion compares ways of weighting the fusion for captures of
// one size.
type RecordingFusion struct {
	Frames  int               `json:"frames"`
	Methods []RecordingMethod `json:"methods"`
}

// RecordingMethod is one [Weighting]'s scores, paired with the plain
// mean's (the first method).
type RecordingMethod struct {
	Name         string        `json:"name"`
	Scores       CaptureScores `json:"scores"`
	GenuineGain  Paired        `json:"genuine_gain"`
	ImpostorGain Paired        `json:"impostor_gain"`
}

// FusionRecordings simulates captures of each size in sizes — n frames
// drawn at random, in order, from one take — captures times per person
// pair and size, and scores them under every [Weightings] entry on the
// same draws (paired). A person needs two takes for genuine pairs; every
// pair of people gives impostor pairs. Randomness comes from r.
func FusionRecordings(takes []Take, sizes []int, captures int, r *rand.Rand) ([]RecordingFusion, error) {
	people := map[string][]Take{}
	var names []string
	for _, t := range takes {
		if _, ok := people[t.Person]; !ok {
			names = append(names, t.Person)
		}
		people[t.Person] = append(people[t.Person], t)
	}
	sort.Strings(names)
	if len(names) < 2 || captures < 1 {
		return nil, fmt.Errorf("%w: %d people in the recordings, %d captures", ErrTemplates, len(names), captures)
	}
	nw := len(Weightings)
	var out []RecordingFusion
	for _, n := range sizes {
		for _, t := range takes {
			if len(t.Frames) < n || n < 2 {
				return nil, fmt.Errorf("%w: take %s has %d frames, captures of %d", ErrTemplates, t.Name, len(t.Frames), n)
			}
		}
		draw := func(t Take) []QualityImage {
			pick := r.Perm(len(t.Frames))[:n]
			slices.Sort(pick)
			out := make([]QualityImage, n)
			for i, p := range pick {
				out[i] = t.Frames[p]
			}
			return out
		}
		gen := make([][]float64, nw)
		imp := make([][]float64, nw)
		same := make([][]float64, nw)
		intr := make([][]float64, nw)
		score := func(dst [][]float64, a, b []QualityImage) error {
			for k, w := range Weightings {
				fa, err := fuseImages(a, w)
				if err != nil {
					return err
				}
				fb, err := fuseImages(b, w)
				if err != nil {
					return err
				}
				dst[k] = append(dst[k], cos(fa, fb))
			}
			return nil
		}
		leaveOneOut := func(dst [][]float64, c []QualityImage, only int) error {
			for i := range c {
				if only >= 0 && i != only {
					continue
				}
				rest := slices.Concat(c[:i], c[i+1:])
				for k, w := range Weightings {
					f, err := fuseImages(rest, w)
					if err != nil {
						return err
					}
					dst[k] = append(dst[k], cos(c[i].Vector, f))
				}
			}
			return nil
		}
		for pi, p := range names {
			ts := people[p]
			for range captures {
				if len(ts) >= 2 {
					i := r.IntN(len(ts))
					j := (i + 1 + r.IntN(len(ts)-1)) % len(ts)
					a, b := draw(ts[i]), draw(ts[j])
					if err := score(gen, a, b); err != nil {
						return nil, err
					}
					if err := leaveOneOut(same, a, -1); err != nil {
						return nil, err
					}
				}
				for _, q := range names[pi+1:] {
					a := draw(ts[r.IntN(len(ts))])
					qt := people[q]
					b := draw(qt[r.IntN(len(qt))])
					if err := score(imp, a, b); err != nil {
						return nil, err
					}
					// A frame of q put into p's capture.
					at := r.IntN(n)
					a[at] = b[r.IntN(n)]
					if err := leaveOneOut(intr, a, at); err != nil {
						return nil, err
					}
				}
			}
		}
		rf := RecordingFusion{Frames: n}
		for k, w := range Weightings {
			rf.Methods = append(rf.Methods, RecordingMethod{Name: w.Name,
				Scores:      CaptureScores{Genuine: quantilesOf(gen[k]), Impostor: quantilesOf(imp[k]), SamePerson: quantilesOf(same[k]), Intruder: quantilesOf(intr[k])},
				GenuineGain: pairedOf(gen[0], gen[k]), ImpostorGain: pairedOf(imp[0], imp[k])})
		}
		out = append(out, rf)
	}
	return out, nil
}

// NamedThresholds is a set of decision thresholds and where it came from.
type NamedThresholds struct {
	Name       string             `json:"name"`
	Thresholds vectors.Thresholds `json:"thresholds"`
}

// TemplateLevels are the service's template rule: a later capture is kept
// when it was decided existing for its identity, its best score reached
// Strong, and it scores below Novel against every vector kept.
type TemplateLevels struct {
	Strong float32 `json:"strong"`
	Novel  float32 `json:"novel"`
}

// TemplatesOpenSet is the open-set outcome under one threshold set and one
// way of keeping templates.
type TemplatesOpenSet struct {
	Templates  string             `json:"templates"` // "one", "two", "rule"
	Thresholds string             `json:"thresholds"`
	Values     vectors.Thresholds `json:"values"`
	Identities int                `json:"identities"`
	Vectors    int                `json:"vectors"`
	Returning  OpenSetCounts      `json:"returning"`
	New        OpenSetCounts      `json:"new"`
}

// Exposure is the false-match exposure at one threshold: the share of
// (search, other identity) comparisons whose identity score reaches it.
type Exposure struct {
	Threshold float64 `json:"threshold"`
	One       float64 `json:"one_template"`
	Two       float64 `json:"two_templates"`
}

// TemplatesLFWResult compares identities kept as one vector and as two.
type TemplatesLFWResult struct {
	// People with ≥ 3 usable photos: enrol photo 1, template photo 2,
	// search with photo 3. Distractors: other enrolled identities (first
	// photo of people with two; every other person with one). NewPeople:
	// the remaining people with one photo, searching as new people.
	People      int `json:"people"`
	Distractors int `json:"distractors"`
	NewPeople   int `json:"new_people"`
	// Genuine scores of photo 3 against the identity: photo 1 alone (One),
	// the best of photos 1 and 2 (Two).
	GenuineOne  Quantiles `json:"genuine_one"`
	GenuineTwo  Quantiles `json:"genuine_two"`
	GenuineGain Paired    `json:"genuine_gain"`
	// RuleKept is how many photo 2s the service's rule keeps as a template
	// (decided existing for the right identity against the one-template
	// gallery, best ≥ strong, below novel against photo 1); ExistingKept
	// how many a rule without the strong level would keep (existing and
	// novel: open-set mode "existing").
	RuleKept     int            `json:"rule_kept"`
	ExistingKept int            `json:"existing_kept"`
	Levels       TemplateLevels `json:"levels"`
	// Comparisons is the number of (search, other identity) pairs behind
	// Exposure.
	Comparisons int                `json:"comparisons"`
	Exposure    []Exposure         `json:"exposure"`
	OpenSet     []TemplatesOpenSet `json:"open_set"`
}

// TemplatesLFW runs the templates protocol on the usable photos of a
// dataset (see [TemplatesLFWResult]) under each threshold set, with one
// template per identity, two (photo 2 always), as the service's rule
// (levels, with the first threshold set) would keep them, and as that rule
// without its strong level would. Exposure is
// measured at each set's match and new thresholds and at levels.Strong.
func TemplatesLFW(imgs []QualityImage, ths []NamedThresholds, levels TemplateLevels) (TemplatesLFWResult, error) {
	if len(ths) == 0 {
		return TemplatesLFWResult{}, fmt.Errorf("%w: no thresholds", ErrTemplates)
	}
	for _, th := range ths {
		if err := th.Thresholds.Check(); err != nil {
			return TemplatesLFWResult{}, fmt.Errorf("%w: %s: %w", ErrTemplates, th.Name, err)
		}
	}
	type ident struct {
		vecs  []vectors.FaceVector // photo 1, then photo 2 for returning people
		probe *vectors.FaceVector  // photo 3
	}
	var ids []ident
	var newcomers []vectors.FaceVector
	singles := 0
	for _, ps := range byPerson(imgs) {
		switch {
		case len(ps) >= 3:
			p := ps[2].Vector
			ids = append(ids, ident{vecs: []vectors.FaceVector{ps[0].Vector, ps[1].Vector}, probe: &p})
		case len(ps) == 2:
			ids = append(ids, ident{vecs: []vectors.FaceVector{ps[0].Vector}})
		default:
			if singles%2 == 0 {
				ids = append(ids, ident{vecs: []vectors.FaceVector{ps[0].Vector}})
			} else {
				newcomers = append(newcomers, ps[0].Vector)
			}
			singles++
		}
	}
	res := TemplatesLFWResult{Levels: levels, NewPeople: len(newcomers)}
	for _, id := range ids {
		if id.probe != nil {
			res.People++
		}
	}
	res.Distractors = len(ids) - res.People
	if res.People < 2 {
		return TemplatesLFWResult{}, fmt.Errorf("%w: %d people with three usable photos, need 2", ErrTemplates, res.People)
	}
	// scores[q][i]: search q against identity i's photo 1 and photo 2
	// (NaN when it has none). Searches: returning probes, then newcomers.
	type search struct {
		v    vectors.FaceVector
		self int // identity index, −1 for a new person
	}
	var searches []search
	for i, id := range ids {
		if id.probe != nil {
			searches = append(searches, search{*id.probe, i})
		}
	}
	for _, v := range newcomers {
		searches = append(searches, search{v, -1})
	}
	one := make([][]float64, len(searches))
	two := make([][]float64, len(searches))
	for q, s := range searches {
		one[q] = make([]float64, len(ids))
		two[q] = make([]float64, len(ids))
		for i, id := range ids {
			one[q][i] = cos(s.v, id.vecs[0])
			two[q][i] = math.NaN()
			if len(id.vecs) > 1 {
				two[q][i] = cos(s.v, id.vecs[1])
			}
		}
	}
	// Genuine scores.
	var g1, g2 []float64
	for q, s := range searches {
		if s.self < 0 {
			continue
		}
		a, b := one[q][s.self], two[q][s.self]
		g1 = append(g1, a)
		g2 = append(g2, math.Max(a, b))
	}
	res.GenuineOne, res.GenuineTwo, res.GenuineGain = quantilesOf(g1), quantilesOf(g2), pairedOf(g1, g2)

	// The rule: photo 2 searched against the one-template gallery.
	first := ths[0].Thresholds
	kept := make([]bool, len(ids))
	keptExisting := make([]bool, len(ids))
	for i, id := range ids {
		if id.probe == nil {
			continue
		}
		ms := make([]vectors.Match, len(ids))
		for j, jd := range ids {
			ms[j] = vectors.Match{Slot: vectors.Slot(j), Score: float32(cos(id.vecs[1], jd.vecs[0]))}
		}
		d := vectors.Decide(first, ms)
		self := float32(cos(id.vecs[1], id.vecs[0]))
		if d.Outcome == vectors.OutcomeExisting && int(d.Slot) == i && self < levels.Novel {
			keptExisting[i] = true
			res.ExistingKept++
			if d.Best >= levels.Strong {
				kept[i] = true
				res.RuleKept++
			}
		}
	}

	// Exposure: every search against every identity but its own.
	identityScore := func(q, i int, use func(int) bool) float64 {
		if use(i) && !math.IsNaN(two[q][i]) {
			return math.Max(one[q][i], two[q][i])
		}
		return one[q][i]
	}
	never := func(int) bool { return false }
	always := func(int) bool { return true }
	byRule := func(i int) bool { return kept[i] }
	byExisting := func(i int) bool { return keptExisting[i] }
	var levelsAt []float64
	for _, th := range ths {
		levelsAt = append(levelsAt, float64(th.Thresholds.Match), float64(th.Thresholds.New))
	}
	levelsAt = append(levelsAt, float64(levels.Strong))
	slices.Sort(levelsAt)
	levelsAt = slices.Compact(levelsAt)
	hits := make([][2]int, len(levelsAt))
	for q, s := range searches {
		for i := range ids {
			if i == s.self {
				continue
			}
			res.Comparisons++
			a, b := identityScore(q, i, never), identityScore(q, i, always)
			for k, t := range levelsAt {
				if a >= t {
					hits[k][0]++
				}
				if b >= t {
					hits[k][1]++
				}
			}
		}
	}
	for k, t := range levelsAt {
		c := float64(res.Comparisons)
		res.Exposure = append(res.Exposure, Exposure{Threshold: t, One: float64(hits[k][0]) / c, Two: float64(hits[k][1]) / c})
	}

	// Open set under the service's rule.
	for _, th := range ths {
		for _, mode := range []struct {
			name string
			use  func(int) bool
		}{{"one", never}, {"two", always}, {"rule", byRule}, {"existing", byExisting}} {
			o := TemplatesOpenSet{Templates: mode.name, Thresholds: th.Name, Values: th.Thresholds, Identities: len(ids)}
			for i, id := range ids {
				o.Vectors++
				if len(id.vecs) > 1 && mode.use(i) {
					o.Vectors++
				}
			}
			ms := make([]vectors.Match, len(ids))
			for q, s := range searches {
				for i := range ids {
					ms[i] = vectors.Match{Slot: vectors.Slot(i), Score: float32(identityScore(q, i, mode.use))}
				}
				d := vectors.Decide(th.Thresholds, ms)
				c := &o.New
				if s.self >= 0 {
					c = &o.Returning
				}
				c.People++
				switch {
				case d.Outcome == vectors.OutcomeNew:
					c.New++
				case d.Outcome == vectors.OutcomeAmbiguous:
					c.Ambiguous++
				case s.self >= 0 && int(d.Slot) == s.self:
					c.Existing++
				default:
					c.WrongPerson++
				}
			}
			res.OpenSet = append(res.OpenSet, o)
		}
	}
	return res, nil
}
