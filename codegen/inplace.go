package codegen

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Matrix arguments read in place. An exported function takes a matrix as
// [][]float64 (or [][]int64, [][]bool), rows the caller allocated one by
// one, and the internal layout wants one flat slice: Flatten2 copies
// every row into the arena before the call. For a def that reads the
// matrix a lot (BA's feats: a 2-element row per observation) that copy
// is a pass over memory the hand-written code does not make, 6–7% of a
// BA objective call. Where the def's code only ever reads elements and
// whole rows of the matrix, it can read them from the caller's rows
// instead: element (i, k) of the flat layout, x[i*cols+k], is
// x[i][k] there, and the view of row i, x[i*cols : (i+1)*cols], is
// x[i].
//
// So the exported function calls a second compilation of the def, NAME_rows,
// whose matrix parameter keeps its name and dimensions but is the
// [][]T of the caller: its reads are rewritten so, after one check that
// every row has the first row's length (runtime.Rows2, the check
// Flatten2 makes, with the same error). The rewrite accepts only the
// forms above, the reslice on entry, the parallel loop's record (which
// passes the parameter under its name to the chunk) and a blank use; a
// matrix mentioned in any other way (handed to a kernel or a callee,
// measured by len, written) stays flat and is copied as before, and a
// def with no matrix read in place has no second function. Since the
// code is the same but for where the elements are read, the values and
// errors are the same, bit for bit and word for word (TestInPlace). Like
// strided.go's, the rewrite works on the compiled text, which spells
// every flat read of a matrix in these few forms. It relies on what the
// emitter already guarantees for vector parameters, which have always
// been the caller's slices: nothing stores into a parameter's storage.

// inPlaceFn is a def's second function with some matrix parameters read
// in place, its Go name (empty when there is none), and which of the
// exported parameters (by index) it takes as [][]T; and its third, for
// the ...Into function, with results written in place too (below), the
// Go name (empty when none) and which results.
type inPlaceFn struct {
	goName   string
	rows     map[int]bool
	intoName string
	placed   []placedResult
}

// inPlace compiles di's body a second time and writes into w the
// functions reading matrix parameters in place and writing results in
// place, those it can, or returns nil when there are none (or when the
// second compilation does not match the first: it fails or allocates
// where the first did not).
func (g *gen) inPlace(w *bytes.Buffer, di *defInfo, params []exportParam, results []leaf) *inPlaceFn {
	if g.opts.noInPlace || di.value || g.cols[di.def.Name] != nil {
		return nil
	}
	cands, fnParam := false, false
	for _, p := range params {
		if p.fn == nil && p.l.rank == 2 && !g.dense(p.l) {
			cands = true
		}
		fnParam = fnParam || p.fn != nil
	}
	// A result goes in place only where no callback could see the
	// destination half written (a template's function parameter).
	// Nor where a *mat.Dense destination could share memory with one
	// (runtime.Dsts sees slices only).
	dense := false
	for _, l := range results {
		dense = dense || g.dense(l)
	}
	noPlace := map[int]bool{}
	for k, l := range results {
		if dense || fnParam {
			noPlace[k] = true
		} else if l.rank > 0 && l.rank <= 2 && l.kind == ir.F64 {
			cands = true
		}
	}
	if !cands {
		return nil
	}
	ps, body := di.def.Params, di.def.Body
	if di.lambda != nil {
		ps, body = di.lambda.Params, di.lambda.Body
	}
	saveDefs := g.defs
	g.defs = di.scope
	// The compilation declares its parallel loops' sites (var nbLoopN)
	// in g.body: a function not kept must not leave them there.
	mark := g.body.Len()
	sig, code, rets, f := g.defCode(di, ps, body, "", "")
	g.defs = saveDefs
	if f.fails != di.fails || f.arena != di.arena {
		g.body.Truncate(mark)
		return nil
	}
	// The parts of each exported parameter, in order (a function
	// parameter has none: it is passed as it is).
	var parts [][]string
	isParam := map[string]bool{}
	for _, p := range ps {
		if _, ok := p.T.(*ir.Func); ok {
			parts = append(parts, nil)
			continue
		}
		_, lp := f.env[p].leafParts()
		parts = append(parts, lp...)
		for _, pp := range lp {
			for _, a := range pp {
				isParam[a] = true
			}
		}
	}
	ip := &inPlaceFn{rows: map[int]bool{}}
	for k, p := range params {
		if p.fn != nil || p.l.rank != 2 || g.dense(p.l) {
			continue
		}
		d, rows, cols := parts[k][0], parts[k][1], parts[k][2]
		if c, ok := readRows(code, d, rows, cols); ok {
			code = c
			ip.rows[k] = true
			for s, e := range sig {
				if name, _, _ := strings.Cut(e, " "); name == d {
					sig[s] = d + " [][]" + scalarGo(p.l.kind)
				}
			}
		}
	}
	if len(ip.rows) > 0 {
		// A parallel chunk's copy of the number of columns may have no
		// read left.
		code = markUnused(code)
	}
	into, placed := placeResults(code, results, noPlace, isParam)
	if len(ip.rows) == 0 && len(placed) == 0 {
		g.body.Truncate(mark)
		return nil
	}
	if len(ip.rows) > 0 {
		ip.goName = di.goName + "_rows"
		g.used[ip.goName] = true
		fmt.Fprintf(w, "// %s is %s with matrix parameters read from the caller's rows (%s).\nfunc %s(%s) %s {\n%s}\n\n",
			ip.goName, di.goName, di.def.P, ip.goName, strings.Join(sig, ", "), rets, code)
	}
	if len(placed) > 0 {
		ip.intoName, ip.placed = di.goName+"_into", placed
		g.used[ip.intoName] = true
		isig := []string{sig[0], "placed bool"}
		for _, pr := range placed {
			t := "[]float64"
			if pr.mat {
				t = "[][]float64"
			}
			isig = append(isig, fmt.Sprintf("dst%d %s", pr.k, t))
		}
		isig = append(isig, sig[1:]...)
		what := "with"
		if len(ip.rows) > 0 {
			what = "with matrix parameters read from the caller's rows and"
		}
		fmt.Fprintf(w, "// %s is %s %s results written into the caller's buffers when placed (%s).\nfunc %s(%s) %s {\n%s}\n\n",
			ip.intoName, di.goName, what, di.def.P, ip.intoName, strings.Join(isig, ", "), rets, into)
	}
	return ip
}

