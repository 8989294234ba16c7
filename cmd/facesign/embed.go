package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/calib"
	"github.com/facesign/facesign/vectors/eval"
	"github.com/facesign/facesign/vectors/faceengine" // registers the engines (default "arcface-fused")
	"github.com/facesign/facesign/vectors/imageio"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// defaultEngine is the most accurate registered engine, the one the
// enclave runs by default.
const defaultEngine = faceengine.Name

func init() {
	register(embedCmd)
	register(compareCmd)
	register(evalCmd)
}

func engineFlag(cmd *cobra.Command, name *string) {
	cmd.Flags().StringVar(name, "engine", defaultEngine, "face engine (see `facesign engines`)")
}

type faceJSON struct {
	Box         [4]float32 `json:"box"`
	Score       float32    `json:"score"`
	Vector      []float32  `json:"vector"`
	Engine      string     `json:"engine"`
	ModelSHA256 string     `json:"model_sha256"`
}

type embedLine struct {
	File  string     `json:"file"`
	Faces []faceJSON `json:"faces,omitempty"`
	Error string     `json:"error,omitempty"`
}

func embedCmd() *cobra.Command {
	var engine string
	cmd := &cobra.Command{
		Use:   "embed [--engine NAME] IMAGE...",
		Short: "Detect faces and print one JSON line of face vectors per image",
		Long: "embed prints one JSON line per image: {\"file\",\"faces\":[{\"box\":[x,y,w,h],\"score\",\"vector\",\"engine\",\"model_sha256\"}]}\n" +
			"or {\"file\",\"error\"}. It exits with status 2 when any image failed.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := vectors.Open(engine)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			failed := 0
			for _, f := range args {
				line := embedLine{File: f}
				faces, vecs, _, err := eval.EmbedFile(e, f, imageio.DefaultLimits)
				if err != nil {
					line.Error = err.Error()
					failed++
				}
				for i, fc := range faces {
					line.Faces = append(line.Faces, faceJSON{
						Box:   [4]float32{fc.Box.X, fc.Box.Y, fc.Box.W, fc.Box.H},
						Score: fc.Score, Vector: vecs[i].Values, Engine: vecs[i].Engine,
						ModelSHA256: hex.EncodeToString(vecs[i].ModelSHA256[:]),
					})
				}
				if err := enc.Encode(line); err != nil {
					return err
				}
			}
			if failed > 0 {
				return &exitError{2, fmt.Errorf("%d of %d images failed", failed, len(args))}
			}
			return nil
		},
	}
	engineFlag(cmd, &engine)
	return cmd
}

func threshold(e vectors.Engine, flag float64) (float32, error) {
	if flag > -1 {
		return float32(flag), nil
	}
	if c, ok := e.(vectors.Calibrated); ok {
		return c.Thresholds().Match, nil
	}
	return 0, fmt.Errorf("engine %s has no calibrated threshold: pass --threshold", e.ID())
}

func compareCmd() *cobra.Command {
	var engine string
	var thr float64
	cmd := &cobra.Command{
		Use:   "compare [--engine NAME] IMG1 IMG2",
		Short: "Compare the subject (the face nearest the centre) of two images",
		Long:  "compare prints {\"score\",\"same_person\",\"threshold\"}; score is the cosine similarity of the face nearest the centre of each image.",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			e, err := vectors.Open(engine)
			if err != nil {
				return err
			}
			t, err := threshold(e, thr)
			if err != nil {
				return err
			}
			var vs [2]vectors.FaceVector
			for i, f := range args {
				faces, vecs, b, err := eval.EmbedFile(e, f, imageio.DefaultLimits)
				if err != nil {
					return &exitError{2, fmt.Errorf("%s: %w", f, err)}
				}
				vs[i] = vecs[eval.Subject(faces, b)]
			}
			s, err := vectors.Cosine(vs[0], vs[1])
			if err != nil {
				return err
			}
			return json.NewEncoder(cmd.OutOrStdout()).Encode(struct {
				Score      float32 `json:"score"`
				SamePerson bool    `json:"same_person"`
				Threshold  float32 `json:"threshold"`
			}{s, s >= t, t})
		},
	}
	engineFlag(cmd, &engine)
	cmd.Flags().Float64Var(&thr, "threshold", -2, "match threshold (default: the engine's calibrated one)")
	return cmd
}

