package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/facesign/facesign/client"
	"github.com/facesign/facesign/client/capture"
	"github.com/facesign/facesign/client/demo"
	"github.com/facesign/facesign/client/loadtest"
	"github.com/facesign/facesign/enclave"
	"github.com/facesign/facesign/vectors"
	_ "github.com/facesign/facesign/vectors/faceengine" // the default engine, to pick frames as the enclave measures them
	"github.com/facesign/facesign/wire"
	"github.com/spf13/cobra"
)

// clientFlags are the flags every command that talks to a server shares.
type clientFlags struct {
	server         string
	trustSimulator bool
	trust          trustFlags
	policyHash     string
	engine         string
	maxEpsilon     float64
	tries          int
	timeout        time.Duration
}

func (f *clientFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.server, "server", "", "FaceSign server URL, e.g. http://127.0.0.1:8080 (required)")
	fl.BoolVar(&f.trustSimulator, "trust-simulator", false, "trust the simulator's attestation root fetched from the server (simulator only: it vouches for ANY simulated enclave)")
	f.trust.add(cmd, "required without --trust-simulator")
	fl.StringVar(&f.policyHash, "policy-hash", "", "pin the enclave policy's SHA-256 (hex)")
	fl.StringVar(&f.engine, "engine", "auto", `pin the face engine: "auto" = this build's engine id + model SHA-256, "none", or an engine name`)
	fl.Float64Var(&f.maxEpsilon, "max-epsilon", 0, "accept only a policy whose gallery-size threshold rule bounds a stranger's chance of being handed someone's wallet per attempt at this or less (e.g. 1e-6); 0: no pin")
	fl.IntVar(&f.tries, "max-challenges", 40, "how many challenges to ask for before giving up on matching recorded frames")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "overall timeout")
	_ = cmd.MarkFlagRequired("server")
}

// newClient builds a verified-attestation client from the flags, warning
// loudly on stderr about every trust shortcut.
func (f *clientFlags) newClient(ctx context.Context, stderr io.Writer) (*client.Client, error) {
	opts := client.Options{Now: time.Now, Rand: rand.Reader, HTTPClient: nil, MaxEpsilon: f.maxEpsilon}
	var err error
	if opts.Roots, opts.PCRs, err = f.trust.parse(); err != nil {
		return nil, err
	}
	if f.policyHash != "" {
		if opts.PolicyHash, err = hexFlagN("--policy-hash", f.policyHash, sha256.Size); err != nil {
			return nil, err
		}
	}
	switch f.engine {
	case "none":
	case "auto", "":
		name, sum, err := buildEngine("")
		if err != nil {
			fmt.Fprintf(stderr, "warning: not pinning the face engine: %v\n", err)
		} else {
			opts.Engine, opts.ModelSHA256 = name, sum
		}
	default:
		name, sum, err := buildEngine(f.engine)
		if err != nil {
			return nil, err
		}
		opts.Engine, opts.ModelSHA256 = name, sum
	}
	if f.trustSimulator {
		root, err := client.FetchSimulatorRoot(ctx, nil, f.server)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stderr, "WARNING: --trust-simulator: trusting the simulator root %q fetched from %s; any simulated enclave is accepted. Never use this for real identities.\n", root.Subject.CommonName, f.server)
		opts.Roots = append(opts.Roots, root)
		if len(opts.PCRs) == 0 {
			fmt.Fprintln(stderr, "WARNING: no --pcr pins: accepting any enclave image the simulator root vouches for.")
			opts.AnyMeasurement = true
		}
	} else if len(opts.PCRs) == 0 {
		return nil, errors.New("pin the enclave image you trust with --pcr 0=HEX --pcr 1=HEX --pcr 2=HEX (see facesign eif describe)")
	}
	return client.New(f.server, opts)
}

// connect builds the client from the flags and fetches and verifies the
// enclave's attestation.
func (f *clientFlags) connect(ctx context.Context, stderr io.Writer) (*client.Client, *client.Attestation, error) {
	c, err := f.newClient(ctx, stderr)
	if err != nil {
		return nil, nil, err
	}
	a, err := c.Attest(ctx)
	if err != nil {
		return nil, nil, err
	}
	return c, a, nil
}

// buildEngine returns the id and model hash of this build's face engine:
// name, or the enclave's default engine when name is empty.
func buildEngine(name string) (string, []byte, error) {
	if name == "" {
		name = enclave.DefaultEngine
	}
	e, err := vectors.Open(name)
	if err != nil {
		return "", nil, err
	}
	sum := e.ModelSHA256()
	return e.ID(), sum[:], nil
}

