package codegen

import (
	"regexp"
	"strings"
)

// Arrays written and never read. Reverse mode's tapes are planned by
// what their readers read, but a nested tape's inner build can still
// store a field that the outer tape drops (GMM: each component's squared
// residuals, copied into a per-point array nothing reads). Such an array
// costs its cut and one copy per element; dropWriteOnly deletes both,
// keeping the size checks before them (their errors are the program's).

var (
	// writeOnlyCutRE matches the cut of an array local.
	writeOnlyCutRE = regexp.MustCompile(`^([A-Za-z0-9_]+) :?= ar\.(?:F64w?|I64|Bool)\([A-Za-z0-9_]+\)$`)
	// writeOnlyCopyRE matches a copy into a slice of an array local.
	writeOnlyCopyRE = regexp.MustCompile(`^copy\(([A-Za-z0-9_]+)\[[A-Za-z0-9_*+():]*\], [A-Za-z0-9_]+\)$`)
	// writeOnlyVarRE matches the declaration of an array local.
	writeOnlyVarRE = regexp.MustCompile(`^var ([A-Za-z0-9_]+) \[\](?:float64|int64|bool)$`)
)

// dropWriteOnly removes the cuts of, and copies into, array locals that
// no other line mentions, until none is left (the source of a dropped
// copy may be one).
func dropWriteOnly(code string) string {
	for {
		out := dropWriteOnce(code)
		if out == code {
			return code
		}
		code = out
	}
}

// dropWriteOnce is one round of dropWriteOnly.
func dropWriteOnce(code string) string {
	lines := strings.Split(code, "\n")
	writes := map[string][]int{} // the lines that only write each local
	for k, l := range lines {
		t := strings.TrimSpace(l)
		for _, re := range []*regexp.Regexp{writeOnlyCutRE, writeOnlyCopyRE, writeOnlyVarRE} {
			if m := re.FindStringSubmatch(t); m != nil && localRE.MatchString(m[1]) {
				writes[m[1]] = append(writes[m[1]], k)
				break
			}
		}
	}
	if len(writes) == 0 {
		return code
	}
	uses := map[string]int{}
	for _, l := range lines {
		for _, id := range identRE.FindAllString(blankStrings(l), -1) {
			if _, ok := writes[id]; ok {
				uses[id]++
			}
		}
	}
	drop := map[int]bool{}
	for name, ks := range writes {
		if uses[name] != len(ks) {
			continue // read somewhere, or written some other way
		}
		cut := false
		for _, k := range ks {
			cut = cut || writeOnlyCutRE.MatchString(strings.TrimSpace(lines[k]))
		}
		if !cut {
			continue // a parameter or result's storage: not ours to drop
		}
		for _, k := range ks {
			drop[k] = true
		}
	}
	if len(drop) == 0 {
		return code
	}
	var out []string
	for k, l := range lines {
		if !drop[k] {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
