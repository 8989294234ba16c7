package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/facesign/facesign/eif"
	"github.com/spf13/cobra"
)

func init() {
	register(func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "eif",
			Short: "Build, describe, measure and verify Nitro Enclave Image Files (no Docker, no nitro-cli)",
		}
		cmd.AddCommand(eifDescribeCmd(), eifPCRsCmd(), eifVerifyCmd(), eifBuildCmd(), eifRamdiskCmd(), eifBootRamdiskCmd())
		return cmd
	})
}

// openEIF reads and parses an image file.
func openEIF(path string) (*eif.Image, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	im, err := eif.Read(f, st.Size(), nil)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return im, f.Close, nil
}

func eifDescribeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "describe FILE",
		Short: "Print the JSON nitro-cli describe-eif prints",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			im, closeFn, err := openEIF(args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			out, err := im.Describe()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", out)
			return err
		},
	}
}

func eifPCRsCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "pcrs FILE",
		Short: "Print PCR0, PCR1, PCR2 (and PCR8 for signed images)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			im, closeFn, err := openEIF(args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			return printMeasurements(cmd.OutOrStdout(), im.Measurements(), asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"Measurements": {...}} as nitro-cli build-enclave does`)
	return c
}

func printMeasurements(w io.Writer, m eif.Measurements, asJSON bool) error {
	if asJSON {
		meas := map[string]string{"HashAlgorithm": eif.HashAlgorithm, "PCR0": m.PCR0.String(), "PCR1": m.PCR1.String(), "PCR2": m.PCR2.String()}
		if m.Signed {
			meas["PCR8"] = m.PCR8.String()
		}
		b, err := json.MarshalIndent(map[string]any{"Measurements": meas}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(w, "PCR0 %s\nPCR1 %s\nPCR2 %s\n", m.PCR0, m.PCR1, m.PCR2)
	if err == nil && m.Signed {
		_, err = fmt.Fprintf(w, "PCR8 %s\n", m.PCR8)
	}
	return err
}

func eifVerifyCmd() *cobra.Command {
	var pins [9]string
	var at string
	c := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check the CRC, the signature (if any) and pinned PCR values; exit 2 on a mismatch",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			want := map[int][]byte{}
			for i, s := range pins {
				if s == "" {
					continue
				}
				v, err := parsePCRValue(i, strings.TrimSpace(s))
				if err != nil {
					return fmt.Errorf("--pcr%d: %w", i, err)
				}
				want[i] = v
			}
			now, err := timeFlagOrNow("--time", at)
			if err != nil {
				return err
			}
			im, closeFn, err := openEIF(args[0])
			if err != nil {
				return err
			}
			defer closeFn()
			if err := im.Verify(now); err != nil {
				return &exitError{2, err}
			}
			got := im.Measurements().Map()
			for _, i := range slices.Sorted(maps.Keys(want)) {
				w := want[i]
				g, ok := got[i]
				if !ok {
					return &exitError{2, fmt.Errorf("PCR%d pinned but the image has none (unsigned)", i)}
				}
				if !bytes.Equal(g, w) {
					return &exitError{2, fmt.Errorf("PCR%d is %x, pinned %x", i, g, w)}
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), "OK")
			return nil
		},
	}
	for _, i := range []int{0, 1, 2, 8} {
		c.Flags().StringVar(&pins[i], fmt.Sprintf("pcr%d", i), "", fmt.Sprintf("expected PCR%d (hex)", i))
	}
	c.Flags().StringVar(&at, "time", "", "verification time for the signing certificate (RFC 3339 or Unix seconds; default now)")
	return c
}

