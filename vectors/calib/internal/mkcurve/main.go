// Command mkcurve writes a development calibration curve: it embeds every
// image of a dataset (one folder per person) with an engine, scores every
// pair and builds the engine's [calib.Curve]. The project's own command for
// calibration on the full data is `facesign eval --calibrate-out`; this one
// exists so the package ships a curve made from the committed LFW slice.
//
//	go run ./vectors/calib/internal/mkcurve -engine dlibresnet \
//	    -dataset ../shared/testdata/faces -out vectors/calib/curves/dlibresnet.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
	"github.com/facesign/facesign/vectors/eval"
	_ "github.com/facesign/facesign/vectors/faceengine"
	"github.com/facesign/facesign/vectors/imageio"
)

// command is how this run was invoked, each argument quoted where needed.
func command() string {
	args := []string{"go run ./vectors/calib/internal/mkcurve"}
	for _, a := range os.Args[1:] {
		if strings.ContainsAny(a, " \t\"'$") {
			a = strconv.Quote(a)
		}
		args = append(args, a)
	}
	return strings.Join(args, " ")
}

func main() {
	engine := flag.String("engine", "dlibresnet", "engine name")
	dataset := flag.String("dataset", "", "folder with one sub-folder of images per person")
	name := flag.String("name", "", "dataset description for the curve's source")
	out := flag.String("out", "", "curve file to write")
	flag.Parse()
	if *dataset == "" || *out == "" {
		log.Fatal("mkcurve: -dataset and -out are required")
	}
	e, err := vectors.Open(*engine)
	if err != nil {
		log.Fatal(err)
	}
	people, err := eval.LoadDataset(*dataset)
	if err != nil {
		log.Fatal(err)
	}
	vecs, failures := eval.EmbedDataset(e, people, imageio.DefaultLimits, nil)
	for _, f := range failures {
		log.Printf("no vector: %v", f.Err)
	}
	var gen, imp []float32
	type item struct {
		person int
		v      vectors.FaceVector
	}
	var all []item
	for p, vs := range vecs {
		for _, v := range vs {
			all = append(all, item{p, v})
		}
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			s, err := vectors.Cosine(all[i].v, all[j].v)
			if err != nil {
				log.Fatal(err)
			}
			if all[i].person == all[j].person {
				gen = append(gen, s)
			} else {
				imp = append(imp, s)
			}
		}
	}
	th := vectors.Thresholds{}
	if c, ok := e.(vectors.Calibrated); ok {
		th = c.Thresholds()
	}
	desc := *name
	if desc == "" {
		desc = fmt.Sprintf("%s: %d people, %d images with a vector", *dataset, len(people), len(all))
	}
	c, err := calib.Build(calib.Input{
		Engine:      e.ID(),
		ModelSHA256: e.ModelSHA256(),
		Margin:      th.Margin,
		Scores:      calib.ScoresOf(gen, imp),
		Source: calib.Source{
			Dataset:     desc,
			Split:       "all: every person (a development curve; calibrate and report on separate people for real figures)",
			Command:     command(),
			Provisional: true,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	b, err := json.Marshal(c)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	g, m := c.Pairs()
	fmt.Printf("%s: %d genuine, %d impostor pairs, tail %+v, sha256 %x\n", c.Engine(), g, m, c.Tail(), c.SHA256())
}
