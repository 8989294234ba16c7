package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
	"github.com/facesign/facesign/vectors/eval"
	"github.com/facesign/facesign/vectors/imageio"
	"github.com/spf13/cobra"
)

func init() { registerSub("eval", evalTemplatesCmd) }

func evalTemplatesCmd() *cobra.Command {
	var engine, dataset, recordings, cacheDir, split, fuse, sizes, excludePath string
	var asJSON bool
	var workers, captures int
	var seed uint64
	cmd := &cobra.Command{
		Use: "templates [--engine NAME] [--dataset DIR] [--recordings DIR] [--cache DIR] [--split report|calibrate|all] [--exclude FILE] " +
			"[--fuse 2,3] [--sizes 4,6,8] [--captures N] [--seed N] [--workers N] [--json]",
		Short: "Measure quality-weighted fusion and templates per identity (docs/templates.md)",
		Long: `eval templates measures whether the two steps of the enclave's capture handling help, with the engine and
the service's own code (vectors.Quality, vectors.Fuse, vectors.Decide):

  (a) fusion: on the photos of --dataset (one folder per person; the --split part), each person with at least
      2·m photos fuses the first m and the next m (m from --fuse) with the plain mean, with the quality weight
      the enclave uses and with each of its four factors alone: genuine and impostor score distributions, EER
      and TAR at FAR of the fused sides, and each method's scores paired with the plain mean's. On the liveness
      recordings of --recordings, simulated captures (--sizes frames, --captures draws per person pair, random
      from --seed) from two takes of one person (genuine) and of two people (impostor), plus the liveness
      check's leave-one-out scores of every frame and of an intruder frame.
  (b) templates: people with three photos enrol the first, keep the second as a template and search with the
      third: genuine scores with one template and with the best of two, the impostor exposure (share of
      comparisons with other identities whose score reaches each threshold) and the open-set outcome under
      vectors.Decide, with the engine's thresholds and, when a curve ships for the engine, the curve's
      thresholds at the number of identities and at the number of vectors; photo 2 kept always, never, or as
      the enclave's rule would keep it (enclave.DefaultPolicy's template levels; under a threshold rule, the
      levels its template epsilon gives at the number of vectors).

--exclude leaves the photos and folders a list names out of --dataset, as in 'facesign eval'
(docs/engine-lfw-errata.txt: the LFW errata and the two-name people). Use the --cache of 'facesign eval' to
reuse its detections and vectors.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataset == "" && recordings == "" {
				return errors.New("give --dataset, --recordings or both")
			}
			part, err := eval.ParsePart(split)
			if err != nil {
				return fmt.Errorf("--split: %w", err)
			}
			fuseN, err := intList("--fuse", fuse)
			if err != nil {
				return err
			}
			sizeN, err := intList("--sizes", sizes)
			if err != nil {
				return err
			}
			exclude, err := readExclude(excludePath)
			if err != nil {
				return err
			}
			if exclude != nil && dataset == "" {
				return errors.New("--exclude applies to --dataset: give it too")
			}
			if workers < 1 || captures < 1 {
				return fmt.Errorf("--workers %d, --captures %d: need at least 1", workers, captures)
			}
			e, err := vectors.Open(engine)
			if err != nil {
				return err
			}
			_, fixed := eval.Info(e)
			if fixed == nil {
				return fmt.Errorf("engine %s has no calibrated thresholds to decide with", e.ID())
			}
			pol := enclave.DefaultPolicy(e)
			opt := eval.TemplatesOptions{
				Dataset: dataset, Part: part, Exclude: exclude, ExcludeFile: excludePath, Recordings: recordings,
				Embed:      eval.EmbedOptions{Limits: imageio.DefaultLimits, Workers: workers},
				FuseImages: fuseN, CaptureSizes: sizeN, Captures: captures, Rand: rand.New(rand.NewPCG(seed, 12)),
				Fixed: fixed, Policy: calib.DefaultPolicy(),
				Levels: eval.TemplateLevels{Strong: pol.TemplateMatch, Novel: pol.TemplateNovel},
			}
			if c, ok := calib.ForEngine(e.ID()); ok && c.ModelSHA256() == e.ModelSHA256() {
				opt.Curve = &c
			}
			if r := pol.Rule; r != nil && r.TemplateEpsilon > 0 && opt.Curve != nil {
				// The enclave derives the levels from the curve (its
				// policy's fixed levels are zero): measure those.
				opt.Policy.TemplateEpsilon, opt.LevelsFromCurve = r.TemplateEpsilon, true
			}
			if cacheDir != "" {
				c, err := eval.OpenCache(cacheDir)
				if err != nil {
					return err
				}
				defer c.Close()
				opt.Embed.Cache = c
			}
			if isTerminal(os.Stderr) {
				opt.Embed.Progress = progressBar(cmd.ErrOrStderr())
			}
			rep, err := eval.MeasureTemplates(e, opt)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(rep)
			}
			return rep.WriteText(out)
		},
	}
	engineFlag(cmd, &engine)
	f := cmd.Flags()
	f.StringVar(&dataset, "dataset", "", "folder with one sub-folder of photos per person (LFW)")
	f.StringVar(&recordings, "recordings", "", "the liveness recordings folder (shared/testdata/liveness)")
	f.StringVar(&cacheDir, "cache", "", "keep detections and vectors per image in this folder")
	f.StringVar(&split, "split", "report", "part of --dataset to measure: report, calibrate or all")
	f.StringVar(&excludePath, "exclude", "", "leave out the photos and folders this list names (e.g. docs/engine-lfw-errata.txt)")
	f.StringVar(&fuse, "fuse", "2,3", "photos fused per side (comma-separated)")
	f.StringVar(&sizes, "sizes", "4,6,8", "frames per simulated capture (comma-separated)")
	f.IntVar(&captures, "captures", 1000, "simulated captures per person pair and size")
	f.Uint64Var(&seed, "seed", 1, "seed of the simulated captures")
	f.IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "images processed at once")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of text")
	return cmd
}

// intList parses a comma-separated list of positive integers.
func intList(flag, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s %q: want positive integers separated by commas", flag, s)
		}
		out = append(out, n)
	}
	return out, nil
}