func eifBuildCmd() *cobra.Command {
	var (
		kernel, kernelConfig, cmdline, cmdlineFile, name, version string
		buildTime, arch, signCert, signKey, metadata, out         string
		ramdisks                                                  []string
		asJSON                                                    bool
	)
	c := &cobra.Command{
		Use:   "build --kernel FILE --cmdline STRING --ramdisk FILE [--ramdisk FILE]... -o FILE",
		Short: "Build an EIF from a kernel, its command line and ramdisks (boot ramdisk first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kernel == "" || len(ramdisks) == 0 || out == "" {
				return errors.New("--kernel, --ramdisk and -o are required")
			}
			if (cmdline == "") == (cmdlineFile == "") {
				return errors.New("give exactly one of --cmdline and --cmdline-file")
			}
			if (signCert == "") != (signKey == "") {
				return errors.New("--sign-cert and --sign-key go together")
			}
			in := &eif.Input{Name: name, Version: version, BuildTool: "facesign", BuildToolVersion: toolVersion()}
			var err error
			if in.Kernel, err = os.ReadFile(kernel); err != nil {
				return err
			}
			in.Cmdline = cmdline
			if cmdlineFile != "" {
				b, err := os.ReadFile(cmdlineFile)
				if err != nil {
					return err
				}
				in.Cmdline = strings.TrimRight(string(b), "\n")
			}
			for _, r := range ramdisks {
				b, err := os.ReadFile(r)
				if err != nil {
					return err
				}
				in.Ramdisks = append(in.Ramdisks, b)
			}
			in.OperatingSystem, in.KernelVersion = "Unknown", "Unknown"
			if kernelConfig != "" {
				b, err := os.ReadFile(kernelConfig)
				if err != nil {
					return err
				}
				in.OperatingSystem, in.KernelVersion = eif.KernelInfo(b)
			}
			switch arch {
			case "x86_64", "amd64":
				in.Arch = eif.ArchX86_64
			case "aarch64", "arm64":
				in.Arch = eif.ArchAArch64
			default:
				return fmt.Errorf("--arch %q: want x86_64 or aarch64", arch)
			}
			switch {
			case buildTime != "":
				in.BuildTime, err = parseTimeFlag("--build-time", buildTime)
			case os.Getenv("SOURCE_DATE_EPOCH") != "":
				in.BuildTime, err = parseTimeFlag("SOURCE_DATE_EPOCH", os.Getenv("SOURCE_DATE_EPOCH"))
			default:
				in.BuildTime = time.Now()
				fmt.Fprintln(cmd.ErrOrStderr(), "note: no --build-time or SOURCE_DATE_EPOCH: using the current time (metadata only; PCRs are unaffected)")
			}
			if err != nil {
				return err
			}
			if metadata != "" {
				if in.CustomMetadata, err = os.ReadFile(metadata); err != nil {
					return err
				}
			}
			if signCert != "" {
				c, err := os.ReadFile(signCert)
				if err != nil {
					return err
				}
				k, err := os.ReadFile(signKey)
				if err != nil {
					return err
				}
				if in.Signer, err = eif.NewSigner(c, k); err != nil {
					return err
				}
			}
			var m eif.Measurements
			if err := writeFileAtomic(out, func(w io.Writer) error {
				var err error
				m, err = eif.Build(w, in)
				return err
			}); err != nil {
				return err
			}
			return printMeasurements(cmd.OutOrStdout(), m, asJSON)
		},
	}
	f := c.Flags()
	f.StringVar(&kernel, "kernel", "", "kernel image (bzImage / Image)")
	f.StringVar(&kernelConfig, "kernel-config", "", "kernel .config, for OperatingSystem and KernelVersion in the metadata")
	f.StringVar(&cmdline, "cmdline", "", "kernel command line")
	f.StringVar(&cmdlineFile, "cmdline-file", "", "file holding the kernel command line (trailing newlines dropped)")
	f.StringArrayVar(&ramdisks, "ramdisk", nil, "ramdisk (repeat; the first is the boot ramdisk, measured into PCR1)")
	f.StringVar(&name, "name", "", "ImageName in the metadata")
	f.StringVar(&version, "version", "", "ImageVersion in the metadata")
	f.StringVar(&buildTime, "build-time", "", "BuildTime (RFC 3339 or Unix seconds; default $SOURCE_DATE_EPOCH)")
	f.StringVar(&arch, "arch", "x86_64", "x86_64 or aarch64")
	f.StringVar(&metadata, "metadata", "", "JSON file for CustomMetadata")
	f.StringVar(&signCert, "sign-cert", "", "PEM signing certificate (adds PCR8)")
	f.StringVar(&signKey, "sign-key", "", "PEM ECDSA private key for --sign-cert")
	f.StringVarP(&out, "output", "o", "", "output EIF")
	f.BoolVar(&asJSON, "json", false, `print {"Measurements": {...}} as nitro-cli build-enclave does`)
	return c
}

func eifRamdiskCmd() *cobra.Command {
	var binary, path, out string
	var args, env []string
	var mtime uint32
	c := &cobra.Command{
		Use:   "ramdisk --binary FILE -o FILE",
		Short: "Build the application ramdisk (newc cpio: rootfs/ with the binary, cmd, env) from a static binary",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if binary == "" || out == "" {
				return errors.New("--binary and -o are required")
			}
			b, err := os.ReadFile(binary)
			if err != nil {
				return err
			}
			rd, err := (&eif.AppRamdisk{Binary: b, Path: path, Args: args, Env: env, MTime: mtime}).Build()
			if err != nil {
				return err
			}
			return writeBytesAtomic(out, rd)
		},
	}
	f := c.Flags()
	f.StringVar(&binary, "binary", "", "the enclave executable (static)")
	f.StringVar(&path, "path", eif.DefaultBinaryPath, "its path inside the enclave's root file system")
	f.StringArrayVar(&args, "arg", nil, "argument passed to the binary (repeat)")
	f.StringArrayVar(&env, "env", nil, "KEY=VALUE environment entry (repeat)")
	f.Uint32Var(&mtime, "mtime", 0, "mtime of every entry (seconds since the epoch)")
	f.StringVarP(&out, "output", "o", "", "output ramdisk")
	return c
}

func eifBootRamdiskCmd() *cobra.Command {
	var initPath, nsm, out string
	var mtime uint32
	c := &cobra.Command{
		Use:   "bootramdisk --init FILE [--nsm FILE] -o FILE",
		Short: "Build the boot ramdisk (newc cpio: dev/, init, nsm.ko) from the Nitro init and NSM driver",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if initPath == "" || out == "" {
				return errors.New("--init and -o are required")
			}
			ib, err := os.ReadFile(initPath)
			if err != nil {
				return err
			}
			var nb []byte
			if nsm != "" {
				if nb, err = os.ReadFile(nsm); err != nil {
					return err
				}
			}
			rd, err := eif.BootRamdisk(ib, nb, mtime)
			if err != nil {
				return err
			}
			return writeBytesAtomic(out, rd)
		},
	}
	f := c.Flags()
	f.StringVar(&initPath, "init", "", "the init executable (aws-nitro-enclaves-cli blobs/<arch>/init)")
	f.StringVar(&nsm, "nsm", "", "the NSM kernel module (blobs/<arch>/nsm.ko)")
	f.Uint32Var(&mtime, "mtime", 0, "mtime of every entry (seconds since the epoch)")
	f.StringVarP(&out, "output", "o", "", "output ramdisk")
	return c
}

func toolVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// writeBytesAtomic writes b to path with [writeFileAtomic].
func writeBytesAtomic(path string, b []byte) error {
	return writeFileAtomic(path, func(w io.Writer) error { _, err := w.Write(b); return err })
}

// writeFileAtomic writes through a temporary file in the target's directory
// and renames it into place, so a failure never leaves a partial file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
