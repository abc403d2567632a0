//go:build unix

package tests

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla/internal/progen"
)

// hostileGen makes the text a case's "gen:" directive appends to its
// program, for inputs too large or too repetitive to keep as files:
//
//	text T               T itself
//	repeat N T           T N times; in T, {i} is the count from 1 and {p} is i-1
//	nest N OPEN CORE CLOSE   OPEN N times, CORE, CLOSE N times
//	lets N               issue 15's N dependent lets (def main)
//	plus N               issue 15's 1.0 + 1.0 + ... of N terms on one line (def main)
//	tuple-type K         def t0 = 1.0 and t_i = (t_{i-1}, t_{i-1}) up to t_K
//
// In T, OPEN, CORE and CLOSE, \n, \r and \t are escapes and \xHH is the byte HH, so a
// case can hold bytes that are not text.
func hostileGen(g []string) (string, error) {
	count := func(i int) (int, error) {
		if len(g) <= i {
			return 0, fmt.Errorf("missing count")
		}
		return strconv.Atoi(g[i])
	}
	switch {
	case len(g) == 2 && g[0] == "text":
		return unescape(g[1])
	case len(g) == 3 && g[0] == "repeat":
		n, err := count(1)
		if err != nil {
			return "", err
		}
		t, err := unescape(g[2])
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for i := 1; i <= n; i++ {
			r := strings.NewReplacer("{i}", strconv.Itoa(i), "{p}", strconv.Itoa(i-1))
			r.WriteString(&b, t)
		}
		return b.String(), nil
	case len(g) == 5 && g[0] == "nest":
		n, err := count(1)
		if err != nil {
			return "", err
		}
		parts := make([]string, 3)
		for i := range parts {
			if parts[i], err = unescape(g[2+i]); err != nil {
				return "", err
			}
		}
		return strings.Repeat(parts[0], n) + parts[1] + strings.Repeat(parts[2], n) + "\n", nil
	case len(g) == 2 && g[0] == "lets":
		n, err := count(1)
		return progen.Lets(n), err
	case len(g) == 2 && g[0] == "plus":
		n, err := count(1)
		return progen.PlusChain(n), err
	case len(g) == 2 && g[0] == "tuple-type":
		k, err := count(1)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		b.WriteString("def t0 = 1.0\n")
		for i := 1; i <= k; i++ {
			fmt.Fprintf(&b, "def t%d = (t%d, t%d)\n", i, i-1, i-1)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("unknown generator (see hostile_gen_test.go)")
}

// unescape replaces \n with a newline and \xHH with the byte HH.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case 'n':
			b.WriteByte('\n')
			i++
		case 'r':
			b.WriteByte('\r')
			i++
		case 't':
			b.WriteByte('\t')
			i++
		case 'x':
			if i+4 > len(s) {
				return "", fmt.Errorf("short \\x escape in %q", s)
			}
			v, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return "", fmt.Errorf("bad \\x escape in %q", s)
			}
			b.WriteByte(byte(v))
			i += 3
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
