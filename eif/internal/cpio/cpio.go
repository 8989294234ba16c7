// Package cpio writes and reads the "newc" (SVR4, magic 070701) cpio format
// the Linux kernel unpacks as an initramfs.
//
// # Determinism
//
// [Write] output depends only on the entries and the one mtime it is given:
// entries are sorted by name, missing parent directories are added (mode
// 0755), inode numbers count up from 1 in that order, uid, gid, device
// numbers and checksums are 0, and the archive ends with TRAILER!!!. No
// compression.
//
// # Reading
//
// [Read] is strict and bounded by its input: it exists so that tests (and
// fuzzing) can check what [Write] produced.
package cpio

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// File type bits of Entry.Mode.
const (
	TypeMask uint32 = 0o170000
	TypeDir  uint32 = 0o040000
	TypeReg  uint32 = 0o100000
)

const (
	magic      = "070701"
	headerSize = 110
	trailer    = "TRAILER!!!"
	maxName    = 4096
	maxFile    = 1<<32 - 1
)

// Errors.
var (
	ErrEntry  = errors.New("cpio: invalid entry")
	ErrFormat = errors.New("cpio: malformed archive")
)

// Entry is one archive member: a regular file or a directory.
type Entry struct {
	Name string // relative, slash-separated, clean: "rootfs/usr/bin/x"
	Mode uint32 // type bits | permission bits, e.g. TypeReg|0o755
	Data []byte // file contents; empty for directories
}

// IsDir reports whether e is a directory.
func (e Entry) IsDir() bool { return e.Mode&TypeMask == TypeDir }

// Write returns the newc archive of entries with every mtime set to mtime
// (seconds since the Unix epoch).
func Write(entries []Entry, mtime uint32) ([]byte, error) {
	byName := make(map[string]Entry, len(entries))
	for _, e := range entries {
		if err := checkName(e.Name); err != nil {
			return nil, err
		}
		switch e.Mode & TypeMask {
		case TypeDir:
			if len(e.Data) != 0 {
				return nil, fmt.Errorf("%w: directory %q has data", ErrEntry, e.Name)
			}
		case TypeReg:
			if len(e.Data) > maxFile {
				return nil, fmt.Errorf("%w: %q is larger than 4 GiB", ErrEntry, e.Name)
			}
		default:
			return nil, fmt.Errorf("%w: %q: only regular files and directories (mode %o)", ErrEntry, e.Name, e.Mode)
		}
		if e.Mode&^(TypeMask|0o7777) != 0 {
			return nil, fmt.Errorf("%w: %q: mode %o", ErrEntry, e.Name, e.Mode)
		}
		if _, dup := byName[e.Name]; dup {
			return nil, fmt.Errorf("%w: duplicate %q", ErrEntry, e.Name)
		}
		byName[e.Name] = e
	}
	for _, e := range entries {
		for d := path.Dir(e.Name); d != "."; d = path.Dir(d) {
			p, ok := byName[d]
			if !ok {
				byName[d] = Entry{Name: d, Mode: TypeDir | 0o755}
			} else if !p.IsDir() {
				return nil, fmt.Errorf("%w: %q is a file but has children", ErrEntry, d)
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)

	var out bytes.Buffer
	for i, n := range names {
		e := byName[n]
		nlink := uint32(1)
		if e.IsDir() {
			nlink = 2
		}
		writeHeader(&out, uint32(i+1), e.Mode, nlink, mtime, uint32(len(e.Data)), n)
		out.Write(e.Data)
		pad(&out)
	}
	writeHeader(&out, 0, 0, 1, 0, 0, trailer)
	return out.Bytes(), nil
}

func writeHeader(b *bytes.Buffer, ino, mode, nlink, mtime, size uint32, name string) {
	fmt.Fprintf(b, "%s%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		magic, ino, mode, 0, 0, nlink, mtime, size, 0, 0, 0, 0, len(name)+1, 0)
	b.WriteString(name)
	b.WriteByte(0)
	pad(b)
}

func pad(b *bytes.Buffer) {
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
}

func checkName(n string) error {
	if n == "" || len(n) >= maxName || strings.HasPrefix(n, "/") || path.Clean(n) != n || n == "." ||
		n == ".." || strings.HasPrefix(n, "../") || strings.ContainsRune(n, 0) || n == trailer {
		return fmt.Errorf("%w: bad name %q", ErrEntry, n)
	}
	return nil
}

// Header is a decoded newc header, as returned by Read.
type Header struct {
	Ino, Mode, UID, GID, Nlink, Mtime uint32
	DevMajor, DevMinor                uint32
	RdevMajor, RdevMinor              uint32
	Check                             uint32
}

// Member is an entry as read back, with its full header.
type Member struct {
	Entry
	Header Header
}

// Read parses a newc archive up to and including its TRAILER!!! entry; only
// zero padding may follow. It allocates nothing beyond the members' names
// and slices of b.
func Read(b []byte) ([]Member, error) {
	var out []Member
	pos := 0
	for {
		if len(b)-pos < headerSize {
			return nil, fmt.Errorf("%w: truncated header at %d", ErrFormat, pos)
		}
		h := b[pos : pos+headerSize]
		if string(h[:6]) != magic {
			return nil, fmt.Errorf("%w: bad magic %q at %d", ErrFormat, h[:6], pos)
		}
		var f [13]uint32
		for i := range f {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				return nil, fmt.Errorf("%w: header field %d at %d: %v", ErrFormat, i, pos, err)
			}
			f[i] = uint32(v)
		}
		namesize, size := int(f[11]), int64(f[6])
		if namesize < 2 || namesize > maxName {
			return nil, fmt.Errorf("%w: name size %d at %d", ErrFormat, namesize, pos)
		}
		nameEnd := pos + headerSize + namesize
		if nameEnd > len(b) {
			return nil, fmt.Errorf("%w: truncated name at %d", ErrFormat, pos)
		}
		if b[nameEnd-1] != 0 || bytes.IndexByte(b[pos+headerSize:nameEnd-1], 0) >= 0 {
			return nil, fmt.Errorf("%w: name not NUL-terminated at %d", ErrFormat, pos)
		}
		name := string(b[pos+headerSize : nameEnd-1])
		dataStart := align4(nameEnd)
		if dataStart > len(b) || int64(len(b)-dataStart) < size {
			return nil, fmt.Errorf("%w: truncated data of %q", ErrFormat, name)
		}
		if name == trailer {
			rest := b[min(dataStart, len(b)):]
			if len(bytes.Trim(rest, "\x00")) != 0 {
				return nil, fmt.Errorf("%w: data after the trailer", ErrFormat)
			}
			return out, nil
		}
		hd := Header{Ino: f[0], Mode: f[1], UID: f[2], GID: f[3], Nlink: f[4], Mtime: f[5],
			DevMajor: f[7], DevMinor: f[8], RdevMajor: f[9], RdevMinor: f[10], Check: f[12]}
		end := dataStart + int(size)
		out = append(out, Member{Entry: Entry{Name: name, Mode: f[1], Data: b[dataStart:end:end]}, Header: hd})
		pos = align4(end)
		if pos > len(b) {
			return nil, fmt.Errorf("%w: truncated padding after %q", ErrFormat, name)
		}
	}
}

func align4(n int) int { return (n + 3) &^ 3 }
