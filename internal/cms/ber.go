package cms

import (
	"errors"
	"fmt"
)

// ErrMalformed reports input that is not well-formed BER, or not the
// EnvelopedData shape this package reads.
var ErrMalformed = errors.New("cms: malformed message")

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 16

// element is one BER TLV. For constructed elements children holds the
// parsed contents; for primitive ones value does.
type element struct {
	class       byte // 0 universal, 1 application, 2 context, 3 private
	constructed bool
	tag         int
	value       []byte
	children    []element
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// parseBER parses exactly one element filling data.
func parseBER(data []byte) (element, error) {
	e, rest, err := parseElement(data, 0)
	if err != nil {
		return element{}, err
	}
	if len(rest) != 0 {
		return element{}, malformed("%d trailing bytes", len(rest))
	}
	return e, nil
}

func parseElement(data []byte, depth int) (element, []byte, error) {
	if depth > maxDepth {
		return element{}, nil, malformed("nested deeper than %d", maxDepth)
	}
	if len(data) < 2 {
		return element{}, nil, malformed("truncated header")
	}
	b := data[0]
	e := element{class: b >> 6, constructed: b&0x20 != 0, tag: int(b & 0x1f)}
	i := 1
	if e.tag == 0x1f { // high tag number form
		e.tag = 0
		for {
			if i >= len(data) || i > 4 {
				return element{}, nil, malformed("bad tag")
			}
			c := data[i]
			i++
			e.tag = e.tag<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(data) {
		return element{}, nil, malformed("truncated length")
	}
	l := data[i]
	i++
	switch {
	case l == 0x80: // indefinite length: constructed only, ends with 00 00
		if !e.constructed {
			return element{}, nil, malformed("indefinite length on a primitive element")
		}
		rest := data[i:]
		for {
			if len(rest) < 2 {
				return element{}, nil, malformed("missing end-of-contents")
			}
			if rest[0] == 0 && rest[1] == 0 {
				return e, rest[2:], nil
			}
			c, r, err := parseElement(rest, depth+1)
			if err != nil {
				return element{}, nil, err
			}
			e.children = append(e.children, c)
			rest = r
		}
	case l&0x80 == 0:
		return finish(e, data[i:], int(l), depth)
	default:
		n := int(l & 0x7f)
		if n > 4 || i+n > len(data) {
			return element{}, nil, malformed("bad length")
		}
		size := 0
		for _, c := range data[i : i+n] {
			size = size<<8 | int(c)
		}
		return finish(e, data[i+n:], size, depth)
	}
}

func finish(e element, data []byte, size, depth int) (element, []byte, error) {
	if size < 0 || size > len(data) {
		return element{}, nil, malformed("length %d exceeds the %d bytes left", size, len(data))
	}
	body, rest := data[:size], data[size:]
	if !e.constructed {
		e.value = body
		return e, rest, nil
	}
	for len(body) > 0 {
		c, r, err := parseElement(body, depth+1)
		if err != nil {
			return element{}, nil, err
		}
		e.children = append(e.children, c)
		body = r
	}
	return e, rest, nil
}

// universal tags used here
const (
	tagInteger     = 2
	tagOctetString = 4
	tagNull        = 5
	tagOID         = 6
	tagSequence    = 16
	tagSet         = 17
)

func (e element) is(class byte, tag int) bool { return e.class == class && e.tag == tag }

// octets returns the content of an OCTET STRING (or an implicitly tagged
// one), joining the chunks of a constructed encoding.
func (e element) octets() ([]byte, error) {
	if !e.constructed {
		return e.value, nil
	}
	var out []byte
	for _, c := range e.children {
		if !c.is(0, tagOctetString) {
			return nil, malformed("constructed octet string holds tag %d", c.tag)
		}
		b, err := c.octets()
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}
