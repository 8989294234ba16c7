package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/facesign/facesign/vectors"
	"github.com/facesign/facesign/vectors/eval"
	"github.com/facesign/facesign/vectors/faceengine" // registers "dlibresnet" and "mobilefacenet"
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
	var engine, dataset, plotPath string
	cmd := &cobra.Command{
		Use:   "eval [--engine NAME] --dataset DIR [--plot out.png]",
		Short: "Measure an engine on a labelled dataset (one folder per person)",
		Long: "eval embeds the face nearest the centre of every image of DIR/<person>/*.{jpg,png}, scores all genuine and\n" +
			"impostor pairs and prints the score distributions, EER, TAR at FAR 1e-2/1e-3/1e-4 (as far as the\n" +
			"pair count supports), recommended thresholds and the largest gallery for FPIR 0.3 %.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dataset == "" {
				return errors.New("--dataset is required")
			}
			e, err := vectors.Open(engine)
			if err != nil {
				return err
			}
			people, err := eval.LoadDataset(dataset)
			if err != nil {
				return err
			}
			var progress func(int, int)
			if isTerminal(os.Stderr) {
				progress = progressBar(cmd.ErrOrStderr())
			}
			vecs, failures := eval.EmbedDataset(e, people, imageio.DefaultLimits, progress)
			genuine, impostor, err := eval.Scores(vecs)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			images := 0
			for _, p := range people {
				images += len(p.Files)
			}
			sha := e.ModelSHA256()
			fmt.Fprintf(out, "engine %s (model %x)\ndataset %s: %d people, %d images, %d without a usable face\n",
				e.ID(), sha[:8], dataset, len(people), images, len(failures))
			for _, f := range failures {
				fmt.Fprintf(out, "  failed: %v\n", f.Err)
			}
			r, err := eval.Analyze(genuine, impostor)
			if err != nil {
				return err
			}
			if err := r.WriteText(out); err != nil {
				return err
			}
			if c, ok := e.(vectors.Calibrated); ok {
				th := c.Thresholds()
				fmt.Fprintf(out, "engine defaults: match %.4f (FMR %.2e, FNMR %.4f here), new-person %.4f (FNMR %.4f here)\n",
					th.Match, eval.FMR(sorted(impostor), float64(th.Match)), eval.FNMR(sorted(genuine), float64(th.Match)),
					th.New, eval.FNMR(sorted(genuine), float64(th.New)))
				if err := r.GalleryAt(impostor, float64(th.Match)).WriteText(out, r.Impostor.N); err != nil {
					return err
				}
			}
			if plotPath != "" {
				f, err := os.Create(plotPath)
				if err != nil {
					return err
				}
				if err := eval.WritePlot(f, r, genuine, impostor, e.ID()); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
				fmt.Fprintf(out, "plot written to %s\n", plotPath)
			}
			return nil
		},
	}
	engineFlag(cmd, &engine)
	cmd.Flags().StringVar(&dataset, "dataset", "", "folder with one sub-folder of images per person")
	cmd.Flags().StringVar(&plotPath, "plot", "", "write a PNG with score histograms and the ROC")
	return cmd
}

func sorted(s []float64) []float64 {
	c := append([]float64(nil), s...)
	slices.Sort(c)
	return c
}
