// The last rewrite of a generated function's body: arena marks written
// in place (runtime.Arena.MarkAt) instead of returned (Mark).

package codegen

import (
	"regexp"
	"strings"
)

// markLineRE matches a mark as the emitter and its passes write it
// (iterMark, keepResults, lowerODE), indentation kept.
var markLineRE = regexp.MustCompile(`^(\s*)([A-Za-z_][A-Za-z0-9_]*) := ar\.Mark\(\)$`)

// markInPlace rewrites every `m := ar.Mark()` of a function's finished
// code as `var m runtime.ArenaMark` and `ar.MarkAt(&m)`. The passes before
// it (scratch.go's loop marks, the dropped idle marks) read the first
// form, so it runs last.
//
// Why: in a function too large for Go to inline Mark into (a gradient's
// loop nests), the six-word ArenaMark comes back in registers, goes to a
// temporary and is copied to the mark's slot by sixteen-byte loads that
// the store buffer cannot forward, a stall at the top of every iteration.
// MarkAt stores each word once, in place; the mark is the same value,
// so Release frees the same arrays (runtime's TestArenaMarkAt).
func markInPlace(code string) string {
	if !strings.Contains(code, "ar.Mark()") {
		return code
	}
	lines := strings.Split(code, "\n")
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		m := markLineRE.FindStringSubmatch(l)
		if m == nil {
			out = append(out, l)
			continue
		}
		out = append(out, m[1]+"var "+m[2]+" runtime.ArenaMark", m[1]+"ar.MarkAt(&"+m[2]+")")
	}
	return strings.Join(out, "\n")
}
