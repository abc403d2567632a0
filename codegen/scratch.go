package codegen

import (
	"regexp"
	"strings"
)

// Scratch buffers hoisted out of loops. A loop iteration that releases
// its arena mark at its end (unconditionally) keeps nothing it cut: the
// next iteration cuts the same memory again. When the size of such a cut
// is the same in every iteration, the buffer can be cut once before the
// loop and resliced in each iteration instead: GMM's n·K small products
// Q(x − μ) then take no arena mark, cut or release per pair, as a
// hand-written loop reusing one buffer does. Done on the function's
// emitted text, once the lowering has decided marks and cuts, and
// repeated so that a buffer moves out of every loop it is invariant in.

var (
	// cutRE matches a cut of a size held in a local or parameter.
	cutRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*) := ar\.(F64w|F64|I64|Bool)\(([A-Za-z_][A-Za-z0-9_]*)\)$`)
	// markRE matches an iteration's mark.
	markRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*) := ar\.Mark\(\)$`)
	// checkSizeRE matches a size checked in the loop body.
	checkSizeRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*), [A-Za-z_][A-Za-z0-9_]* := runtime\.CheckSize\(([A-Za-z_][A-Za-z0-9_]*)\)$`)
)

// hoistScratch hoists the loop-invariant cuts of code (see above).
func (f *fn) hoistScratch(code string) string {
	lines := strings.Split(code, "\n")
	for round := 0; round < 10000; round++ { // each round moves one loop's cuts out a level
		out, changed := f.hoistRound(lines)
		lines = out
		if !changed {
			break
		}
	}
	return strings.Join(lines, "\n")
}

// scratchLoop is a loop whose every iteration starts with a mark and
// ends by releasing it: lines head (the for) to end (its closing brace).
type scratchLoop struct {
	head, end int
	mark      string
}

// hoistRound hoists the cuts of the innermost eligible loops one level.
func (f *fn) hoistRound(lines []string) ([]string, bool) {
	depth := braceDepths(lines)
	for j := 0; j+1 < len(lines); j++ {
		lp, ok := markedLoop(lines, depth, j)
		if !ok {
			continue
		}
		before, repl := f.hoistCuts(lines, depth, lp)
		if len(before) == 0 {
			continue
		}
		out := append([]string{}, lines[:j]...)
		out = append(out, before...)
		for k := j; k < len(lines); k++ {
			if r, ok := repl[k]; ok {
				out = append(out, r...)
			} else {
				out = append(out, lines[k])
			}
		}
		return dropIdleMark(out, lp.mark), true
	}
	return lines, false
}

// braceDepths is the block depth at the start of each line.
func braceDepths(lines []string) []int {
	depth := make([]int, len(lines))
	d := 0
	for k, l := range lines {
		depth[k] = d
		l = blankStrings(l)
		d += strings.Count(l, "{") - strings.Count(l, "}")
	}
	return depth
}

// markedLoop reports whether line j starts a loop that marks the arena
// first in each iteration and releases that mark last, with no jump that
// could skip the release.
func markedLoop(lines []string, depth []int, j int) (scratchLoop, bool) {
	h := strings.TrimSpace(lines[j])
	if !strings.HasPrefix(h, "for ") || !strings.HasSuffix(h, "{") {
		return scratchLoop{}, false
	}
	m := markRE.FindStringSubmatch(strings.TrimSpace(lines[j+1]))
	if m == nil {
		return scratchLoop{}, false
	}
	end := -1
	for k := j + 1; k < len(lines); k++ {
		if depth[k] <= depth[j] {
			end = k - 1
			break
		}
	}
	if end < j+2 || strings.TrimSpace(lines[end]) != "}" || strings.TrimSpace(lines[end-1]) != "ar.Release("+m[1]+")" {
		return scratchLoop{}, false
	}
	for k := j + 2; k < end; k++ {
		for _, id := range identRE.FindAllString(blankStrings(lines[k]), -1) {
			if id == "continue" || id == "break" || id == "goto" || id == "defer" {
				return scratchLoop{}, false
			}
		}
	}
	return scratchLoop{head: j, end: end, mark: m[1]}, true
}

// hoistCuts returns the lines to put before the loop and the
// replacements of the loop's lines for each cut it can hoist: cuts in
// the body or in ifs within it (not in nested loops or func literals,
// whose runs the iteration's mark does not bound alone), of a size the
// loop never changes.
func (f *fn) hoistCuts(lines []string, depth []int, lp scratchLoop) ([]string, map[int][]string) {
	var before []string
	repl := map[int][]string{}
	for k := lp.head + 2; k < lp.end-1; k++ {
		m := cutRE.FindStringSubmatch(strings.TrimSpace(lines[k]))
		if m == nil || !onlyIfsBetween(lines, depth, lp.head, k) {
			continue
		}
		name, kind, n := m[1], m[2], m[3]
		buf := f.fresh("scratch")
		elem := map[string]string{"F64w": "float64", "F64": "float64", "I64": "int64", "Bool": "bool"}[kind]
		cut := "ar." + strings.TrimSuffix(kind, "w") + "w"
		if kind == "I64" || kind == "Bool" {
			cut = "ar." + kind
		}
		switch {
		case kind == "F64w" && strings.HasPrefix(name, "scratch_") && f.invariantAt(lines, depth, lp, n):
			// A buffer hoisted before: it moves out whole, its name kept,
			// rather than resliced in every iteration (one slice fewer
			// live across the loop).
			before = append(before, lines[k])
			repl[k] = nil
			continue
		case f.invariantAt(lines, depth, lp, n):
			before = append(before, buf+" := "+cut+"("+n+")")
		default:
			s, ok := f.checkedIn(lines, depth, lp, k, n)
			if !ok {
				continue
			}
			// The size is checked in the body: cut only what that check
			// allows, and nothing when it fails (the loop then fails
			// before its cut).
			sz := buf + "_n"
			before = append(before, "var "+buf+" []"+elem,
				"if "+sz+", err := runtime.CheckSize("+s+"); err == nil {",
				buf+" = "+cut+"("+sz+")",
				"}")
		}
		r := []string{name + " := " + buf + "[:" + n + ":" + n + "]"}
		if kind != "F64w" {
			r = append(r, "clear("+name+")")
		}
		repl[k] = r
	}
	return before, repl
}

// onlyIfsBetween reports whether every block enclosing line k inside the
// loop's body is an if or else branch.
func onlyIfsBetween(lines []string, depth []int, head, k int) bool {
	cur := depth[k]
	for i := k - 1; i > head; i-- {
		if depth[i] < cur {
			cur = depth[i]
			if !strings.HasPrefix(strings.TrimSpace(lines[i]), "if ") {
				return false
			}
		}
	}
	return cur == depth[head]+1
}

// invariantAt reports whether the identifier n has the same value in
// every iteration of the loop and is in scope before it: declared in a
// block enclosing the loop, or a parameter, and stored to nowhere in the
// loop. (A declaration in another block, a parallel chunk's copy of a
// parameter, say, is out of scope there.)
func (f *fn) invariantAt(lines []string, depth []int, lp scratchLoop, n string) bool {
	for k := lp.head; k <= lp.end; k++ {
		if storesTo(lines[k], n) {
			return false
		}
	}
	cur := depth[lp.head]
	for k := lp.head - 1; k >= 0; k-- {
		if depth[k] < cur {
			cur = depth[k]
		}
		if depth[k] == cur && declares(lines[k], n) {
			return true
		}
	}
	return f.params[n]
}

// checkedIn finds the check `n, err := runtime.CheckSize(s)` at the top
// level of the loop's body before line k, with s invariant; it returns s.
func (f *fn) checkedIn(lines []string, depth []int, lp scratchLoop, k int, n string) (string, bool) {
	for i := lp.head + 2; i < k; i++ {
		m := checkSizeRE.FindStringSubmatch(strings.TrimSpace(lines[i]))
		if m == nil || m[1] != n || depth[i] != depth[lp.head]+1 {
			continue
		}
		for x := lp.head + 2; x <= lp.end; x++ {
			if x != i && storesTo(lines[x], n) {
				return "", false
			}
		}
		if f.invariantAt(lines, depth, lp, m[2]) {
			return m[2], true
		}
	}
	return "", false
}

// declares reports whether a line declares n.
func declares(l string, n string) bool {
	names, op, _ := splitStore(strings.TrimSpace(l))
	if op != ":=" && op != "var" {
		return false
	}
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// storesTo reports whether a line declares or stores to n (a loop
// header's variables included), conservatively.
func storesTo(l string, n string) bool {
	t := strings.TrimSpace(l)
	if strings.HasPrefix(t, "for ") {
		if i := strings.Index(t, ":="); i >= 0 {
			for _, id := range identRE.FindAllString(t[:i], -1) {
				if id == n {
					return true
				}
			}
		}
		return false
	}
	if t == n+"++" || t == n+"--" {
		return true
	}
	names, op, _ := splitStore(t)
	if op == "" {
		for _, o := range []string{" += ", " -= ", " *= ", " /= "} {
			if strings.HasPrefix(t, n+o) {
				return true
			}
		}
		return false
	}
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// dropIdleMark removes a loop's mark and release once nothing in the
// iteration uses the arena any more. When the body holds a loop, the
// release becomes a call of runtime.LoopCall: without any call left in
// the loop nest Go's register allocator kept the innermost loop's counter
// on the stack (GMM at d = 10: Q(x − μ)'s dot products, a quarter
// slower), and an empty call costs less than the mark and release.
func dropIdleMark(lines []string, mark string) []string {
	depth := braceDepths(lines)
	for j := 0; j+1 < len(lines); j++ {
		lp, ok := markedLoop(lines, depth, j)
		if !ok || lp.mark != mark {
			continue
		}
		nested := false
		for k := j + 2; k < lp.end-1; k++ {
			nested = nested || strings.HasPrefix(strings.TrimSpace(lines[k]), "for ")
			for _, id := range identRE.FindAllString(blankStrings(lines[k]), -1) {
				if id == "ar" || id == mark {
					return lines
				}
			}
		}
		out := append([]string{}, lines[:j+1]...)
		out = append(out, lines[j+2:lp.end-1]...)
		if nested {
			out = append(out, "runtime.LoopCall()")
		}
		return append(out, lines[lp.end:]...)
	}
	return lines
}
