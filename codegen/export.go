package codegen

import (
	"bytes"
	"fmt"
	"go/token"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// The exported API. An exported def becomes a Go function with idiomatic
// types: one Go parameter per leaf of each parameter's layout (f64 →
// float64, i64 → int64, bool → bool, [n]f64 → []float64, [m][n]f64 →
// [][]float64, ...; a tuple parameter becomes several parameters), one
// result per leaf of the result (a tuple gives several results), and an
// error last where a run can fail. Array results are fresh slices owned
// by the caller. A def with array results also gets an ...Into variant
// that writes them into caller-provided buffers and, in steady state,
// allocates nothing.

// goType is the exported Go type of a leaf.
func (l leaf) goType() string {
	return strings.Repeat("[]", l.rank) + scalarGo(l.kind)
}

// dense reports whether a leaf is a matrix of f64, which Options.Dense
// makes a *mat.Dense in exported signatures.
func (g *gen) dense(l leaf) bool {
	return g.opts.Dense && l.rank == 2 && l.kind == ir.F64
}

// exportType is the type of a leaf in an exported signature.
func (g *gen) exportType(l leaf) string {
	if g.dense(l) {
		return "*mat.Dense"
	}
	return l.goType()
}

type exportParam struct {
	name string
	l    leaf
	fn   *ir.Func // a function parameter of a template
}

// userFuncType is the exported Go type of a function parameter: its
// parameters' and result's leaves as exported types (arrays of rank ≤ 1).
func userFuncType(ft *ir.Func) (string, error) {
	var in, out []string
	for _, p := range ft.Params {
		for _, l := range mustLeaves(p) {
			if l.rank > 1 {
				return "", fmt.Errorf("function parameters taking arrays of rank %d are not supported in exported signatures", l.rank)
			}
			in = append(in, l.goType())
		}
	}
	for _, l := range mustLeaves(ft.Result) {
		if l.rank > 1 {
			return "", fmt.Errorf("function parameters returning arrays of rank %d are not supported in exported signatures", l.rank)
		}
		out = append(out, l.goType())
	}
	r := strings.Join(out, ", ")
	if len(out) > 1 {
		r = "(" + r + ")"
	}
	return "func(" + strings.Join(in, ", ") + ") " + r, nil
}

// adapter emits a func literal of the internal type calling the user's
// function f of Nabla type ft, and returns its name.
func adapter(w *bytes.Buffer, name string, ft *ir.Func) string {
	ad := name + "In"
	var in, call []string
	k := 0
	for _, p := range ft.Params {
		for _, l := range mustLeaves(p) {
			a := fmt.Sprintf("a%d", k)
			k++
			if l.rank == 0 {
				in = append(in, a+" "+scalarGo(l.kind))
				call = append(call, a)
				continue
			}
			in = append(in, a+" "+l.goType(), a+"n int")
			call = append(call, a+"[:"+a+"n]")
		}
	}
	var outs, rets []string
	for i, l := range mustLeaves(ft.Result) {
		r := fmt.Sprintf("r%d", i)
		outs = append(outs, r)
		rets = append(rets, r)
		if l.rank > 0 {
			rets = append(rets, "len("+r+")")
		}
	}
	gt, _ := goFuncType(ft)
	results := strings.TrimSpace(gt[strings.Index(gt, ")")+1:])
	fmt.Fprintf(w, "%s := func(%s) %s {\n", ad, strings.Join(in, ", "), results)
	if len(outs) > 0 {
		fmt.Fprintf(w, "%s := %s(%s)\nreturn %s\n}\n", strings.Join(outs, ", "), name, strings.Join(call, ", "), strings.Join(rets, ", "))
	} else {
		fmt.Fprintf(w, "%s(%s)\n}\n", name, strings.Join(call, ", "))
	}
	return ad
}

// emitExported writes the exported function (and ...Into variant) of an
// exported def.
func (g *gen) emitExported(w *bytes.Buffer, di *defInfo) {
	d := di.def
	name := exportedName(d.Name)
	for k := 2; g.used[name] || g.used[name+"Into"]; k++ {
		name = exportedName(d.Name) + fmt.Sprint(k)
	}
	g.used[name] = true
	g.used[name+"Into"] = true
	used := map[string]bool{"ar": true, "err": true, "dst": true, "placed": true, "dsts": true}
	var params []exportParam
	var paramNames []string
	if d.HasParams {
		for _, p := range d.Params {
			paramNames = append(paramNames, p.Name)
		}
	} else if di.lambda != nil {
		for _, p := range di.lambda.Params {
			paramNames = append(paramNames, p.Name)
		}
	}
	fails := di.fails
	for i, t := range di.params {
		if ft, ok := t.(*ir.Func); ok {
			n := goIdent(paramNames[i])
			for j := 2; used[n] || token.IsKeyword(n) || g.used[n]; j++ {
				n = fmt.Sprintf("%s%d", goIdent(paramNames[i]), j)
			}
			used[n] = true
			params = append(params, exportParam{name: n, fn: ft})
			fails = true // a nil callback
			continue
		}
		ls := mustLeaves(t)
		for k, l := range ls {
			base := goIdent(paramNames[i])
			if len(ls) > 1 {
				base += fmt.Sprint(k)
			}
			n := base
			for j := 2; used[n] || token.IsKeyword(n) || g.used[n] || importable[n] != ""; j++ {
				n = fmt.Sprintf("%s%d", base, j)
			}
			used[n] = true
			params = append(params, exportParam{name: n, l: l})
			if l.rank >= 2 {
				fails = true // ragged input
			}
		}
	}
	results := mustLeaves(di.result)
	hasArray := false
	for _, l := range results {
		if l.rank > 0 {
			hasArray = true
		}
	}
	var sig []string
	for _, p := range params {
		if p.fn != nil {
			ut, _ := userFuncType(p.fn)
			sig = append(sig, p.name+" "+ut)
			continue
		}
		sig = append(sig, p.name+" "+g.exportType(p.l))
	}
	var rets []string
	for _, l := range results {
		rets = append(rets, g.exportType(l))
	}
	doc := fmt.Sprintf("// %s is the Nabla def %s (%s).", name, signature(d, di), posString(d.P))
	if lines := leadingComment(g.opts.Sources[d.P.File], d.P.Line); len(lines) > 0 {
		// The def's own comment, with its name as Go spells it, then
		// where it comes from.
		if first, rest, _ := strings.Cut(lines[0], " "); first == d.Name {
			lines[0] = name + " " + rest
		}
		doc = "// " + strings.Join(lines, "\n// ") + fmt.Sprintf("\n//\n// It is the Nabla def %s (%s).", signature(d, di), posString(d.P))
	}
	// The def's function reading matrices in place, if any, goes before
	// the exported functions' doc comments.
	var ip *inPlaceFn
	direct := g.direct(di, params, results)
	if !direct {
		ip = g.inPlace(w, di, params, results)
	}
	// The plain variant.
	fmt.Fprintf(w, "%s\n", doc)
	if hasArray {
		fmt.Fprintf(w, "// Its array results are newly allocated; %sInto writes them into buffers instead.\n", name)
	}
	fmt.Fprintf(w, "func %s(%s) %s {\n", name, strings.Join(sig, ", "), retList(rets, fails))
	if !direct || !g.emitDirectBody(w, di, name, params) {
		g.emitExportBody(w, di, ip, params, results, fails, false)
	}
	w.WriteString("}\n\n")
	if !hasArray {
		return
	}
	// The Into variant: array results go to dst buffers of the right
	// shapes.
	var dsig []string
	var scalarRets []string
	k := 0
	for _, l := range results {
		if l.rank > 0 {
			dsig = append(dsig, fmt.Sprintf("dst%d %s", k, g.exportType(l)))
		} else {
			scalarRets = append(scalarRets, l.goType())
		}
		k++
	}
	fmt.Fprintf(w, "// %sInto is %s with its array results written into the dst buffers,\n// which must have the results' shapes; %s\n", name, name, g.steady)
	fmt.Fprintf(w, "func %sInto(%s) %s {\n", name, strings.Join(append(dsig, sig...), ", "), retList(scalarRets, true))
	g.emitExportBody(w, di, ip, params, results, true, true)
	w.WriteString("}\n\n")
}

// leadingComment returns the // comment lines right above line (1-based)
// of src, skipping attribute lines (@jvp(...)), without the slashes.
func leadingComment(src []byte, line int) []string {
	if src == nil || line < 2 {
		return nil
	}
	lines := strings.Split(string(src), "\n")
	var out []string
	for i := line - 2; i >= 0 && i < len(lines); i-- {
		l := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(l, "@"):
			continue
		case strings.HasPrefix(l, "//"):
			out = append([]string{strings.TrimSpace(strings.TrimPrefix(l, "//"))}, out...)
			continue
		}
		break
	}
	return out
}