// receiptJSON is how commands print a receipt: its verified fields and the
// signed CBOR an issuer needs (base64).
type receiptJSON struct {
	UniqueID   string `json:"unique_id"`
	Status     string `json:"status"`
	IssuedAt   string `json:"issued_at"`
	PolicyHash string `json:"policy_hash"`
	Signed     string `json:"signed_cbor"`
}

type resultJSON struct {
	Status     string       `json:"status"`
	UniqueID   string       `json:"unique_id,omitempty"`
	EntropyHex string       `json:"entropy_hex,omitempty"`
	Reason     string       `json:"reason,omitempty"`
	Receipt    *receiptJSON `json:"receipt,omitempty"`
}

func toJSON(res *client.Result, showSecrets bool) (resultJSON, error) {
	signed, err := wire.Marshal(res.SignedReceipt)
	if err != nil {
		return resultJSON{}, err
	}
	out := resultJSON{
		Status:   string(res.Status),
		UniqueID: res.UniqueID,
		Receipt: &receiptJSON{
			UniqueID: res.Receipt.UniqueID, Status: string(res.Receipt.Status),
			IssuedAt:   res.Receipt.IssuedAt().Format(time.RFC3339Nano),
			PolicyHash: hex.EncodeToString(res.Receipt.PolicyHash),
			Signed:     base64.StdEncoding.EncodeToString(signed),
		},
	}
	if showSecrets && res.Entropy != nil {
		out.EntropyHex = hex.EncodeToString(res.Entropy)
	}
	return out, nil
}

// loadFrames reads FRAME... or one DIR. A directory is analysed with the
// engine so frames can be picked per challenge.
func loadFrames(args []string) (dir []capture.Frame, files [][]byte, err error) {
	if len(args) == 1 {
		if fi, err := os.Stat(args[0]); err == nil && fi.IsDir() {
			frames, err := capture.ReadDir(args[0])
			if err != nil {
				return nil, nil, err
			}
			return frames, nil, nil
		}
	}
	for _, a := range args {
		b, err := os.ReadFile(a)
		if err != nil {
			return nil, nil, err
		}
		files = append(files, b)
	}
	return nil, files, nil
}

// analyzer measures recorded frames with the engine the attested policy
// names (which must be the same weights as this build's), answering from the
// cache file first when one is given and made with that engine.
func analyzer(policy wire.Policy, cacheFile string, stderr io.Writer) (capture.Analyzer, error) {
	e, err := vectors.Open(policy.Engine)
	if err != nil {
		return nil, fmt.Errorf("picking frames needs the enclave's engine locally: %w", err)
	}
	sum := e.ModelSHA256()
	if string(sum[:]) != string(policy.ModelSHA256) {
		return nil, fmt.Errorf("picking frames needs the enclave's engine locally: %s has other weights here", policy.Engine)
	}
	live := capture.EngineAnalyzer(e)
	if cacheFile == "" {
		return live, nil
	}
	a, err := capture.LoadAnalysis(cacheFile)
	if err == nil {
		err = a.For(policy.Engine, policy.ModelSHA256)
	}
	if err != nil {
		fmt.Fprintf(stderr, "warning: not using the frame analysis cache: %v\n", err)
		return live, nil
	}
	return a.Analyzer(live), nil
}

