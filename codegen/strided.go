package codegen

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Strided reads in fused loops. A vectorized program transposes its
// [p][k] arguments to read them as k rows of p (ba.nab's feats, and the
// cameras and points it gathers from):
//
//	let ct = transpose(cams)
//	let cam = [gather(ct[t], cam_idx) for t < 11]
//
// lowerTranspose stores the transpose, a pass writing the whole array
// and the fused loop reading it back, where reading the source in place
// costs nothing more: element i of row k of transpose(x) is
// x[i*cols + k], and the k rows of one observation sit in one or two
// cache lines instead of k. So a run's loop reads the rows of a
// transpose from its source, and a transpose (or any array cut here)
// that is then read by nothing is not computed (dropUnreadArrays).

// transposeStoreRE matches the store of lowerTranspose's loop over
// scalars: d[j*rows+i] = src[i*cols+j].
var transposeStoreRE = regexp.MustCompile(`(?m)^\s*(\w+)\[(\w+)\*(\w+)\+(\w+)\] = (\w+)\[(\w+)\*(\w+)\+(\w+)\]$`)

// stridedRow is row k of the transpose of src, a matrix of cols columns.
type stridedRow struct {
	src, cols string
	k         int
}

// transposedRows finds, in code (the function so far), the views of
// rows of transposes by a constant index whose transpose and source
// nothing has written since: those a loop emitted after code may read
// from the source.
func transposedRows(code string) map[string]stridedRow {
	out := map[string]stridedRow{}
	for _, ix := range transposeStoreRE.FindAllStringSubmatchIndex(code, -1) {
		m := func(k int) string { return code[ix[2*k]:ix[2*k+1]] }
		d, j, i, src, cols := m(1), m(2), m(4), m(5), m(7)
		if m(6) != i || m(8) != j || !localRE.MatchString(d) || !localRE.MatchString(src) {
			continue
		}
		after := code[ix[1]:]
		if inLoopSince(after) {
			// A loop opened since the transpose runs the run's loop
			// again, after code this one cannot see yet (which might
			// update the source for the next iteration).
			continue
		}
		if !onlyRead(after, src) || !onlyRead(after, d) || !notStored(after, cols) {
			continue
		}
		for view, k := range rowViews(code, d) {
			if onlyRead(after, view) {
				out[view] = stridedRow{src: src, cols: cols, k: k}
			}
		}
	}
	return out
}

// inLoopSince reports whether code, the emitted code after a statement,
// leaves a for loop open: what comes next is inside a loop that
// statement is not.
func inLoopSince(code string) bool {
	var open []bool // each open block: whether it is a for loop
	for _, l := range strings.Split(code, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "}") && len(open) > 0 {
			open = open[:len(open)-1]
		}
		if strings.HasSuffix(t, "{") {
			open = append(open, strings.HasPrefix(t, "for "))
		}
	}
	return slices.Contains(open, true)
}

// onlyRead reports whether every mention of name in code reads an
// element of it, its length or its value in an expression: no line
// stores into it, copies into it, or hands it (or a slice of it) to a
// call that might. A view of it (v := name[a:b]) must be only read too.
func onlyRead(code, name string) bool {
	re := identRE2(name)
	lines := strings.Split(code, "\n")
	for k, l := range lines {
		if !strings.Contains(l, name) {
			continue
		}
		names, op, rest := splitStore(l)
		if assigns(names, op, name) {
			return false
		}
		if op == "" && strings.HasPrefix(strings.TrimSpace(l), name+"[") {
			return false // an element store, d[i] = x or d[i] += x
		}
		for _, loc := range re.FindAllStringIndex(rest, -1) {
			before, after := rest[:loc[0]], rest[loc[1]:]
			switch {
			case strings.HasPrefix(after, "["):
				inner, _, _ := strings.Cut(after[1:], "]")
				if !strings.Contains(inner, ":") {
					break // an element
				}
				if op == ":=" && len(names) == 1 && strings.TrimSpace(rest) == name+after {
					if !onlyRead(strings.Join(lines[k+1:], "\n"), names[0]) {
						return false
					}
					break
				}
				if names == nil && strings.HasPrefix(strings.TrimSpace(l), "_ = ") {
					break
				}
				return false
			case strings.HasSuffix(before, "len(") && strings.HasPrefix(after, ")"):
			case strings.HasSuffix(before, "runtime.Bind("):
				// handed to a parallel loop's record, whose body reads it
				// under the same name (a := of it, checked as here)
			default:
				return false
			}
		}
	}
	return true
}

// notStored reports whether no line of code assigns to the local name.
func notStored(code, name string) bool {
	for _, l := range strings.Split(code, "\n") {
		if names, op, _ := splitStore(l); strings.Contains(l, name) && assigns(names, op, name) {
			return false
		}
	}
	return true
}

// assigns reports whether a line storing to names by op gives name a new
// value (a := declares a variable, the same name in a closure).
func assigns(names []string, op, name string) bool {
	return op != ":=" && slices.Contains(names, name)
}

