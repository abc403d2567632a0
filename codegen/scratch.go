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
	// buildCounterRE matches a build's loop header, taking its counter.
	buildCounterRE = regexp.MustCompile(`^for ([A-Za-z_][A-Za-z0-9_]*) := 0; ([A-Za-z_][A-Za-z0-9_]*) < [A-Za-z_][A-Za-z0-9_]*; ([A-Za-z_][A-Za-z0-9_]*)\+\+ \{$`)
	// fusedExitRE matches an error's exit from pointfuse.go's fused code.
	fusedExitRE = regexp.MustCompile(`^break Fused_[0-9]+$`)
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
// A build's loop releases from its second iteration on (the first cuts
// the result): counter is then its counter, and rel the first line of
// the conditional release.
type scratchLoop struct {
	head, end int
	mark      string
	counter   string
	rel       int
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
	if end < j+2 || strings.TrimSpace(lines[end]) != "}" {
		return scratchLoop{}, false
	}
	lp := scratchLoop{head: j, end: end, mark: m[1], rel: end - 1}
	if strings.TrimSpace(lines[end-1]) != "ar.Release("+m[1]+")" {
		c := buildCounterRE.FindStringSubmatch(h)
		if c == nil || c[2] != c[1] || c[3] != c[1] || end < j+5 || strings.TrimSpace(lines[end-1]) != "}" ||
			strings.TrimSpace(lines[end-2]) != "ar.Release("+m[1]+")" ||
			strings.TrimSpace(lines[end-3]) != "if "+c[1]+" > 0 {" {
			return scratchLoop{}, false
		}
		lp.counter, lp.rel = c[1], end-3
	}
	for k := j + 2; k < end; k++ {
		if fusedExitRE.MatchString(strings.TrimSpace(lines[k])) {
			// Leaves the fused code of pointfuse.go for good, as an
			// error's return leaves the function.
			continue
		}
		for _, id := range identRE.FindAllString(blankStrings(lines[k]), -1) {
			if id == "continue" || id == "break" || id == "goto" || id == "defer" {
				return scratchLoop{}, false
			}
		}
	}
	return lp, true
}

// hoistCuts returns the lines to put before the loop and the
// replacements of the loop's lines for each cut it can hoist: cuts in
// the body or in ifs within it (not in nested loops or func literals,
// whose runs the iteration's mark does not bound alone), of a size the
// loop never changes.
func (f *fn) hoistCuts(lines []string, depth []int, lp scratchLoop) ([]string, map[int][]string) {
	var before []string
	repl := map[int][]string{}
	for k := lp.head + 2; k < lp.rel; k++ {
		m := cutRE.FindStringSubmatch(strings.TrimSpace(lines[k]))
		if m == nil || !onlyIfsBetween(lines, depth, lp.head, k) {
			continue
		}
		name, kind, n := m[1], m[2], m[3]
		whole := kind == "F64w" && strings.HasPrefix(name, "scratch_") && f.invariantAt(lines, depth, lp, n)
		if lp.counter != "" && !whole && !confined(lines[lp.head:lp.end+1], k-lp.head, name) {
			// The first iteration keeps what it cuts: only an array no
			// other variable can reach is the same as a reused buffer. (A
			// buffer hoisted before holds nothing past an iteration of
			// the loop it came out of.)
			continue
		}
		buf := f.fresh("scratch")
		elem := map[string]string{"F64w": "float64", "F64": "float64", "I64": "int64", "Bool": "bool"}[kind]
		cut := "ar." + strings.TrimSuffix(kind, "w") + "w"
		if kind == "I64" || kind == "Bool" {
			cut = "ar." + kind
		}
		switch {
		case whole:
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
		if lp.counter != "" {
			// A build's loop keeps its mark even when only its first
			// iteration cuts: dropping it (GMM's gradient, the loop over
			// components) measured 5–10% faster at d = 2 but 8% slower at
			// d = 10, where Go's register allocation of the products in
			// the loop changed; d = 10 is the further from its goal.
			return lines
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

// confinedCalls are the runtime kernels that read or write their slice
// arguments and keep none of them.
var confinedCalls = map[string]bool{
	"runtime.Dot": true, "runtime.Sum": true, "runtime.Max": true, "runtime.LogSumExp": true,
	"runtime.Gemv": true, "runtime.Gemm": true, "runtime.Softmax": true, "runtime.Axpy": true,
	"runtime.ScaleTo": true, "runtime.LogSumExpWeights": true,
}

// confined reports whether the array cut as name on line decl of a loop
// (lines) is reachable through name alone: every other mention reads or
// stores elements, takes its length, ranges over it, reslices it into
// itself, copies from or into it, or passes it to a kernel of
// confinedCalls. A view of it kept in another variable, or an argument
// of a generated function (whose result may be the argument), is not.
func confined(lines []string, decl int, name string) bool {
	for k, l := range lines {
		if k == decl {
			continue
		}
		t := strings.TrimSpace(blankStrings(l))
		if t == name+" = "+name+"[:len("+name+")]" || (strings.HasPrefix(t, name+" = "+name+"[:") && strings.Count(t, name) == 2 && strings.HasSuffix(t, "]") && !strings.Contains(t[len(name)*2+5:], ":")) {
			continue // resliced into itself
		}
		copyLine := strings.HasPrefix(t, "copy(") && strings.HasSuffix(t, ")") && strings.Count(t, "(") == strings.Count(t, ")")
		for _, at := range identIndexes(t, name) {
			rest := t[at+len(name):]
			before := t[:at]
			switch {
			case copyLine:
			case strings.HasPrefix(rest, "[") && !sliceIndex(rest):
			case strings.HasSuffix(before, "len(") || strings.HasSuffix(before, "cap("):
			case strings.HasSuffix(before, " range ") && rest == " {":
			case kernelArg(before):
			default:
				return false
			}
		}
	}
	return true
}

// identIndexes returns where the identifier name occurs in t as a whole
// word (not part of a longer identifier or a field selector).
func identIndexes(t, name string) []int {
	var at []int
	for i := 0; ; {
		j := strings.Index(t[i:], name)
		if j < 0 {
			return at
		}
		j += i
		end := j + len(name)
		if (j == 0 || !identByte(t[j-1]) && t[j-1] != '.') && (end == len(t) || !identByte(t[end])) {
			at = append(at, j)
		}
		i = end
	}
}

func identByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// sliceIndex reports whether rest, which starts with '[', is a slice
// expression (a ':' at the top level of the brackets).
func sliceIndex(rest string) bool {
	d := 0
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '[', '(':
			d++
		case ']', ')':
			d--
			if d == 0 {
				return false
			}
		case ':':
			if d == 1 {
				return true
			}
		}
	}
	return true
}

// kernelArg reports whether the text before a mention ends inside the
// argument list of a call of confinedCalls, as a whole argument.
func kernelArg(before string) bool {
	if !strings.HasSuffix(before, "(") && !strings.HasSuffix(before, ", ") {
		return false
	}
	d := 0
	for i := len(before) - 1; i >= 0; i-- {
		switch before[i] {
		case ')', ']':
			d++
		case '[':
			d--
		case '(':
			if d == 0 {
				j := i
				for j > 0 && (identByte(before[j-1]) || before[j-1] == '.') {
					j--
				}
				return confinedCalls[before[j:i]]
			}
			d--
		}
	}
	return false
}
