package eif

import (
	"fmt"
	"path"
	"strings"

	"github.com/facesign/facesign/eif/internal/cpio"
)

// Layout of the ramdisks the Nitro init (aws-nitro-enclaves-sdk-bootstrap
// init.c) expects, as nitro-cli's linuxkit step produces them.
const (
	// RootfsDir is where the application's root file system lives; init
	// chroots into it.
	RootfsDir = "rootfs"
	// CmdFile and EnvFile hold the argv and environment, one per line; init
	// reads and deletes them before it chroots.
	CmdFile = "cmd"
	EnvFile = "env"
	// DefaultBinaryPath is where AppRamdisk puts the enclave binary inside rootfs.
	DefaultBinaryPath = "/usr/local/bin/facesign-enclave"
)

// rootfsDirs are the mount points init needs inside rootfs (nitro-cli creates the same).
var rootfsDirs = []string{"dev", "proc", "run", "sys", "tmp", "var"}

// AppRamdisk describes the application ramdisk: one static binary as the
// enclave's whole root file system.
type AppRamdisk struct {
	Binary []byte   // the executable (build it with CGO_ENABLED=0 -trimpath -buildvcs=false)
	Path   string   // absolute path inside rootfs; "" means DefaultBinaryPath
	Args   []string // argv[1:]
	Env    []string // KEY=VALUE
	// MTime is every entry's mtime in seconds since the epoch; 0 is fine and
	// what reproducible builds usually want.
	MTime uint32
}

// Build returns the newc cpio archive (uncompressed): cmd, env, and rootfs/
// holding dev, proc, run, sys, tmp, var and the binary (mode 0755), all owned
// by 0:0 with mtime MTime, entries sorted.
func (a *AppRamdisk) Build() ([]byte, error) {
	if len(a.Binary) == 0 {
		return nil, fmt.Errorf("%w: empty enclave binary", ErrInput)
	}
	p := a.Path
	if p == "" {
		p = DefaultBinaryPath
	}
	if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
		return nil, fmt.Errorf("%w: binary path %q must be absolute and clean", ErrInput, p)
	}
	argv := append([]string{p}, a.Args...)
	cmd, err := lines("argument", argv, nil)
	if err != nil {
		return nil, err
	}
	env, err := lines("environment entry", a.Env, func(s string) error {
		if k, _, ok := strings.Cut(s, "="); !ok || k == "" {
			return fmt.Errorf("%w: environment entry %q is not KEY=VALUE", ErrInput, s)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	entries := []cpio.Entry{
		{Name: CmdFile, Mode: cpio.TypeReg | 0o644, Data: cmd},
		{Name: EnvFile, Mode: cpio.TypeReg | 0o644, Data: env},
		{Name: RootfsDir, Mode: cpio.TypeDir | 0o755},
		{Name: RootfsDir + p, Mode: cpio.TypeReg | 0o755, Data: a.Binary},
	}
	for _, d := range rootfsDirs {
		// init mounts proc, sysfs, devtmpfs and tmpfs over these; a binary
		// under them would be hidden.
		if p == "/"+d || (d != "var" && strings.HasPrefix(p, "/"+d+"/")) {
			return nil, fmt.Errorf("%w: binary path %q is on a mount point", ErrInput, p)
		}
		entries = append(entries, cpio.Entry{Name: RootfsDir + "/" + d, Mode: cpio.TypeDir | 0o755})
	}
	out, err := cpio.Write(entries, a.MTime)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	return out, nil
}

func lines(what string, items []string, check func(string) error) ([]byte, error) {
	var b strings.Builder
	for _, s := range items {
		if strings.ContainsAny(s, "\n\x00") {
			return nil, fmt.Errorf("%w: %s %q contains a newline or NUL", ErrInput, what, s)
		}
		if check != nil {
			if err := check(s); err != nil {
				return nil, err
			}
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	return []byte(b.String()), nil
}

// BootRamdisk returns the boot ramdisk (ramdisk[0], measured into PCR1): the
// Nitro init as /init and the NSM driver as /nsm.ko (both 0755) plus /dev,
// as newc cpio with mtime mtime. In production both come from
// aws-nitro-enclaves-cli's blobs; nsm may be nil (init then skips loading it).
func BootRamdisk(init, nsm []byte, mtime uint32) ([]byte, error) {
	if len(init) == 0 {
		return nil, fmt.Errorf("%w: empty init", ErrInput)
	}
	entries := []cpio.Entry{
		{Name: "dev", Mode: cpio.TypeDir | 0o755},
		{Name: "init", Mode: cpio.TypeReg | 0o755, Data: init},
	}
	if len(nsm) > 0 {
		entries = append(entries, cpio.Entry{Name: "nsm.ko", Mode: cpio.TypeReg | 0o755, Data: nsm})
	}
	out, err := cpio.Write(entries, mtime)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	return out, nil
}