// cacheBeside returns dir/analysis.json or dir/../analysis.json if one exists.
func cacheBeside(dir string) string {
	for _, p := range []string{filepath.Join(dir, "analysis.json"), filepath.Join(dir, "..", "analysis.json")} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func faceCommand(use, short string, route string) *cobra.Command {
	var (
		cf          clientFlags
		showSecrets bool
		actions     string
		receiptOut  string
		attOut      string
	)
	cmd := &cobra.Command{
		Use:   use + " --server URL [flags] FRAME...|DIR",
		Short: short,
		Long: short + `.

Verifies the enclave's attestation (root, PCR pins, nonce, time, policy pins), asks for a
liveness challenge, seals the frames to the attested key and prints the enclave's verified
answer as JSON: {"status","unique_id","entropy_hex" (only with --show-secrets),"receipt"}.
A refusal prints {"status":"rejected","reason":CODE} and exits with status 2.

Given a DIR of recorded frames, the frames that perform the challenge's actions are picked
with the face engine (--challenge-actions auto). That is a replay of a recording, for demos
and tests only: a real app films the user live. Given FRAME files, they are sent as they are;
--challenge-actions LIST (comma-separated) says which actions they perform, and challenges
are requested until one asks for exactly those.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), cf.timeout)
			defer cancel()
			c, a, err := cf.connect(ctx, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			dir, files, err := loadFrames(args)
			if err != nil {
				return err
			}
			op := map[string]capture.Op{wire.RouteEnroll: c.Enroll, wire.RouteLogin: c.Login, wire.RouteDelete: c.Delete}[route]
			var res *client.Result
			switch {
			case dir != nil && actions == "auto":
				var an capture.Analyzer
				if an, err = analyzer(a.Binding.Policy, cacheBeside(args[0]), cmd.ErrOrStderr()); err != nil {
					return err
				}
				capture.Analyze(an, dir)
				res, err = capture.Perform(ctx, c, op, dir, cf.tries)
				if errors.Is(err, capture.ErrNoUsableChallenge) {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: %v; sending the recording's frames as they are for the enclave to judge\n", err)
					res, err = capture.SubmitAll(ctx, c, op, dir)
				}
			case dir != nil:
				return errors.New("--challenge-actions LIST needs FRAME files, not a directory")
			case actions == "auto":
				res, err = capture.PerformFixed(ctx, c, op, files, nil, 1)
			default:
				res, err = capture.PerformFixed(ctx, c, op, files, strings.Split(actions, ","), cf.tries)
			}
			var rej *client.RejectedError
			if errors.As(err, &rej) {
				b, _ := json.Marshal(resultJSON{Status: string(wire.StatusRejected), Reason: string(rej.Code)})
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return &exitError{2, err}
			}
			if err != nil {
				return err
			}
			if receiptOut != "" {
				signed, err := wire.Marshal(res.SignedReceipt)
				if err != nil {
					return err
				}
				if err := os.WriteFile(receiptOut, signed, 0o600); err != nil {
					return err
				}
			}
			if attOut != "" {
				if err := os.WriteFile(attOut, a.Raw, 0o600); err != nil {
					return err
				}
			}
			out, err := toJSON(res, showSecrets)
			if err != nil {
				return err
			}
			b, _ := json.Marshal(out)
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return nil
		},
	}
	cf.add(cmd)
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print the entropy (the wallet secret) as entropy_hex")
	cmd.Flags().StringVar(&actions, "challenge-actions", "auto", `"auto", or the comma-separated actions the given FRAME files perform`)
	cmd.Flags().StringVar(&receiptOut, "receipt-out", "", "write the signed receipt (CBOR) to this file, for issuers")
	cmd.Flags().StringVar(&attOut, "attestation-out", "", "write the verified attestation response (CBOR) to this file, for issuers")
	return cmd
}

func init() {
	register(func() *cobra.Command {
		return faceCommand("enroll", "Enrol a face, or find it already enrolled", wire.RouteEnroll)
	})
	register(func() *cobra.Command {
		return faceCommand("login", "Log in with a face: the enrolled unique ID and entropy, or not_found", wire.RouteLogin)
	})
	register(func() *cobra.Command {
		return faceCommand("delete", "Delete an enrolled face and its entropy (right to be forgotten)", wire.RouteDelete)
	})
}

func init() {
	register(func() *cobra.Command {
		var (
			cf         clientFlags
			recordings string
		)
		cmd := &cobra.Command{
			Use:   "demo --server URL [--trust-simulator]",
			Short: "Run the FaceSign story against a running stack with real recordings",
			Long: `demo plays the story with real recordings and prints one JSON line per step
{"step","status","unique_id",...}: person A enrols (new), A again from other frames (existing,
same ID), person B enrols (new), B logs in from another recording (existing), B deletes
(deleted), B logs in again (not_found), a printed photo is replayed (rejected). It exits
non-zero if any step's outcome is not the expected one.

Frames are picked from the recordings to match each challenge: a replay, which a demo can do
and a real app must not (it films the user live).`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ctx, cancel := context.WithTimeout(cmd.Context(), cf.timeout)
				defer cancel()
				dir := recordings
				if dir == "" {
					var err error
					if dir, err = demo.FindRecordings("client/testdata/liveness", "enclave/testdata/liveness"); err != nil {
						return fmt.Errorf("%w (run from the repository root or pass --recordings)", err)
					}
				}
				recs, err := demo.LoadRecordings(dir)
				if err != nil {
					return err
				}
				c, a, err := cf.connect(ctx, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				an, err := analyzer(a.Binding.Policy, filepath.Join(dir, "analysis.json"), cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				steps, err := demo.Run(ctx, c, recs, demo.Options{Analyzer: an, Tries: cf.tries})
				for _, s := range steps {
					b, _ := json.Marshal(s)
					fmt.Fprintln(cmd.OutOrStdout(), string(b))
				}
				if err != nil {
					return &exitError{1, err}
				}
				return nil
			},
		}
		cf.add(cmd)
		cmd.Flags().StringVar(&recordings, "recordings", "", "directory holding the recordings (default: the repository's testdata)")
		return cmd
	})
}

func init() {
	register(func() *cobra.Command {
		var (
			cf        clientFlags
			recording string
			levels    []int
			perLevel  int
			warmup    int
			op        string
			sessions  int
		)
		cmd := &cobra.Command{
			Use:   "loadtest --server URL [--trust-simulator] --recording DIR",
			Short: "Measure enrol latency (p50/p95/p99) and throughput of a running stack",
			Long: `loadtest enrols the person in --recording over and over (each request with its own challenge
and frames picked to answer it) at each --concurrency level and prints one JSON line per level:
latency percentiles of the sealed enrol request (challenge excluded) and enrolments per second.
The first enrolment makes the person known; the rest are "existing" answers that search the whole
gallery. With --op login it logs in instead (after the warm-up enrolment). Behind a fleet's front
(facesign sim --enclaves N) give each worker its own session with --sessions, or every request goes
to the one enclave that session attested. Preload a synthetic gallery into the simulator with its
enclave's preload option (--enclave-arg=--preload-synthetic=N), and past the engine's capacity add
--enclave-arg=--fixed-thresholds, or the gallery-size rule enrols nobody.`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				ctx, cancel := context.WithTimeout(cmd.Context(), cf.timeout)
				defer cancel()
				frames, err := capture.ReadDir(recording)
				if err != nil {
					return err
				}
				c, a, err := cf.connect(ctx, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				an, err := analyzer(a.Binding.Policy, cacheBeside(recording), cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				capture.Analyze(an, frames)
				if op != "enroll" && op != "login" {
					return &exitError{2, fmt.Errorf("--op %q: want enroll or login", op)}
				}
				var clients []*client.Client
				for range sessions {
					sc, err := cf.newClient(ctx, cmd.ErrOrStderr())
					if err != nil {
						return err
					}
					clients = append(clients, sc)
				}
				if warmup > 0 {
					if _, err := loadtest.Run(ctx, c, loadtest.Config{Concurrency: 1, Requests: warmup, Frames: frames, Tries: cf.tries, Now: time.Now}); err != nil {
						return err
					}
				}
				for _, n := range levels {
					st, err := loadtest.Run(ctx, c, loadtest.Config{Concurrency: n, Requests: max(perLevel, n), Frames: frames, Tries: cf.tries, Now: time.Now,
						Login: op == "login", Clients: clients})
					if err != nil {
						return err
					}
					fmt.Fprintln(cmd.ErrOrStderr(), st.String())
					b, _ := json.Marshal(st)
					fmt.Fprintln(cmd.OutOrStdout(), string(b))
				}
				return nil
			},
		}
		cf.add(cmd)
		cmd.Flags().StringVar(&recording, "recording", "", "directory of one person's recorded frames (required)")
		cmd.Flags().IntSliceVar(&levels, "concurrency", []int{1, 8, 32}, "concurrency levels")
		cmd.Flags().IntVar(&perLevel, "requests", 64, "enrolments per level (at least the concurrency)")
		cmd.Flags().IntVar(&warmup, "warmup", 1, "enrolments before measuring (the first one enrols the person)")
		cmd.Flags().StringVar(&op, "op", "enroll", "what to measure: enroll (existing after the first) or login")
		cmd.Flags().IntVar(&sessions, "sessions", 0, "client sessions (attestations) the workers share round-robin; 0: one for all. Behind a fleet's front each session is served by the enclave it attested: use one per worker")
		_ = cmd.MarkFlagRequired("recording")
		return cmd
	})
}

func init() {
	register(func() *cobra.Command {
		var out, engine string
		cmd := &cobra.Command{
			Use:    "analyze --out FILE DIR...",
			Short:  "Measure recorded frames with the face engine and write a cache for demo and tests",
			Hidden: true,
			Long: `analyze runs the face engine over every JPEG/PNG in the given directories and writes
faces, yaw, mouth opening and the embedding of each frame, keyed by the frame's SHA-256, to
--out. facesign demo, loadtest and the end-to-end tests read it so a slow CPU engine measures
each recorded frame once. Regenerate it whenever the engine's weights change:

  facesign analyze --out client/testdata/liveness/analysis.json client/testdata/liveness/*/`,
			Args: cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				e, err := vectors.Open(engine)
				if err != nil {
					return err
				}
				var all [][]byte
				for _, d := range args {
					fs, err := capture.ReadDir(d)
					if err != nil {
						return err
					}
					for _, f := range fs {
						all = append(all, f.Data)
					}
				}
				a, err := capture.NewAnalysis(e, all)
				if err != nil {
					return err
				}
				return a.Save(out)
			},
		}
		cmd.Flags().StringVar(&out, "out", "", "cache file to write (required)")
		cmd.Flags().StringVar(&engine, "engine", enclave.DefaultEngine, "registered face engine (the enclave's default unless told)")
		_ = cmd.MarkFlagRequired("out")
		return cmd
	})
}
