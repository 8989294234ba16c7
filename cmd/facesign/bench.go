package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/facesign/facesign/bench/searchbench"
	"github.com/facesign/facesign/vectors"
	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		bench := &cobra.Command{
			Use:   "bench",
			Short: "Measure FaceSign's hot paths",
		}
		bench.AddCommand(benchSearchCmd(), benchDataCmd())
		return bench
	})
}

func benchSearchCmd() *cobra.Command {
	var c searchbench.Config
	var typ string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Time 1:N gallery search on random unit vectors",
		Long: "Builds a gallery of --n random unit vectors (seeded, reproducible), then times\n" +
			"Search (--queries 1) or one SearchBatch over all queries, and prints the median\n" +
			"ms per query, GB/s scanned and comparisons/s, beside the bandwidth of a plain\n" +
			"streaming read over the same memory in the same run.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := vectors.ParseGalleryType(typ)
			if err != nil {
				return &exitError{2, err}
			}
			c.Type = t
			r, err := searchbench.Run(c)
			if err != nil {
				return &exitError{2, err}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(r)
			}
			fmt.Fprintf(out, "n=%d dim=%d type=%s queries=%d threads=%d k=%d reps=%d\n",
				r.N, r.Dim, r.Type, r.Queries, r.Threads, r.K, r.Reps)
			fmt.Fprintf(out, "ms/query          %.4f (pass median %.3f ms, best %.3f ms)\n", r.MsPerQuery, r.MsPerPass, r.MsPerPassMin)
			fmt.Fprintf(out, "GB/s scanned      %.2f\n", r.GBPerS)
			fmt.Fprintf(out, "comparisons/s     %.3g\n", r.ComparisonsPerS)
			fmt.Fprintf(out, "streaming read    %.2f GB/s (search reaches %.0f%% of it)\n", r.ReadGBPerS, r.PctOfRead)
			if r.CPUMsPerPass > 0 {
				fmt.Fprintf(out, "cpu time/pass     %.3f ms (streaming read %.3f ms), all threads\n", r.CPUMsPerPass, r.CPUMsRead)
			}
			fmt.Fprintf(out, "bytes/identity    %d (scanned %d per pass)\n", r.BytesPerEntry, r.ScanBytes)
			if r.Type == "int8" {
				fmt.Fprintf(out, "re-ranked/query   %d, certified second passes %d\n", r.Reranked, r.Fallbacks)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&c.N, "n", 1_000_000, "gallery size")
	f.IntVar(&c.Dim, "dim", 192, "vector length")
	f.StringVar(&typ, "type", "f32", "storage: f32 or int8")
	f.IntVar(&c.Queries, "queries", 1, "queries per pass (1: Search, more: one SearchBatch)")
	f.IntVar(&c.Threads, "threads", 0, "goroutines per search (0: GOMAXPROCS)")
	f.IntVar(&c.K, "k", 10, "results per query")
	f.IntVar(&c.Reps, "reps", 7, "timed repetitions; the median is reported")
	f.Uint64Var(&c.Seed, "seed", 1, "data seed (queries use seed+1)")
	f.IntVar(&c.Rerank, "rerank", 0, "int8 re-rank depth (0: default)")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func benchDataCmd() *cobra.Command {
	var n, dim, nq int
	var seed uint64
	var base, queries string
	cmd := &cobra.Command{
		Use:   "data",
		Short: "Write the benchmark's gallery and queries as NumPy .npy files",
		Long: "Writes exactly the vectors `facesign bench search` uses for the same --n, --dim,\n" +
			"--queries and --seed, so that other libraries (FAISS) can be timed on them.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n <= 0 || dim <= 0 || nq <= 0 {
				return &exitError{2, fmt.Errorf("%w: n, dim and queries must be positive", searchbench.ErrConfig)}
			}
			bf, err := os.Create(base)
			if err != nil {
				return err
			}
			defer bf.Close()
			qf, err := os.Create(queries)
			if err != nil {
				return err
			}
			defer qf.Close()
			if err := searchbench.WriteData(bf, qf, n, dim, nq, seed); err != nil {
				return err
			}
			if err := bf.Close(); err != nil {
				return err
			}
			return qf.Close()
		},
	}
	f := cmd.Flags()
	f.IntVar(&n, "n", 1_000_000, "gallery size")
	f.IntVar(&dim, "dim", 192, "vector length")
	f.IntVar(&nq, "queries", 64, "number of queries")
	f.Uint64Var(&seed, "seed", 1, "data seed (queries use seed+1)")
	f.StringVar(&base, "base", "base.npy", "gallery output file")
	f.StringVar(&queries, "query-file", "queries.npy", "queries output file")
	return cmd
}