// rowIndexRE is the row index of a flat element read the rewrite
// accepts: a local, a converted one, a gathered index or a sum of two
// locals.
const rowIndexRE = `(\w+|int\(\w+\)|int\(\w+\[\w+\]\)|\(\w+\+\w+\))`

// readRows rewrites code, a function's body whose parameter d is a
// rows×cols matrix in the flat layout, into code reading d as [][]T, and
// reports whether every mention of d could be rewritten.
func readRows(code, d, rows, cols string) (string, bool) {
	q, c := regexp.QuoteMeta(d), regexp.QuoteMeta(cols)
	elem := regexp.MustCompile(`\b` + q + `\[` + rowIndexRE + `\*` + c + `\+(\w+)\]`)
	view := regexp.MustCompile(`\b` + q + `\[(\w+|int\(\w+\))\*` + c + ` ?: ?\((\w+|int\(\w+\))\+1\)\*` + c + `\]`)
	reslice := d + " = " + d + "[:" + rows + "*" + cols + "]"
	record := regexp.MustCompile(`^\s*` + q + ` := \w+\.C(?:\.T)*\.H$`)
	mention := regexp.MustCompile(`\b` + q + `\b`)
	lines := strings.Split(code, "\n")
	for k, l := range lines {
		if !mention.MatchString(l) {
			continue
		}
		t := strings.TrimSpace(l)
		switch {
		case t == reslice:
			// Go's prover learns the number of rows; each row's length
			// is the check's.
			lines[k] = strings.Replace(l, reslice, d+" = "+d+"[:"+rows+"]", 1)
			continue
		case record.MatchString(l), t == "_ = "+d:
			continue
		}
		if names, op, _ := splitStore(l); op != ":=" && op != "var" && contains(names, d) || strings.HasPrefix(t, d+"[") {
			return "", false // a store into the matrix (never emitted)
		}
		// Each accepted form is written with a placeholder for d, so that
		// any mention left is one the rewrite does not know.
		const ph = "\x00rows\x00"
		l = elem.ReplaceAllString(l, ph+"[$1][$2]")
		bad := false
		l = view.ReplaceAllStringFunc(l, func(s string) string {
			m := view.FindStringSubmatch(s)
			if m[1] != m[2] {
				bad = true
				return s
			}
			return ph + "[" + m[1] + "]"
		})
		l = strings.ReplaceAll(l, "runtime.Bind("+d+",", "runtime.Bind("+ph+",")
		if bad || mention.MatchString(l) {
			return "", false
		}
		l = strings.ReplaceAll(l, ph, d)
		lines[k] = l
	}
	return strings.Join(lines, "\n"), true
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Results written in place. An ...Into function copies each array result
// from the arena into the caller's buffer (runtime.Into1, Into2): a
// second pass over memory, 3–4% of a BA objective call. Where the def cuts
// a float64 result once, at its body's top level, its ...Into function
// can call a third form of the def, NAME_into, which takes the
// destinations and cuts the result from them instead: a vector result is
// the destination itself (runtime.DstVec), a matrix result built row by
// row (views of constant rows of the cut, a_3[k*rs : (k+1)*rs], and no
// other use) has those rows as the destination's rows (runtime.DstMat,
// DstRow). Only when the destination has the shape the cut asks for,
// and only when the exported function found that no float64 destination
// (written in place or copied after the call) shares memory with another
// or with an argument the def reads in place (runtime.Dsts: placed); otherwise the cut is the arena's, as before,
// and the copy after the call does what it did. The copy then has
// nothing to do (IntoPlaced1, IntoPlaced2). The values are the same; a
// call that fails may have written part of a destination (see
// docs/decisions.md).

// resultCutRE matches the cut of an array local from the arena.
var resultCutRE = regexp.MustCompile(`^(\w+) (:?=) ar\.(F64w?)\((.*)\)$`)

// constRowRE matches a view of a constant row: v := a[k*rs : (k+1)*rs].
var constRowRE = regexp.MustCompile(`^(\w+) := (\w+)\[(\d+)\*(\w+) : (\d+)\*(\w+)\]$`)

// placedResult is how an Into function's result k is written in place.
type placedResult struct {
	k   int  // the result's index (dst k)
	mat bool // a matrix (rows of the destination), not a vector
}

// placeResults rewrites code (a def's body, which ends by returning its
// result's parts) so that the float64 array results it can write in place
// are cut from dstK when placed (but those of noPlace, by index); it
// returns the code and those results, none when it found none.
func placeResults(code string, results []leaf, noPlace map[int]bool, params map[string]bool) (string, []placedResult) {
	lines := strings.Split(strings.TrimSuffix(code, "\n"), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if !strings.HasPrefix(last, "return ") {
		return code, nil
	}
	ret := strings.Split(strings.TrimPrefix(last, "return "), ", ")
	// depth[i] is the number of blocks open at line i.
	depth := make([]int, len(lines))
	d := 0
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "}") {
			d--
		}
		depth[i] = d
		if strings.HasSuffix(t, "{") {
			d++
		}
	}
	var placed []placedResult
	p, seen := 0, map[string]int{}
	for _, part := range ret {
		seen[part]++
	}
	for k, l := range results {
		a := ""
		if p < len(ret) {
			a = ret[p]
		}
		p += l.nparts()
		if noPlace[k] || l.rank == 0 || l.rank > 2 || l.kind != ir.F64 || !localRE.MatchString(a) || params[a] || seen[a] != 1 {
			continue
		}
		mention := regexp.MustCompile(`\b` + regexp.QuoteMeta(a) + `\b`)
		cut, rs := -1, ""
		var views []int
		ok := true
		for i, ln := range lines[:len(lines)-1] {
			if !mention.MatchString(ln) {
				continue
			}
			t := strings.TrimSpace(ln)
			if m := resultCutRE.FindStringSubmatch(t); m != nil && m[1] == a {
				if cut >= 0 || depth[i] != 0 {
					ok = false
				}
				cut = i
				continue
			}
			if l.rank == 1 {
				continue // a vector: any use of the slice is the same on dst
			}
			if m := constRowRE.FindStringSubmatch(t); m != nil && m[2] == a {
				k0, k1 := atoi(m[3]), atoi(m[5])
				if k1 != k0+1 || m[4] != m[6] || rs != "" && rs != m[4] {
					ok = false
				}
				rs = m[4]
				views = append(views, i)
				continue
			}
			if t == "var "+a+" []float64" || t == "_ = "+a || strings.HasPrefix(t, "ar.Keep(") {
				continue
			}
			ok = false
		}
		if !ok || cut < 0 || l.rank == 2 && len(views) == 0 {
			continue
		}
		m := resultCutRE.FindStringSubmatch(strings.TrimSpace(lines[cut]))
		zero := m[3] == "F64"
		dst := fmt.Sprintf("dst%d", k)
		indent := lines[cut][:len(lines[cut])-len(strings.TrimLeft(lines[cut], "\t "))]
		if l.rank == 1 {
			lines[cut] = fmt.Sprintf("%s%s %s runtime.DstVec(ar, %s, placed, %v, %s)", indent, a, m[2], dst, zero, m[4])
		} else {
			lines[cut] = fmt.Sprintf("%s%s %s runtime.DstMat(ar, %s, placed, %v, %s, %s)", indent, a, m[2], dst, zero, m[4], rs)
			for _, i := range views {
				v := constRowRE.FindStringSubmatch(strings.TrimSpace(lines[i]))
				ind := lines[i][:len(lines[i])-len(strings.TrimLeft(lines[i], "\t "))]
				lines[i] = fmt.Sprintf("%s%s := runtime.DstRow(%s, %s, %s, %s)", ind, v[1], dst, a, v[3], rs)
			}
		}
		placed = append(placed, placedResult{k: k, mat: l.rank == 2})
	}
	if len(placed) == 0 {
		return code, nil
	}
	return strings.Join(lines, "\n") + "\n", placed
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