func hasFlatten(ps []exportParam) bool {
	for _, p := range ps {
		if p.fn == nil && p.l.rank >= 2 {
			return true
		}
	}
	return false
}

func retList(rets []string, fails bool) string {
	if fails {
		rets = append(append([]string(nil), rets...), "error")
	}
	switch len(rets) {
	case 0:
		return ""
	case 1:
		return rets[0]
	}
	return "(" + strings.Join(rets, ", ") + ")"
}

// signature renders a def's Nabla signature for its doc comment.
func signature(d *ir.Def, di *defInfo) string {
	var ps []string
	var vars []*ir.Var
	if d.HasParams {
		vars = d.Params
	} else if di.lambda != nil {
		vars = di.lambda.Params
	}
	for _, p := range vars {
		ps = append(ps, p.Name+": "+p.T.String())
	}
	if !d.HasParams && di.lambda == nil {
		return d.Name + ": " + di.result.String()
	}
	return fmt.Sprintf("%s(%s): %s", d.Name, strings.Join(ps, ", "), di.result)
}

// emitExportBody converts the arguments to the internal layout, calls the
// internal function with an arena, and converts the results back.
//
// With ip, the def's second function reading some matrices in place
// (inplace.go), those are checked, not copied, and ip is called.
func (g *gen) emitExportBody(w *bytes.Buffer, di *defInfo, ip *inPlaceFn, params []exportParam, results []leaf, fails, into bool) {
	var zeros []string
	for _, l := range results {
		if into && l.rank > 0 {
			continue
		}
		zeros = append(zeros, zeroOf(g.exportType(l)))
	}
	retErr := func(e string) string {
		return "return " + strings.Join(append(append([]string(nil), zeros...), e), ", ")
	}
	pooled := false
	if di.value && !hasFlatten(params) {
		// a cached value: nothing to allocate per call
	} else if di.arena || hasFlatten(params) {
		w.WriteString("ar := runtime.Arenas.Get()\nar.Reset()\ndefer runtime.Arenas.Put(ar)\n")
		pooled = true
	} else {
		w.WriteString("var ar *runtime.Arena // nothing to allocate\n")
	}
	var args []string
	if !di.value {
		args = append(args, "ar")
	}
	// Results written in place when no destination shares memory with
	// another or with an argument read in place (runtime.Dsts): the
	// destinations first, the arguments checked against them below.
	inPlaceInto := into && ip != nil && ip.intoName != ""
	placed := map[int]bool{}
	var dsts []string
	if inPlaceInto {
		for _, pr := range ip.placed {
			placed[pr.k] = true
			dsts = append(dsts, fmt.Sprintf("dst%d", pr.k))
		}
		// Every float64 destination, also those the copies after the
		// call fill: written in place, a result must not land where a
		// later copy goes (or an earlier one went).
		w.WriteString("var dsts runtime.Dsts\n")
		for k, l := range results {
			switch {
			case l.kind != ir.F64 || l.rank == 0:
			case l.rank == 1:
				fmt.Fprintf(w, "dsts.Vec(dst%d)\n", k)
			case l.rank == 2:
				fmt.Fprintf(w, "dsts.Mat(dst%d)\n", k)
			default:
				fmt.Fprintf(w, "for _, m := range dst%d {\ndsts.Mat(m)\n}\n", k)
			}
		}
	}
	for k, p := range params {
		if p.fn != nil {
			fmt.Fprintf(w, "if %s == nil {\n%s\n}\n", p.name,
				retErr(fmt.Sprintf("fmt.Errorf(%q)", fmt.Sprintf("%s: argument %s is a nil function", di.def.Name, p.name))))
			args = append(args, adapter(w, p.name, p.fn))
			continue
		}
		switch {
		case p.l.rank == 0:
			args = append(args, p.name)
		case p.l.rank == 1:
			args = append(args, p.name, "len("+p.name+")")
		case ip != nil && ip.rows[k]:
			// Checked, not copied; in the same pass, for an Into
			// function writing in place, whether a destination is in
			// one of its rows.
			check := fmt.Sprintf("%sCols, ok := runtime.Rows2(%s)", p.name, p.name)
			if inPlaceInto && p.l.kind == ir.F64 {
				check = fmt.Sprintf("%sCols, ok, %sApart := runtime.Rows2Apart(&dsts, %s)", p.name, p.name, p.name)
			}
			fmt.Fprintf(w, "%s\nif !ok {\n%s\n}\n", check,
				retErr(fmt.Sprintf("fmt.Errorf(%q)", fmt.Sprintf("%s: argument %s is not rectangular", di.def.Name, p.name))))
			args = append(args, p.name, "len("+p.name+")", p.name+"Cols")
		case g.dense(p.l):
			// A matrix whose rows are contiguous is read in place.
			fmt.Fprintf(w, "%sFlat, %sDims, ok := dense.From(ar, %s)\nif !ok {\n%s\n}\n", p.name, p.name, p.name,
				retErr(fmt.Sprintf("fmt.Errorf(%q)", fmt.Sprintf("%s: argument %s is a nil matrix", di.def.Name, p.name))))
			args = append(args, p.name+"Flat", p.name+"Dims[0]", p.name+"Dims[1]")
		default:
			flat := p.name + "Flat"
			var dims []string
			for a := 0; a < p.l.rank; a++ {
				dims = append(dims, fmt.Sprintf("%sDims[%d]", p.name, a))
			}
			fmt.Fprintf(w, "%s, %sDims, ok := runtime.Flatten%d(ar, %s)\nif !ok {\n%s\n}\n", flat, p.name, p.l.rank, p.name,
				retErr(fmt.Sprintf("fmt.Errorf(%q)", fmt.Sprintf("%s: argument %s is not rectangular", di.def.Name, p.name))))
			args = append(args, flat)
			args = append(args, dims...)
		}
	}
	var rparts []string
	for i, l := range results {
		for j := 0; j < l.nparts(); j++ {
			rparts = append(rparts, fmt.Sprintf("r%d_%d", i, j))
		}
	}
	lhs := strings.Join(rparts, ", ")
	goName := di.goName
	switch {
	case inPlaceInto:
		goName = ip.intoName
		conds := []string{"dsts.Ok()"}
		for k, p := range params {
			switch {
			case p.fn != nil || p.l.kind != ir.F64:
			case p.l.rank == 1:
				conds = append(conds, fmt.Sprintf("runtime.ApartVec(&dsts, %s)", p.name))
			case p.l.rank == 2 && ip.rows[k]:
				conds = append(conds, p.name+"Apart")
			}
		}
		fmt.Fprintf(w, "placed := %s\n", strings.Join(conds, " && "))
		args = append([]string{args[0], "placed"}, append(dsts, args[1:]...)...)
	case ip != nil && ip.goName != "":
		goName = ip.goName
	}
	call := fmt.Sprintf("%s(%s)", goName, strings.Join(args, ", "))
	if pooled && !di.value {
		// The results are copied out below and the arena reset before its
		// next use: the def need not compact them (Arena.Keep).
		w.WriteString("ar.Outer()\n")
	}
	if di.fails {
		if lhs == "" {
			lhs = "err"
		} else {
			lhs += ", err"
		}
		fmt.Fprintf(w, "%s := %s\nif err != nil {\n%s\n}\n", lhs, call, retErr(fmt.Sprintf("runtime.WithFrame(err, %q, %q, \"\")", di.def.Name, posString(di.def.P))))
	} else if lhs != "" {
		fmt.Fprintf(w, "%s := %s\n", lhs, call)
	} else {
		fmt.Fprintf(w, "%s\n", call)
	}
	var outs []string
	for i, l := range results {
		r := fmt.Sprintf("r%d_0", i)
		if l.rank == 0 {
			outs = append(outs, r)
			continue
		}
		var dims []string
		for a := 1; a <= l.rank; a++ {
			dims = append(dims, fmt.Sprintf("r%d_%d", i, a))
		}
		if g.dense(l) {
			if into {
				dst := fmt.Sprintf("dst%d", i)
				fmt.Fprintf(w, "if !dense.Into(%s, %s, %s) {\n%s\n}\n", dst, r, strings.Join(dims, ", "),
					retErr(fmt.Sprintf(`fmt.Errorf("%s: %s is not a %%d×%%d matrix", %s)`, di.def.Name, dst, strings.Join(dims, ", "))))
				continue
			}
			outs = append(outs, fmt.Sprintf("dense.To(%s, %s)", r, strings.Join(dims, ", ")))
			continue
		}
		if into {
			dst := fmt.Sprintf("dst%d", i)
			intoFn := fmt.Sprintf("runtime.Into%d", min(l.rank, 3))
			if placed[i] {
				intoFn = fmt.Sprintf("runtime.IntoPlaced%d", l.rank)
			}
			fmt.Fprintf(w, "if !%s(%s, %s, %s) {\n%s\n}\n", intoFn, dst, r, strings.Join(dims, ", "),
				retErr(fmt.Sprintf(`fmt.Errorf("%s: %s does not have the result's shape %%v", []int{%s})`, di.def.Name, dst, strings.Join(dims, ", "))))
			continue
		}
		outs = append(outs, fmt.Sprintf("runtime.Out%d(%s, %s)", min(l.rank, 3), r, strings.Join(dims, ", ")))
	}
	if fails {
		outs = append(outs, "nil")
	}
	if len(outs) > 0 {
		fmt.Fprintf(w, "return %s\n", strings.Join(outs, ", "))
	}
}

// steadyAllocs says what an Into variant allocates in steady state; run
// computes it once, into g.steady, before the exported functions. Its
// arrays come from an arena kept from call to call, and a loop large
// enough to run in parallel from records kept too (runtime.LoopSite),
// but the runtime's solvers take their work buffers per call; the
// sentence names those the file's code can reach (found in the code
// emitted so far, the internal functions, which exported functions only
// call).
func (g *gen) steadyAllocs() string {
	body := g.body.String()
	var what []string
	if strings.Contains(body, "runtime.GMRES(") {
		what = append(what, "linsolve's work buffers")
	}
	if strings.Contains(body, "runtime.Dopri5(") {
		what = append(what, "ode_dopri5's work buffers")
	}
	if len(what) == 0 {
		return "in steady state it allocates nothing."
	}
	return "in steady state it allocates\n// nothing but " + strings.Join(what, " and ") + ", when it runs them."
}