// stridedRE matches a read of an element of a view by the loop's index
// or through a gather's index: v[i_3] or v[int(idx_5[i_3])].
func stridedRE(view string) *regexp.Regexp {
	return regexp.MustCompile(`\b` + regexp.QuoteMeta(view) + `\[((?:int\(\w+\[\w+\]\))|\w+)\]`)
}

// readStrided rewrites, in a fused loop's code, the reads of rows of
// transposes into reads of their sources.
func readStrided(code string, rows map[string]stridedRow) string {
	for _, view := range slices.Sorted(maps.Keys(rows)) {
		r := rows[view]
		if !strings.Contains(code, view) {
			continue
		}
		code = stridedRE(view).ReplaceAllStringFunc(code, func(s string) string {
			idx := s[len(view)+1 : len(s)-1]
			return r.src + "[" + idx + "*" + r.cols + "+" + strconv.Itoa(r.k) + "]"
		})
	}
	return code
}

var (
	// arrayCutRE matches the cut of an array local, declared or assigned.
	arrayCutRE = regexp.MustCompile(`^(\w+) :?= ar\.(?:F64w?|I64|Bool)\([^()]*(?:\([^()]*\))?[^()]*\)$`)
	// blankSliceRE matches a slice of an array evaluated for nothing:
	// _ = a_3[0*rs_2 : 1*rs_2] (a view whose variable nothing read).
	blankSliceRE = regexp.MustCompile(`^_ = (\w+)\[[^\]]*:[^\]]*\]$`)
	// sliceDeclRE matches a view: v_5 := a_3[...:...].
	sliceDeclRE = regexp.MustCompile(`^(\w+) := (\w+)\[[^\]]*:[^\]]*\]$`)
	// arrayVarRE matches the declaration of an array local.
	arrayVarRE = regexp.MustCompile(`^var (\w+) \[\](?:float64|int64|bool)$`)
)

// dropUnreadArrays removes the arrays cut in a function that nothing
// reads: their cuts, declarations, views of them nothing reads either,
// slices evaluated for nothing, and a transpose's loop filling one. Their
// sizes were checked before (those checks stay); a view the emitter made
// of its own array is in range, so its slice expression cannot fail.
func dropUnreadArrays(code string) string {
	lines := strings.Split(code, "\n")
	// role of each line that only concerns one array: the array and, for
	// a view, the view's name.
	type role struct{ arr, view string }
	roles := map[int]role{}
	loops := map[int]string{} // a transpose's store line → its array
	cand := map[string]bool{}
	for k, l := range lines {
		t := strings.TrimSpace(l)
		if m := arrayCutRE.FindStringSubmatch(t); m != nil && localRE.MatchString(m[1]) {
			roles[k] = role{arr: m[1]}
			cand[m[1]] = true
		} else if m := arrayVarRE.FindStringSubmatch(t); m != nil && localRE.MatchString(m[1]) {
			roles[k] = role{arr: m[1]}
		} else if m := blankSliceRE.FindStringSubmatch(t); m != nil && localRE.MatchString(m[1]) {
			roles[k] = role{arr: m[1]}
		} else if m := sliceDeclRE.FindStringSubmatch(t); m != nil && localRE.MatchString(m[1]) && localRE.MatchString(m[2]) {
			roles[k] = role{arr: m[2], view: m[1]}
			cand[m[1]] = true
		} else if m := transposeStoreRE.FindStringSubmatch(l); m != nil && transposeLoop(lines, k) {
			roles[k] = role{arr: m[1]}
			loops[k] = m[1]
		}
	}
	// An array is dropped when every line mentioning it is one of its
	// roles (a view's line counting only if the view is dropped too).
	for changed := true; changed; {
		changed = false
		for k, l := range lines {
			r, own := roles[k]
			for _, id := range identRE.FindAllString(blankStrings(l), -1) {
				if !cand[id] {
					continue
				}
				ok := own && (r.arr == id && (r.view == "" || cand[r.view]) || r.view == id)
				if !ok {
					delete(cand, id)
					changed = true
				}
			}
		}
	}
	drop := map[int]bool{}
	for k, r := range roles {
		if cand[r.arr] && (r.view == "" || cand[r.view]) {
			drop[k] = true
			if loops[k] != "" {
				for _, d := range []int{-2, -1, 1, 2} {
					drop[k+d] = true
				}
			}
		}
	}
	if len(drop) == 0 {
		return code
	}
	out := lines[:0:0]
	for k, l := range lines {
		if !drop[k] {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// transposeLoop reports whether line k is the store of a transpose's two
// loops and nothing else: a for line twice before, a closing brace
// twice after.
func transposeLoop(lines []string, k int) bool {
	if k < 2 || k+2 >= len(lines) {
		return false
	}
	for _, d := range []int{-2, -1} {
		if !strings.HasPrefix(strings.TrimSpace(lines[k+d]), "for ") || !strings.HasSuffix(lines[k+d], "{") {
			return false
		}
	}
	return strings.TrimSpace(lines[k+1]) == "}" && strings.TrimSpace(lines[k+2]) == "}"
}