// progressBar draws "[#####.....] 12/57" on w, rewriting the line.
func progressBar(w io.Writer) func(done, total int) {
	return func(done, total int) {
		const width = 30
		n := width * done / max(total, 1)
		fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func evalCmd() *cobra.Command {
	var engine, dataset, plotPath, pairsPath, cacheDir, split, calOut, excludePath string
	var asJSON bool
	var workers, timeN int
	cmd := &cobra.Command{
		Use: "eval [--engine NAME] --dataset DIR [--json] [--lfw-pairs FILE] [--plot FILE] [--cache DIR] " +
			"[--split calibrate|report|all] [--calibrate-out FILE] [--exclude FILE] [--workers N] [--time N]",
		Short: "Measure an engine on a labelled dataset (one folder per person)",
		Long: `eval embeds the face nearest the centre of every image of DIR/<person>/*.{jpg,png} and reports, for the
part of the dataset --split chooses (all: everything; report / calibrate: an identity-disjoint half, by a hash of
the folder name):

  - every genuine and impostor pair's score distribution, EER, TAR at FAR 1e-2 … 1e-6 (each flagged when the
    impostor pair count is below 1/FAR or 10/FAR), recommended thresholds, the largest gallery for FPIR 0.3 %,
    and what the engine's fixed thresholds do;
  - with --lfw-pairs, the LFW View 2 k-fold accuracy (threshold chosen on the other folds; a pair with an image
    without a usable face counts as an error);
  - the open-set de-duplication protocol (the first image of every person with several enrols and the second
    searches; people with one image alternate between enrolling and searching as new people) under the
    service's own decision rule, with the engine's fixed thresholds and with the thresholds the calibration
    part's curve gives at the gallery size; and that curve's capacity;
  - with --split report, a check of the curve's tail model: curves fitted on the calibration part and on every
    4th and 16th of its people (their tail models reaching one and two decades further), against the FMR the
    reported part measures at the same thresholds — with all images, and with at most 4 per person — and the
    pairs of people behind the reported part's impostor pairs at FMR 1e-5;
  - the median detection and embedding time per face; with --time N, the engine beside the dlibresnet pipeline
    on N images spread over the dataset, one image at a time, in one run.

--exclude leaves the images and folders a list names (docs/engine-lfw-errata.txt: the LFW maintainers' errata)
out of the all-pairs, open-set and calibration figures; the pairs file is scored as published.
--plot writes the score densities and the DET curve (PNG), --calibrate-out the calibration part's curve (JSON),
--cache keeps detections and vectors per image (by file SHA-256, detector/engine and model hash) so that later
runs skip the network, --json prints one JSON object instead of text.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataset == "" {
				return errors.New("--dataset is required")
			}
			part, err := eval.ParsePart(split)
			if err != nil {
				return fmt.Errorf("--split: %w", err)
			}
			if workers < 1 {
				return fmt.Errorf("--workers %d: need at least 1", workers)
			}
			if timeN < 0 {
				return fmt.Errorf("--time %d: need a number of images (0: no side-by-side timing)", timeN)
			}
			e, err := vectors.Open(engine)
			if err != nil {
				return err
			}
			var pairs *eval.Pairs
			if pairsPath != "" {
				f, err := os.Open(pairsPath)
				if err != nil {
					return fmt.Errorf("--lfw-pairs: %w", err)
				}
				p, err := eval.ParsePairs(f)
				f.Close()
				if err != nil {
					return fmt.Errorf("--lfw-pairs %s: %w", pairsPath, err)
				}
				pairs = &p
			}
			people, err := eval.LoadDataset(dataset)
			if err != nil {
				return err
			}
			exclude, err := readExclude(excludePath)
			if err != nil {
				return err
			}
			eopt := eval.EmbedOptions{Limits: imageio.DefaultLimits, Workers: workers, Now: time.Now}
			if cacheDir != "" {
				c, err := eval.OpenCache(cacheDir)
				if err != nil {
					return err
				}
				defer c.Close()
				eopt.Cache = c
			}
			if isTerminal(os.Stderr) {
				eopt.Progress = progressBar(cmd.ErrOrStderr())
			}
			res, err := eval.EmbedImages(e, people, eopt)
			if err != nil {
				return err
			}
			info, fixed := eval.Info(e)
			opt := eval.Options{Dataset: dataset, Part: part, Pairs: pairs, Fixed: fixed, Policy: calib.DefaultPolicy(), Exclude: exclude, ExcludeFile: excludePath,
				Source: calib.Source{
					Dataset: fmt.Sprintf("%s (%d people, %d images)", filepath.Base(filepath.Clean(dataset)), len(people), len(res)),
					Command: "facesign " + strings.Join(os.Args[1:], " "),
				}}
			if c, ok := calib.ForEngine(e.ID()); ok && c.ModelSHA256() == e.ModelSHA256() {
				opt.Shipped = c
			}
			ev, err := eval.Evaluate(info, people, res, opt)
			if err != nil {
				return err
			}
			if timeN > 0 {
				engines := []vectors.Engine{e}
				if e.ID() != faceengine.DlibName {
					base, err := vectors.Open(faceengine.DlibName)
					if err != nil {
						return err
					}
					engines = append(engines, base)
				}
				if ev.SideBySide, err = eval.TimeSideBySide(engines, eval.Spread(people, timeN), imageio.DefaultLimits, time.Now); err != nil {
					return err
				}
			}
			if calOut != "" {
				if ev.Calibration.Error != "" {
					return fmt.Errorf("--calibrate-out: no curve from the %s part: %s", ev.Calibration.Part, ev.Calibration.Error)
				}
				data, err := ev.Curve.MarshalJSON()
				if err != nil {
					return err
				}
				if err := os.WriteFile(calOut, append(data, '\n'), 0o644); err != nil {
					return err
				}
			}
			if plotPath != "" {
				if err := writePlot(plotPath, e, ev); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(ev)
			}
			if err := ev.WriteText(out); err != nil {
				return err
			}
			if calOut != "" {
				fmt.Fprintf(out, "calibration curve (%s part) written to %s\n", ev.Dataset.CalibrationPart, calOut)
			}
			if plotPath != "" {
				fmt.Fprintf(out, "plot written to %s\n", plotPath)
			}
			return nil
		},
	}
	engineFlag(cmd, &engine)
	f := cmd.Flags()
	f.StringVar(&dataset, "dataset", "", "folder with one sub-folder of images per person")
	f.BoolVar(&asJSON, "json", false, "print one JSON object instead of text")
	f.StringVar(&pairsPath, "lfw-pairs", "", "LFW View 2 pairs file (pairs.txt): add the k-fold accuracy")
	f.StringVar(&plotPath, "plot", "", "write a PNG with the score densities and the DET curve")
	f.StringVar(&cacheDir, "cache", "", "keep detections and vectors per image in this folder")
	f.StringVar(&split, "split", "all", "part to report on: all, report (calibrate on the other half) or calibrate")
	f.StringVar(&excludePath, "exclude", "", "leave out the images and folders this list names (e.g. docs/engine-lfw-errata.txt)")
	f.StringVar(&calOut, "calibrate-out", "", "write the calibration part's impostor curve (JSON) to this file")
	f.IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "images processed at once")
	f.IntVar(&timeN, "time", 0, "time the engine beside dlibresnet on this many images, one at a time")
	return cmd
}

// writePlot draws the reported part's densities and DET curve with the
// engine's and the calibrated thresholds marked.
func writePlot(path string, e vectors.Engine, ev eval.Evaluation) error {
	var marks []eval.Marker
	for _, o := range ev.OpenSet {
		if o.Thresholds == nil {
			continue
		}
		from := "engine"
		if o.ThresholdsFrom == "calibration" {
			from = fmt.Sprintf("N=%d", o.Gallery)
		}
		if o.ThresholdsFrom == "shipped" {
			from = fmt.Sprintf("shipped N=%d", o.Gallery)
		}
		if t := o.Thresholds.Match; t != nil {
			marks = append(marks, eval.Marker{Name: from + " match", Threshold: float64(*t)})
		}
		if t := o.Thresholds.New; t != nil {
			marks = append(marks, eval.Marker{Name: from + " new", Threshold: float64(*t)})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := eval.WriteDET(f, ev.Dist, fmt.Sprintf("%s (%s part)", e.ID(), ev.Dataset.Part), marks); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readExclude reads the --exclude list at path; nil for "".
func readExclude(path string) (*eval.Exclude, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--exclude: %w", err)
	}
	defer f.Close()
	ex, err := eval.ParseExclude(f)
	if err != nil {
		return nil, fmt.Errorf("--exclude %s: %w", path, err)
	}
	return &ex, nil
}
