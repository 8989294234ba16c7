package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/facesign/facesign/client/page"
)

// pageFlags are the enrolment page's settings shared by "page build" and
// "parent --page": where the SDK files are and what the page trusts.
type pageFlags struct {
	sdkDir, api, policyHash, simRoot string
	pcrs                             []string
	simulator                        bool
}

func (f *pageFlags) config() (page.Config, error) {
	pins, err := parsePCRPins("--page-pcr", f.pcrs)
	if err != nil {
		return page.Config{}, err
	}
	c := page.Config{API: f.api, PCRs: pins}
	if f.policyHash != "" {
		if c.PolicyHash, err = hexFlagN("--page-policy-hash", f.policyHash, 32); err != nil {
			return page.Config{}, err
		}
	}
	if f.simulator {
		if f.simRoot != "" || len(pins) > 0 {
			return page.Config{}, errors.New("--simulator fetches the root from the API: not with --simulator-root or --page-pcr")
		}
		c.Simulator, c.FetchSimulatorRoot = true, true
	}
	if f.simRoot != "" {
		if c.RootsPEM, err = os.ReadFile(f.simRoot); err != nil {
			return page.Config{}, fmt.Errorf("--simulator-root: %w", err)
		}
		c.Simulator = true
	}
	return c, nil
}

func (f *pageFlags) site() (*page.Site, error) {
	c, err := f.config()
	if err != nil {
		return nil, &exitError{2, err}
	}
	a, err := page.LoadAssets(f.sdkDir)
	if err != nil {
		return nil, err
	}
	s, err := page.New(a, c)
	if errors.Is(err, page.ErrConfig) {
		return nil, &exitError{2, err}
	}
	return s, err
}

// exeDir is the directory of the running executable: "make build" puts
// bin/facesign beside bin/facesign.wasm and bin/wasm_exec.js.
func exeDir() string {
	exe, err := os.Executable()
	if err != nil {
		return "."
	}
	return filepath.Dir(exe)
}

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{Use: "page", Short: "The enrolment page: build it as static files"}
		var pf pageFlags
		var out string
		build := &cobra.Command{
			Use:   "build --out DIR [--api URL] --page-pcr N=HEX...",
			Short: "Write the enrolment page as static files (index.html, config.json, assets/, _headers)",
			Long: `build writes the enrolment page for hosting on any web server: index.html and config.json
(revalidated on every load), assets/ named by content hash (cache for a year) with .gz twins, and
_headers, the security and caching headers to configure on the server (docs/page.md). The page
calls the API at --api (default: its own origin; another origin must be allowed on the parent
with --cors-origin) and trusts only an enclave whose PCRs match --page-pcr; without pins it refuses.
--simulator-root makes a simulator page instead, --simulator one that fetches the simulator's root
from the API when it starts (a banner says so; "make page" without PAGE_FLAGS builds that one for
facesign sim at http://127.0.0.1:8080).`,
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if out == "" {
					return &exitError{2, errors.New("--out is required")}
				}
				s, err := pf.site()
				if err != nil {
					return err
				}
				if err := s.WriteDir(out); err != nil {
					return err
				}
				plain, gz := s.Weight()
				fmt.Fprintf(cmd.OutOrStdout(), "page written to %s: %d bytes, %d gzipped\n", out, plain, gz)
				return nil
			},
		}
		f := build.Flags()
		f.StringVar(&out, "out", "", "output directory")
		f.StringVar(&pf.sdkDir, "sdk", exeDir(), "directory with facesign.wasm and wasm_exec.js (make wasm)")
		f.StringVar(&pf.api, "api", "", "the parent's public URL when it is not the page's origin")
		f.StringArrayVar(&pf.pcrs, "page-pcr", nil, "pin a PCR of the enclave image, `N=HEX` (repeatable; required unless --simulator-root)")
		f.StringVar(&pf.policyHash, "page-policy-hash", "", "pin the exact policy (32 bytes of hex)")
		f.StringVar(&pf.simRoot, "simulator-root", "", "a simulator page trusting this root `PEM` (never for real identities)")
		f.BoolVar(&pf.simulator, "simulator", false, "a simulator page that fetches the simulator's root from --api when it starts (never for real identities)")
		cmd.AddCommand(build)
		return cmd
	})
}
