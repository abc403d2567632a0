package codegen

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/nabla-lang/nabla/ir"
)

// Options configure Generate.
type Options struct {
	// Package is the Go package name (default "main").
	Package string
	// Main adds the run harness: a func main that calls the def named by
	// -f on JSON arguments read from standard input, one per line, and
	// prints the result as JSON. Every def gets an internal function.
	Main bool
	// Sources maps file names (as in positions) to their text, so that
	// an exported function's doc comment can carry its def's leading
	// comment.
	Sources map[string][]byte
	// Dense makes the f64 matrices of exported signatures *mat.Dense
	// (gonum.org/v1/gonum/mat) instead of [][]float64: an argument whose
	// rows are contiguous is then read in place, without a copy. The
	// generated file then imports gonum's mat package.
	Dense bool
	// Steps makes the run harness count steps, so that -max-steps (nabla
	// run --max-steps) can stop a run: one step per loop iteration and
	// one per element of an array built element by element, charged
	// before the work (see steps.go). Without it generated code counts
	// nothing and costs nothing for the limit.
	Steps bool
	// ParallelMin, if positive, makes every loop that can run in
	// parallel do so from ParallelMin elements on, in chunks of half as
	// many (for tests; the default thresholds are in parallel.go).
	ParallelMin int
	// noTri turns off the triangular products of tri.go (for tests: the
	// general loops they must agree with bit for bit).
	noTri bool
	// noSweep turns off the one-sweep reverse pass of a quadratic form
	// (trisweep.go; for tests: the general code it must agree with).
	noSweep bool
	// noUpperCut makes the sweep add its outer product above the
	// diagonal too where nobody reads it (triupper.go; for tests).
	noUpperCut bool
	// noPointFuse turns off the fused tape build and reverse loop of
	// pointfuse.go (for tests: the general code it must agree with).
	noPointFuse bool
	// noKeptDirect makes the fused loop compute its kept forward product
	// into a buffer of its own and copy it to the kept row (pointfuse.go;
	// for tests: the copy the direct destination must agree with).
	noKeptDirect bool
	// noKeptOperand makes the fused loop's reverse body compute the
	// kept product's vector operand again instead of reading the
	// forward's (pointfuse.go; for tests).
	noKeptOperand bool
	// noSmallTrips turns off the straight-line small products of
	// smalltrip.go (for tests: the loops they must agree with).
	noSmallTrips bool
	// noSoftWeights keeps reverse mode's exp(v - logsumexp(v)) as it is
	// instead of the weights saved by the forward pass (softweights.go;
	// for tests).
	noSoftWeights bool
	// noFastChecks writes every size check as runtime.CheckSize (for
	// tests: topchecks.go's fast checks must agree with it).
	noFastChecks bool
	// noDirect makes every exported function call its def's internal
	// function (for tests: direct.go's bodies must agree with the call).
	noDirect bool
	// noInPlace makes every exported function copy its matrix arguments
	// into the flat layout (for tests: inplace.go's reads of the caller's
	// rows must agree with the copies).
	noInPlace bool
	// ColumnBlock, if positive, is the width of the blocks of columns
	// a columnwise tail runs on, and every columnwise tail that calls a
	// def not inlined is run so, however little work it holds (for
	// tests; columns.go).
	ColumnBlock int
	// noScalarCols keeps every columnwise tail on blocks, none run as
	// scalar code (for tests: scalarcols.go must agree with the blocks).
	noScalarCols bool
}

// Generate emits Go source for a program after the opt stage: an internal
// function per def (those whose types have a run-time form), a documented
// exported function (and an ...Into variant for array results) per
// exported def, and with opts.Main the run harness. The output is
// gofmt-formatted and depends only on p and opts.
func Generate(p *ir.Program, opts Options) (out []byte, err error) {
	return GenerateAll([]*ir.Program{p}, opts)
}

// GenerateAll is Generate for several programs (the files of one nabla
// gen run) emitted into one file; their exported names must not clash.
func GenerateAll(progs []*ir.Program, opts Options) (out []byte, err error) {
	if opts.Package == "" {
		opts.Package = "main"
	}
	if opts.Steps && !opts.Main {
		return nil, fmt.Errorf("codegen: Options.Steps needs Options.Main (only the run harness sets a step limit)")
	}
	g := &gen{progs: progs, opts: opts, helpers: map[string]bool{}}
	defer func() {
		if r := recover(); r != nil {
			if ge, ok := r.(genError); ok {
				out, err = nil, ge.err
				return
			}
			// A bug of the generator must not bring down the embedding
			// program or print a Go stack trace to a user.
			out, err = nil, fmt.Errorf("internal error in the Go backend: %v", r)
		}
	}()
	return g.run()
}

type gen struct {
	progs   []*ir.Program
	opts    Options
	helpers map[string]bool
	defs    map[string]*defInfo
	order   []*defInfo
	used    map[string]bool         // Go names taken at package level
	body    bytes.Buffer            // function declarations
	steady  string                  // what Into variants allocate (steadyAllocs)
	cols    map[string]*colOutlined // defs run on blocks of columns (columns.go)
	scalar  map[string]bool         // of those, the ones run as scalar code (scalarcols.go)
}

// defInfo is what callers need to know of a def's generated function.
type defInfo struct {
	def    *ir.Def
	goName string
	params []ir.Type
	result ir.Type
	lambda *ir.Lambda // a value def whose value is a function
	fails  bool       // the function returns an error last
	arena  bool       // the function (or a callee) allocates from its arena
	value  bool       // a value def of a non-function type (a cached getter)
	skip   error      // why no function was generated
	// scope is the defs of the def's program, by name, for calls made
	// when its body is compiled again (direct.go).
	scope map[string]*defInfo
}

func (g *gen) fail(format string, args ...any) {
	panic(genError{fmt.Errorf(format, args...)})
}

func (g *gen) run() ([]byte, error) {
	g.used = map[string]bool{"main": true, "init": true}
	var all []*defInfo
	g.cols = map[string]*colOutlined{}
	g.scalar = map[string]bool{}
	for _, p := range g.progs {
		if !g.opts.Steps {
			// Steps count per element and iteration: blocks would not
			// change them, but the step limit's failure must come from
			// the whole call, so only the general code counts.
			var cols map[string]*colOutlined
			p, cols = outlineColumns(p, g.opts.ColumnBlock > 0)
			for name, c := range cols {
				g.cols[name] = c
			}
		}
		if !g.opts.noSoftWeights {
			p = keepSoftWeights(p) // softweights.go
		}
		g.defs = map[string]*defInfo{}
		g.order = nil
		if err := g.emitProgram(p); err != nil {
			return nil, err
		}
		all = append(all, g.order...)
	}
	g.order = all
	var exported bytes.Buffer
	if !g.opts.Main {
		g.steady = g.steadyAllocs()
		seen := map[string]string{}
		for _, di := range g.order {
			if !di.def.Export || di.skip != nil {
				continue
			}
			if err := exportable(di); err != nil {
				return nil, fmt.Errorf("%s: export def %s: %v", di.def.P, di.def.Name, err)
			}
			if prev, dup := seen[di.def.Name]; dup {
				return nil, fmt.Errorf("%s: export def %s: also exported at %s", posString(di.def.P), di.def.Name, prev)
			}
			seen[di.def.Name] = posString(di.def.P)
			g.emitExported(&exported, di)
		}
	}
	var harness bytes.Buffer
	if g.opts.Main {
		g.emitHarness(&harness)
	}
	var src bytes.Buffer
	src.WriteString("// Code generated by nabla; DO NOT EDIT.\n\n")
	if g.opts.Main {
		src.WriteString("// Command main runs the defs of a Nabla program; nabla run --backend go\n// builds and runs it.\n")
	}
	fmt.Fprintf(&src, "package %s\n\n", g.opts.Package)
	src.Write(exported.Bytes())
	src.Write(g.body.Bytes())
	src.Write(harness.Bytes())
	g.writeHelpers(&src)
	withImp, err := withImports(src.Bytes())
	if err != nil {
		return src.Bytes(), fmt.Errorf("internal error: generated code: %v", err)
	}
	formatted, err := format.Source(withImp)
	if err != nil {
		return withImp, fmt.Errorf("internal error: generated code does not parse: %v", err)
	}
	return formatted, nil
}

// importable are the packages generated code may use, by the name it
// refers to them by.
var importable = map[string]string{
	"bufio": "bufio", "fmt": "fmt", "io": "io", "json": "encoding/json", "mat": "gonum.org/v1/gonum/mat", "math": "math",
	"os": "os", "runtime": runtimeImport, "dense": runtimeImport + "/dense", "strconv": "strconv", "sync": "sync", "time": "time", "atomic": "sync/atomic",
	"debug": "runtime/debug", "metrics": "runtime/metrics",
}

// withImports inserts the import declaration into src, a file with none:
// the packages of importable that the code refers to, found by parsing
// it, so that the list is exact whatever the emitters used. (Generated
// locals carry a numeric suffix and never shadow a package name.)
func withImports(src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "", src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && importable[x.Name] != "" {
				used[importable[x.Name]] = true
			}
		}
		return true
	})
	if len(used) == 0 {
		return src, nil
	}
	var std, other []string
	for path := range used {
		if strings.Contains(path, ".") {
			other = append(other, path)
		} else {
			std = append(std, path)
		}
	}
	sort.Strings(std)
	sort.Strings(other)
	var w bytes.Buffer
	w.WriteString("import (\n")
	for _, s := range std {
		fmt.Fprintf(&w, "%q\n", s)
	}
	if len(std) > 0 && len(other) > 0 {
		w.WriteString("\n")
	}
	for _, s := range other {
		fmt.Fprintf(&w, "%q\n", s)
	}
	w.WriteString(")\n\n")
	at := fset.Position(file.Name.End()).Offset
	out := append([]byte(nil), src[:at]...)
	out = append(out, "\n\n"...)
	out = append(out, w.Bytes()...)
	return append(out, src[at:]...), nil
}

// emitProgram emits the internal functions of one program's defs.
func (g *gen) emitProgram(p *ir.Program) error {
	for _, d := range p.Defs {
		di := &defInfo{def: d}
		base := "fn_" + goIdent(d.Name)
		name := base
		for k := 2; g.used[name]; k++ {
			name = base + strconv.Itoa(k)
		}
		g.used[name] = true
		di.goName = name
		di.scope = g.defs
		g.defs[d.Name] = di
		g.order = append(g.order, di)
	}
	for _, di := range g.order {
		if err := g.emitDef(di); err != nil {
			di.skip = err
			if di.def.Export && !g.opts.Main {
				return fmt.Errorf("%s: export def %s: %v", di.def.P, di.def.Name, err)
			}
		}
	}
	return nil
}

// exportable reports why an exported def has no exported Go function.
func exportable(di *defInfo) error {
	var ts []ir.Type
	for _, t := range append([]ir.Type{di.result}, di.params...) {
		if ft, ok := t.(*ir.Func); ok {
			if _, err := userFuncType(ft); err != nil {
				return err
			}
			continue
		}
		ts = append(ts, t)
	}
	for _, t := range ts {
		for _, l := range mustLeaves(t) {
			if l.rank > 3 {
				return fmt.Errorf("arrays of rank %d are not supported in exported signatures (at most 3)", l.rank)
			}
		}
	}
	return nil
}

const runtimeImport = "github.com/nabla-lang/nabla/runtime"

// ---- defs ----

// emitDef generates the internal function of one def.
func (g *gen) emitDef(di *defInfo) (err error) {
	d := di.def
	defer func() {
		if r := recover(); r != nil {
			if ge, ok := r.(genError); ok {
				err = ge.err
				return
			}
			err = ir.Errorf(d.P, "internal error in the Go backend, generating %s: %v", d.Name, r)
		}
	}()
	var params []*ir.Var
	var body ir.Expr
	switch {
	case d.HasParams:
		params, body = d.Params, d.Body
		di.result = d.Result
	default:
		if lam, ok := d.Body.(*ir.Lambda); ok {
			di.lambda = lam
			params, body = lam.Params, lam.Body
			di.result = lam.Body.Type()
		} else if _, isFn := d.Body.Type().(*ir.Func); isFn {
			return fmt.Errorf("a function value that is not a lambda after optimization")
		} else {
			di.value = true
			di.result = d.Body.Type()
			body = d.Body
		}
	}
	for _, p := range params {
		di.params = append(di.params, p.T)
		if ft, ok := p.T.(*ir.Func); ok {
			// A template's function parameter: a Go func value.
			if _, err := goFuncType(ft); err != nil {
				return err
			}
			continue
		}
		if _, err := leavesOf(p.T); err != nil {
			return err
		}
	}
	for _, sv := range d.SizeVars {
		if sv.Param >= 0 {
			if _, isFn := params[sv.Param].T.(*ir.Func); isFn {
				return fmt.Errorf("size variable %s is bound by a function parameter's type", sv.Var.Name)
			}
		}
	}
	if _, err := leavesOf(di.result); err != nil {
		return err
	}
	sig, code, rets, f := g.defCode(di, params, body, "", "")
	di.fails = f.fails
	di.arena = f.arena
	if di.value {
		g.emitValueDef(di, code, partTypes(di.result))
		return nil
	}
	what := "def " + d.Name
	fmt.Fprintf(&g.body, "// %s is %s (%s).\nfunc %s(%s) %s {\n%s}\n\n", di.goName, what, d.P, di.goName, strings.Join(sig, ", "), rets, code)
	if g.cols[d.Name] != nil {
		g.emitColumnsWrapper(di)
	}
	return nil
}

// defCode compiles a def's body (params and body as emitDef found them)
// into the code of a Go function whose parameters are sig and results
// rets. top, when not "", is the frame every error leaving the function
// gets (runtime.WithFrame's arguments): the exported function's own,
// when it holds the body itself (direct.go), owner its Go name. The
// returned fn tells whether the code fails and allocates.
func (g *gen) defCode(di *defInfo, params []*ir.Var, body ir.Expr, top, owner string) (sig []string, code, rets string, f *fn) {
	d := di.def
	f = newFn(g, di)
	f.top, f.owner = top, owner
	sig = []string{"ar *runtime.Arena"}
	for _, p := range params {
		if ft, ok := p.T.(*ir.Func); ok {
			name := f.fresh(p.Name)
			gt, _ := goFuncType(ft)
			sig = append(sig, name+" "+gt)
			f.fenv[p] = staticFn{dyn: name, dynT: ft}
			continue
		}
		v := val{t: p.T}
		for _, pt := range partTypes(p.T) {
			name := f.fresh(p.Name)
			v.parts = append(v.parts, name)
			sig = append(sig, name+" "+pt)
		}
		f.env[p] = v
		for _, a := range v.parts {
			if f.params == nil {
				f.params = map[string]bool{}
			}
			f.params[a] = true
		}
	}
	if d.HasParams {
		// The entry checks hold in the whole body: runs of lets may join
		// members whose lengths they prove equal (lengths.go).
		f.facts = true
		f.bindSizes(params)
		f.facts = false
	}
	// Tell Go's prover each array parameter's length, so that loops
	// bounded by the dimensions index without per-element checks.
	var reslices []string
	for _, p := range params {
		if _, ok := p.T.(*ir.Func); ok {
			continue
		}
		ls, lp := f.env[p].leafParts()
		for k, l := range ls {
			if l.rank > 0 {
				r := fmt.Sprintf("%s = %s[:%s]", lp[k][0], lp[k][0], strings.Join(lp[k][1:], "*"))
				reslices = append(reslices, r)
				f.line("%s", r)
			}
		}
	}
	res := f.compile(f.inlineCalls(body))
	resTypes := partTypes(di.result)
	code = f.b.String()
	rets = strings.Join(resTypes, ", ")
	if f.fails {
		if rets == "" {
			rets = "error"
		} else {
			rets += ", error"
		}
	}
	if strings.Contains(rets, ",") {
		rets = "(" + rets + ")"
	}
	ret := strings.Join(res.parts, ", ")
	if f.fails {
		if ret == "" {
			ret = "nil"
		} else {
			ret += ", nil"
		}
	}
	if !di.value && strings.Contains(code, "ar.") {
		code = f.keepResults(code, res)
	}
	code = f.onceDecls(code) + code + "return " + ret + "\n"
	// A parameter nothing reads needs no reslicing (an unused store).
	if len(reslices) > 0 {
		uses := map[string]int{}
		for _, id := range identRE.FindAllString(code, -1) {
			uses[id]++
		}
		for _, r := range reslices {
			if name := r[:strings.IndexByte(r, ' ')]; uses[name] == 2 {
				f.dropLine(r) // its own two mentions are all
			}
		}
	}
	if len(f.drop) > 0 {
		var keep []string
		for _, l := range strings.Split(code, "\n") {
			if !f.drop[strings.TrimSpace(l)] {
				keep = append(keep, l)
			}
		}
		code = strings.Join(keep, "\n")
	}
	code = markUnused(dropUnreadArrays(dropDeadParts(dropWriteOnly(f.hoistScratch(code)))))
	return sig, code, rets, f
}

// keepResults brackets a function's code with a mark of its arena and
// Arena.Keep on its float64 array results, so that the temporaries it cuts
// are released when it returns (its results moved down to the mark).
func (f *fn) keepResults(code string, res val) string {
	var ptrs []string
	seen := map[string]bool{}
	ls, lp := res.leafParts()
	for k, l := range ls {
		if p := lp[k][0]; l.rank > 0 && l.kind == ir.F64 && localRE.MatchString(p) && !seen[p] {
			seen[p] = true
			ptrs = append(ptrs, "&"+p)
		}
	}
	if len(ptrs) == 0 {
		return code
	}
	m := f.fresh("mark")
	return fmt.Sprintf("%s := ar.Mark()\n%sar.Keep(%s, %s)\n", m, code, m, strings.Join(ptrs, ", "))
}

// dropLine deletes every line of the function being emitted that is, but
// for indentation, line.
func (f *fn) dropLine(line string) {
	if f.drop == nil {
		f.drop = map[string]bool{}
	}
	f.drop[line] = true
}

// emitValueDef makes a value def a getter that computes the value once.
func (g *gen) emitValueDef(di *defInfo, code string, resTypes []string) {
	n := di.goName
	var vars, names []string
	for i, t := range resTypes {
		vn := fmt.Sprintf("%s_v%d", n, i)
		vars = append(vars, vn+" "+t)
		names = append(names, vn)
	}
	fmt.Fprintf(&g.body, "var (\n%s_once sync.Once\n%s\n%s_err error\n)\n\n", n, strings.Join(vars, "\n"), n)
	rets := strings.Join(append(append([]string(nil), resTypes...), "error"), ", ")
	fmt.Fprintf(&g.body, "// %s is the value of def %s (%s), computed once.\nfunc %s() (%s) {\n%s_once.Do(func() {\n%s = %s_compute()\n})\nreturn %s, %s_err\n}\n\n",
		n, di.def.Name, di.def.P, n, rets, n, strings.Join(append(names, n+"_err"), ", "), n, strings.Join(names, ", "), n)
	if !di.fails {
		code = strings.TrimSuffix(code, "\n")
		i := strings.LastIndex(code, "return ")
		code = code[:i] + "return " + code[i+len("return "):] + ", nil\n"
	}
	fmt.Fprintf(&g.body, "func %s_compute() (%s) {\nvar ar *runtime.Arena // values outlive calls: plain allocation\n_ = ar\n%s}\n\n", n, rets, code)
	di.fails = true
}

var (
	identRE  = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*`)
	localRE  = regexp.MustCompile(`^[A-Za-z0-9]*_[0-9]+$`)
	lhsRE    = regexp.MustCompile(`^\s*((?:[A-Za-z0-9_]+\s*,\s*)*[A-Za-z0-9_]+)\s*(:?=)\s`)
	varDecRE = regexp.MustCompile(`^\s*var\s+([A-Za-z0-9_]+)\s`)
)

// markUnused adds `_ = x` after the declaration of each local that is
// never read, since Go rejects unused variables and the emitter declares
// every part of every value (the dimensions of an array whose size is
// never asked for, say). Locals are the names ending in _N.
//
// Reads are counted over the whole function, but for a declaration that
// shadows a name read before it (a parallel body's copy of a captured
// local): its reads are those of its own block, since a later pass may
// delete the body's only read while the outer name stays read.
func markUnused(code string) string {
	lines := strings.Split(code, "\n")
	uses := map[string]int{}
	first := map[string]int{} // the first line that reads each name
	decl := make([][]string, len(lines))
	reads := make([][]string, len(lines))
	for k, l := range lines {
		names, op, rest := splitStore(l)
		if op == ":=" || op == "var" {
			decl[k] = names
		}
		reads[k] = identRE.FindAllString(rest, -1)
		for _, id := range reads[k] {
			if _, ok := first[id]; !ok {
				first[id] = k
			}
			uses[id]++
		}
	}
	var out []string
	for k, l := range lines {
		out = append(out, l)
		for _, name := range decl[k] {
			if !localRE.MatchString(name) {
				continue
			}
			n := uses[name]
			if j, ok := first[name]; ok && j < k {
				n = blockReads(lines[k+1:], reads[k+1:], name)
			}
			if n == 0 {
				out = append(out, "_ = "+name)
			}
		}
	}
	return strings.Join(out, "\n")
}

// blockReads counts the reads of name in lines (with their reads) up to
// the brace that closes the block they start in.
func blockReads(lines []string, reads [][]string, name string) int {
	n, depth := 0, 0
	for k, l := range lines {
		for _, c := range blankStrings(l) {
			switch c {
			case '{':
				depth++
			case '}':
				depth--
			}
			if depth < 0 {
				return n
			}
		}
		for _, id := range reads[k] {
			if id == name {
				n++
			}
		}
	}
	return n
}

// splitStore splits a line of emitted code into the names it stores to,
// how ("var", ":=", "=" or "" for none) and the rest, which it reads.
func splitStore(l string) (names []string, op, rest string) {
	if m := varDecRE.FindStringSubmatch(l); m != nil {
		if i := strings.Index(l, " = "); i >= 0 {
			rest = l[i+3:]
		}
		return []string{m[1]}, "var", rest
	}
	if m := lhsRE.FindStringSubmatch(l); m != nil && !strings.HasPrefix(strings.TrimSpace(l), "for ") {
		names = strings.Split(m[1], ",")
		for i := range names {
			names[i] = strings.TrimSpace(names[i])
		}
		return names, m[2], l[len(m[0]):]
	}
	return nil, "", l
}

// ---- functions ----

// fn is the state of one Go function being emitted.
type fn struct {
	g *gen
	// deferCat is the concat of the array literal element being compiled
	// whose copy the literal makes (catrows.go), and catLeaves its leaves
	// once compiled.
	deferCat  *ir.PrimCall
	catLeaves []val
	di        *defInfo
	b         *strings.Builder
	n         int
	env       map[*ir.Var]val
	fenv      map[*ir.Var]staticFn
	fails     bool
	// errRet is the return statement prefix for an error: the zero
	// values of the results.
	zeros []string
	// closure, when emitting inside a Go func literal with its own
	// error convention (linsolve's matvec), handles errors instead.
	errHook func(errExpr string) string
	// lin and bounds are what ranges.go knows of integer atoms.
	lin    map[string]linForm
	bounds map[string]interval
	arena  bool // an array is allocated
	allocs int  // allocations emitted so far
	marks  map[string]int
	// dryRun counts the scratch compilations of loop bodies in progress.
	dryRun int
	// inplace holds the loop states that update may modify in place.
	inplace map[*ir.Var]bool
	drop    map[string]bool // lines to delete (marks of loops that allocate nothing)
	// plan says how the let being compiled reads the leaves of its
	// array of tuples (fields.go), for the build that computes it.
	plan *leafPlan
	// ifPlan is plan for a tape built by an if (isSavedIf).
	ifPlan *leafPlan
	// outPlans holds, for a let computing the saved states of an inner
	// loop that become a field of an outer loop's states, how the outer
	// tape's readers read them (fields.go, planOut).
	outPlans map[*ir.Var]*outUse
	// skip marks, by element, the tuples some of whose elements are
	// unread or have their shape alone read (skipValue, skipData;
	// fields.go).
	skip map[*ir.MakeTuple][]int
	// views holds the array atoms that share storage although their
	// primitive's result is fresh (fields.go).
	views map[string]bool
	// lastOnly holds the data atoms of saved leaves that hold a
	// loop_save's final state alone, the only element read (fieldLast),
	// with the saved leaf's rank: indexing a leaf of that rank is the
	// atom itself (the state's own elements, one rank down, are indexed
	// as usual).
	lastOnly map[string]int
	// bcast holds the data atoms of saved leaves that hold one row every
	// element shares (fields.go, invariantLeaves): indexing one is the
	// atom itself.
	bcast map[string]bool
	// dest holds, for a build nested in an element of an outer build
	// being emitted, where each of its leaves ends up (fields.go,
	// nestedBuilds): its storage is then the outer row itself.
	dest map[*ir.PrimCall][]*destHint
	// loops counts the loop bodies being emitted: only a loop outside
	// every other goes parallel (parallel.go).
	loops int
	// params holds the atoms of the function's parameters; onceFlags the
	// flags of checks run once (hoist.go).
	params    map[string]bool
	onceFlags map[string]string
	// frames are the calls inlined around the code being emitted
	// (group.go), innermost last: an error gets their frames.
	frames []string
	// top, when not "", is the frame of the def itself, which an error
	// gets as it leaves the function (direct.go): set where an exported
	// function holds the def's body instead of calling its function.
	top string
	// owner is the Go function being emitted when it is not di's own
	// (an exported function holding the body), for comments.
	owner string
	// inl holds the frames of the lets of inlined code (inline.go);
	// tuples the variables of the elements of an inlined def's tuple.
	inl    map[*ir.Let][]string
	tuples map[*ir.Var][]*ir.Var
	// facts makes failIf record the lengths its check proves equal
	// (lengths.go); sameLen holds them.
	facts   bool
	sameLen map[string]string
	// triLets maps the def's let variables to their values, for
	// isLowerTri (tri.go); made at its first use.
	triLets map[*ir.Var]ir.Expr
	// upperRead is triupper.go's analysis of the def; made at its
	// first use.
	upperRead map[upperSlot]bool
	// noSweepAt holds the lets trisweep.go compiles as the general code
	// of a sweep (not matched again).
	noSweepAt map[*ir.Let]bool
	// pf is the fused region being emitted (pointfuse.go); pfNo the
	// build lets compiled as its general code (not matched again).
	pf   *pointFuse
	pfNo map[*ir.Let]bool
}

// staticFn is a function value known at compile time: a def or a lambda
// with the environment it was made in.
type staticFn struct {
	def  *defInfo
	lam  *ir.Lambda
	env  map[*ir.Var]val
	fenv map[*ir.Var]staticFn
	// dyn names a Go func value (a function parameter of an exported
	// template), of Nabla type dynT.
	dyn  string
	dynT *ir.Func
}

// goFuncType is the Go type of a function parameter in the internal
// layout: the parts of its parameters in, the parts of its result out.
func goFuncType(ft *ir.Func) (string, error) {
	var in []string
	for _, p := range ft.Params {
		if _, err := leavesOf(p); err != nil {
			return "", err
		}
		in = append(in, partTypes(p)...)
	}
	if _, err := leavesOf(ft.Result); err != nil {
		return "", err
	}
	out := partTypes(ft.Result)
	r := strings.Join(out, ", ")
	if len(out) > 1 {
		r = "(" + r + ")"
	}
	return "func(" + strings.Join(in, ", ") + ") " + r, nil
}

func newFn(g *gen, di *defInfo) *fn {
	f := &fn{g: g, di: di, b: &strings.Builder{}, env: map[*ir.Var]val{}, fenv: map[*ir.Var]staticFn{}}
	if di != nil {
		for _, t := range partTypes(di.result) {
			f.zeros = append(f.zeros, zeroOf(t))
		}
	}
	return f
}

func (f *fn) fresh(name string) string {
	f.n++
	return goIdent(name) + "_" + strconv.Itoa(f.n)
}

func (f *fn) line(format string, args ...any) {
	fmt.Fprintf(f.b, format, args...)
	f.b.WriteByte('\n')
}

// def declares a fresh local with an initial value and returns its name.
func (f *fn) def(hint, expr string) string {
	n := f.fresh(hint)
	f.line("%s := %s", n, expr)
	return n
}

// defT declares a fresh local of a given Go type.
func (f *fn) defT(hint, typ, expr string) string {
	n := f.fresh(hint)
	f.line("var %s %s = %s", n, typ, expr)
	return n
}

// retErr emits the return of an error value.
func (f *fn) retErr(errExpr string) {
	f.fails = true
	for i := len(f.frames) - 1; i >= 0; i-- {
		errExpr = fmt.Sprintf("runtime.WithFrame(%s, %s)", errExpr, f.frames[i])
	}
	if f.errHook != nil {
		// Not a return from the function: the error goes on to code
		// that returns it through here, without a hook, in the end.
		f.line("%s", f.errHook(errExpr))
		return
	}
	if f.top != "" {
		errExpr = fmt.Sprintf("runtime.WithFrame(%s, %s)", errExpr, f.top)
	}
	f.line("return %s", strings.Join(append(append([]string(nil), f.zeros...), errExpr), ", "))
}

// failIf emits a check: if cond holds, the run fails at pos with msg (a
// Go expression of type string).
func (f *fn) failIf(cond string, pos ir.Pos, msgExpr string) {
	if cond = simplifyCond(cond); cond == "" {
		return
	}
	if f.facts {
		f.noteEqual(cond)
	}
	f.line("if %s {", cond)
	f.retErr(fmt.Sprintf("runtime.NewError(%s, %s)", strconv.Quote(posString(pos)), msgExpr))
	f.line("}")
}

func posString(p ir.Pos) string {
	if p.IsValid() || p.File != "" {
		return p.String()
	}
	return ""
}

// ---- sizes ----

// bindSizes binds a def's size variables from its parameters' dimensions
// and checks every dimension that must agree, with the interpreter's
// messages.
func (f *fn) bindSizes(params []*ir.Var) { f.bindSizesOf(f.di.def, params) }

// bindSizesOf is bindSizes for def d's parameters, bound in f.env.
func (f *fn) bindSizesOf(d *ir.Def, params []*ir.Var) {
	dimOf := func(param int, path []int, axis int) string {
		v := f.env[params[param]]
		for _, i := range path {
			v = projVal(v, i)
		}
		_, lp := v.leafParts()
		return lp[0][1+axis]
	}
	dimName := func(param int, path []int, axis int) string {
		name := params[param].Name
		for _, i := range path {
			name = fmt.Sprintf("field %d of %s", i, name)
		}
		if axis == 0 {
			return name
		}
		return fmt.Sprintf("dimension %d of %s", axis+1, name)
	}
	for _, sv := range d.SizeVars {
		var name, val string
		if sv.Param < 0 {
			val = f.env[sv.Var].parts[0]
			name = sv.Var.Name
		} else {
			val = f.def("size", "int64("+dimOf(sv.Param, sv.Path, sv.Axis)+")")
			f.setLin(val, linForm{base: dimOf(sv.Param, sv.Path, sv.Axis)})
			f.env[sv.Var] = valOf(ir.TI64, val)
			name = sv.Var.Name
		}
		for _, c := range sv.Checks {
			pos := c.P
			if !pos.IsValid() {
				pos = d.P
			}
			got := dimOf(c.Param, c.Path, c.Axis)
			var msg string
			if sv.Param < 0 {
				msg = fmt.Sprintf("fmt.Sprintf(%q, %s, %s)", fmt.Sprintf("size mismatch: %s is %%d but %s has size %%d", name, dimName(c.Param, c.Path, c.Axis)), val, got)
			} else {
				msg = fmt.Sprintf("fmt.Sprintf(%q, %s, %s)", fmt.Sprintf("size mismatch: %s is %%d (%s) but %s has size %%d", name, dimName(sv.Param, sv.Path, sv.Axis), dimName(c.Param, c.Path, c.Axis)), val, got)
			}
			f.failIf(fmt.Sprintf("int64(%s) != %s", got, val), pos, msg)
		}
	}
	for i, p := range params {
		for axis, dim := range ir.Dims(p.T) {
			if !dim.Known() {
				continue
			}
			pos := p.P
			if !pos.IsValid() && pos.File == "" {
				pos = d.P
			}
			got := dimOf(i, nil, axis)
			if axis > 0 {
				// An argument with no elements ([][]float64{} for a
				// [p][2]f64) carries no inner sizes: the type's stand,
				// as the interpreter decodes [] of that type.
				var empty []string
				for a := range axis {
					empty = append(empty, dimOf(i, nil, a)+" == 0")
				}
				f.line("if %s != %d && (%s) {", got, dim.N, strings.Join(empty, " || "))
				f.line("%s = %d", got, dim.N)
				f.line("}")
			}
			f.failIf(fmt.Sprintf("%s != %d", got, dim.N), pos,
				fmt.Sprintf("fmt.Sprintf(%q, %s)", fmt.Sprintf("size mismatch: %s has size %%d but its type %s says %d", dimName(i, nil, axis), p.T, dim.N), got))
		}
	}
}

func valOf(t ir.Type, parts ...string) val { return val{t: t, parts: parts} }

// ---- expressions ----

// compile emits the statements computing e and returns its value.
func (f *fn) compile(e ir.Expr) val { return f.force(f.compileL(e)) }

// compileL is compile where the value may be a lazy array (see fuse.go):
// callers that can consume one elementwise pass it on unmaterialized.
func (f *fn) compileL(e ir.Expr) val {
	switch e := e.(type) {
	case *ir.Var:
		if v, ok := f.env[e]; ok {
			return v
		}
		if _, ok := f.fenv[e]; ok {
			f.g.fail("%s: function value %s used as a value", e.P, e.Name)
		}
		f.g.fail("%s: variable %s used outside its scope", e.P, e.Name)
	case *ir.Const:
		return valOf(e.Type(), constGo(e.Val))
	case *ir.Let:
		restore := f.letFrames(e) // inlined code's frames (inline.go)
		if f.pf != nil && e == f.pf.tape {
			restore()
			return f.compilePointTape(f.pf, e) // pointfuse.go
		}
		if f.pf != nil && e == f.pf.xLet && f.pf.xStored > 0 {
			restore()
			return f.compileKeptOperand(f.pf, e) // pointfuse.go
		}
		if _, isFn := e.Value.Type().(*ir.Func); isFn {
			f.fenv[e.Var] = f.staticFn(e.Value)
			restore()
			return f.compile(e.Body)
		}
		n, _ := f.varUses(e.Body, e.Var)
		if n == 0 {
			f.compileUnread(e.Value)
			restore()
			return f.compileL(e.Body)
		}
		if p := f.matchPointFuse(e); p != nil {
			restore()
			return f.compilePointFuse(p) // pointfuse.go
		}
		if t := f.matchTriSweep(e); t != nil {
			restore()
			return f.compileTriSweep(t) // trisweep.go
		}
		if f.fuseRun(e) {
			restore()
			return f.compileRun(e) // group.go
		}
		if _, prim := e.Value.(*ir.PrimCall); prim && n > 1 && !isSaver(e.Value) && sharedInBody(e.Body, e.Var) {
			// Every use is in the body's one recipe (share.go).
			v := f.compileL(e.Value)
			if v.lz != nil && v.lz.safe {
				v.lz = f.memo(v.lz)
			} else {
				v = f.force(v)
			}
			f.env[e.Var] = v
			restore()
			return f.compileL(e.Body)
		}
		var v val
		if isSaver(e.Value) {
			f.plan = planLeaves(e.Body, e.Var, lastIndex(e.Value), f.outPlans[e.Var])
		} else if c, ok := e.Value.(*ir.If); ok && isSavedIf(c) {
			f.ifPlan = planLeaves(e.Body, e.Var, lastIndex(c.Then), f.outPlans[e.Var])
		}
		if f.canDefer(e) {
			v = f.compileL(e.Value)
		} else {
			v = f.compile(e.Value)
		}
		f.env[e.Var] = v
		restore()
		return f.compileL(e.Body)
	case *ir.MakeTuple:
		v := val{t: e.Type()}
		skip := f.skip[e]
		for k, x := range e.Elems {
			switch {
			case k < len(skip) && skip[k] == skipValue:
				f.compileUnread(x)
				v.parts = append(v.parts, deadVal(x.Type()).parts...)
			case k < len(skip) && skip[k] == skipData:
				xv := f.compileL(x)
				if xv.lz != nil {
					xv = val{t: xv.t, parts: append([]string{deadAtom}, xv.lz.dims...)}
				}
				v.parts = append(v.parts, xv.parts...)
			default:
				v.parts = append(v.parts, f.compile(x).parts...)
			}
		}
		return v
	case *ir.Proj:
		x := f.compile(e.X)
		return projVal(x, e.Index)
	case *ir.If:
		return f.compileIf(e)
	case *ir.Loop:
		return f.compileLoop(e)
	case *ir.Call:
		sf := f.staticFn(e.Fn)
		args := make([]val, len(e.Args))
		for i, a := range e.Args {
			args[i] = f.compile(a)
		}
		return f.callStatic(sf, args, e.P, e.T)
	case *ir.Global:
		di := f.g.defs[e.Name]
		if di == nil {
			f.g.fail("%s: unknown def %s", e.P, e.Name)
		}
		if !di.value {
			f.g.fail("%s: function %s used as a value", e.P, e.Name)
		}
		return f.callDef(di, nil, e.P, e.T)
	case *ir.PrimCall:
		if f.pf != nil && e == f.pf.fwd {
			v := f.force(f.compilePrim(e))
			f.keepProduct(f.pf, v) // pointfuse.go
			return v
		}
		return f.compilePrim(e)
	case *ir.Lambda:
		f.g.fail("%s: a function value has no run-time form in generated code", e.P)
	}
	f.g.fail("%s: unsupported expression %T", e.Pos(), e)
	return val{}
}

func projVal(x val, index int) val {
	tt := x.t.(*ir.Tuple)
	k := 0
	for i := 0; i < index; i++ {
		k += len(partTypes(tt.Elems[i]))
	}
	n := len(partTypes(tt.Elems[index]))
	return val{t: tt.Elems[index], parts: x.parts[k : k+n]}
}

func constGo(c any) string {
	switch c := c.(type) {
	case float64:
		switch {
		case math.IsNaN(c):
			return "math.NaN()"
		case math.IsInf(c, 1):
			return "math.Inf(1)"
		case math.IsInf(c, -1):
			return "math.Inf(-1)"
		case c == 0 && math.Signbit(c):
			return "math.Copysign(0, -1)"
		}
		s := strconv.FormatFloat(c, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		if c < 0 {
			return "(" + s + ")"
		}
		return s
	case int64:
		if c < 0 {
			return "int64(" + strconv.FormatInt(c, 10) + ")"
		}
		return "int64(" + strconv.FormatInt(c, 10) + ")"
	case bool:
		return strconv.FormatBool(c)
	}
	panic(genError{fmt.Errorf("constant %v of type %T", c, c)})
}

// staticFn resolves an expression of function type at compile time.
func (f *fn) staticFn(e ir.Expr) staticFn {
	switch e := e.(type) {
	case *ir.Lambda:
		return staticFn{lam: e, env: f.env, fenv: f.fenv}
	case *ir.Global:
		di := f.g.defs[e.Name]
		if di == nil {
			f.g.fail("%s: unknown def %s", e.P, e.Name)
		}
		if di.lambda != nil {
			return staticFn{def: di}
		}
		if !di.def.HasParams {
			f.g.fail("%s: %s is not a function", e.P, e.Name)
		}
		return staticFn{def: di}
	case *ir.Var:
		if sf, ok := f.fenv[e]; ok {
			return sf
		}
	case *ir.Let:
		if _, isFn := e.Value.Type().(*ir.Func); isFn {
			f.fenv[e.Var] = f.staticFn(e.Value)
		} else {
			f.env[e.Var] = f.compile(e.Value)
		}
		return f.staticFn(e.Body)
	}
	f.g.fail("%s: a function value that is not known at compile time (%T); specialization should have removed it", e.Pos(), e)
	return staticFn{}
}

// callStatic applies a function known at compile time: a def by a Go
// call, a lambda by inlining its body.
func (f *fn) callStatic(sf staticFn, args []val, pos ir.Pos, t ir.Type) val {
	return f.force(f.callStaticL(sf, args, pos, t))
}

// callStaticL is callStatic whose result may be a lazy array.
func (f *fn) callStaticL(sf staticFn, args []val, pos ir.Pos, t ir.Type) val {
	if sf.dyn != "" {
		res := val{t: t}
		for range partTypes(t) {
			res.parts = append(res.parts, f.fresh("r"))
		}
		call := fmt.Sprintf("%s(%s)", sf.dyn, strings.Join(partsOf(args), ", "))
		if len(res.parts) == 0 {
			f.line("%s", call)
		} else {
			f.line("%s := %s", strings.Join(res.parts, ", "), call)
		}
		return res
	}
	if sf.def != nil {
		return f.callDef(sf.def, args, pos, t)
	}
	saveEnv, saveFenv := f.env, f.fenv
	f.env = cloneEnv(sf.env)
	f.fenv = cloneFenv(sf.fenv)
	for i, p := range sf.lam.Params {
		if _, isFn := p.T.(*ir.Func); isFn {
			f.g.fail("%s: function-typed lambda parameters are not supported", p.P)
		}
		f.env[p] = args[i]
	}
	v := f.compileL(sf.lam.Body)
	f.env, f.fenv = saveEnv, saveFenv
	return v
}

// callStaticFn is callStatic where the lambda may take function-typed
// arguments (for primitives like map, given a function and arrays).
func cloneEnv(m map[*ir.Var]val) map[*ir.Var]val {
	c := make(map[*ir.Var]val, len(m)+4)
	for k, v := range m {
		c[k] = v
	}
	return c
}

func cloneFenv(m map[*ir.Var]staticFn) map[*ir.Var]staticFn {
	c := make(map[*ir.Var]staticFn, len(m)+2)
	for k, v := range m {
		c[k] = v
	}
	return c
}

// callDef emits a Go call of a def's function; an error gets the callee's
// frame, as the interpreter's backtraces have it.
func (f *fn) callDef(di *defInfo, args []val, pos ir.Pos, t ir.Type) val {
	if di.skip != nil {
		f.g.fail("%s: calls %s, which has no generated code: %v", pos, di.def.Name, di.skip)
	}
	if di.goName == f.di.goName {
		f.g.fail("%s: recursion", pos)
	}
	var in []string
	if !di.value {
		in = append(in, "ar")
	}
	f.arena = f.arena || di.arena
	if di.arena {
		f.allocs++
	}
	for _, a := range args {
		in = append(in, a.parts...)
	}
	res := val{t: t}
	for _, pt := range partTypes(t) {
		_ = pt
		res.parts = append(res.parts, f.fresh("r"))
	}
	lhs := strings.Join(res.parts, ", ")
	goName := di.goName
	if f.g.cols[di.def.Name] != nil {
		goName += "_cols" // on blocks of columns (columns.go)
	}
	call := fmt.Sprintf("%s(%s)", goName, strings.Join(in, ", "))
	if !di.fails {
		if lhs == "" {
			f.line("%s", call)
		} else {
			f.line("%s := %s", lhs, call)
		}
		return res
	}
	errv := f.fresh("err")
	if lhs == "" {
		f.line("%s := %s", errv, call)
	} else {
		f.line("%s, %s := %s", lhs, errv, call)
	}
	f.line("if %s != nil {", errv)
	if f.g.cols[di.def.Name] != nil {
		// A body's tail moved into a def of its own: no frame of its own.
		f.retErr(errv)
	} else {
		f.retErr(fmt.Sprintf("runtime.WithFrame(%s, %s)", errv, frameArgs(di, pos)))
	}
	f.line("}")
	return res
}

// frameArgs are runtime.WithFrame's arguments after the error for a call of di at
// pos.
func frameArgs(di *defInfo, pos ir.Pos) string {
	return fmt.Sprintf("%q, %q, %q", di.def.Name, posString(di.def.P), posString(pos))
}

// compileIf emits if/else assigning the result's parts.
func (f *fn) compileIf(e *ir.If) val {
	plan := f.ifPlan
	f.ifPlan = nil
	c := f.compile(e.Cond)
	t := e.Type()
	if plan != nil {
		// Both branches build the saved array by the same plan: the
		// leaves it does not store have no storage here either.
		// The final state (fieldLast) is the loop_save's alone: the
		// empty build has no element to read it at.
		res := f.declarePlanned("c", t, plan)
		f.line("if %s {", c.parts[0])
		f.plan = plan
		f.branchLive(e.Then, res)
		f.line("} else {")
		f.plan = plan.lastAsShape()
		f.branchLive(e.Else, res)
		f.line("}")
		return res
	}
	res := f.declare("c", t)
	f.line("if %s {", c.parts[0])
	f.branch(e.Then, res)
	f.line("} else {")
	f.branch(e.Else, res)
	f.line("}")
	return res
}

// isSavedIf recognizes the tape of a counted loop as package ad writes
// it, if n > 0 then loop_save(n, ...) else build(0, ...): an array of
// tuples whose fields can be planned (fields.go) as a build's are.
func isSavedIf(x *ir.If) bool {
	return lastIndex(x.Then) != nil && isEmptyBuild(x.Else)
}

// isSaver reports whether e is a build or loop_save, whose leaves a
// leafPlan may leave unstored.
func isSaver(e ir.Expr) bool {
	pc, ok := e.(*ir.PrimCall)
	return ok && (pc.Op == ir.PrimBuild || pc.Op == ir.PrimLoopSave)
}

// lastIndex is the index of the last element of loop_save(n, ...), n,
// or nil for other values.
func lastIndex(e ir.Expr) ir.Expr {
	if pc, ok := e.(*ir.PrimCall); ok && pc.Op == ir.PrimLoopSave {
		return pc.Args[0]
	}
	return nil
}

// isEmptyBuild reports whether e is build(0, ...).
func isEmptyBuild(e ir.Expr) bool {
	pc, ok := e.(*ir.PrimCall)
	if !ok || pc.Op != ir.PrimBuild {
		return false
	}
	c, ok := pc.Args[0].(*ir.Const)
	return ok && c.Val == int64(0)
}

// declarePlanned is declare for an array of tuples built by plan: a leaf
// the plan does not store has deadAtom for its data, and one read only
// at its last element (fieldLast) holds the loop's final state, of the
// element's type (nil: every leaf is stored).
func (f *fn) declarePlanned(hint string, t ir.Type, plan *leafPlan) val {
	v := val{t: t}
	for k, l := range mustLeaves(t) {
		for j, pt := range l.partTypes() {
			how := fieldData
			if plan != nil && j == 0 && k < len(plan.leaves) {
				how = plan.leaves[k]
			}
			switch how {
			case fieldData:
			case fieldLast:
				if l.rank == 1 { // the final state of a scalar
					pt = scalarGo(l.kind)
				}
			default:
				v.parts = append(v.parts, deadAtom)
				continue
			}
			n := f.fresh(hint)
			f.line("var %s %s", n, pt)
			if how == fieldLast {
				f.markLastOnly(n, l.rank)
			}
			v.parts = append(v.parts, n)
		}
	}
	return v
}

// declare declares zero-valued locals for each part of a value of type t.
func (f *fn) declare(hint string, t ir.Type) val { return f.declarePlanned(hint, t, nil) }

func (f *fn) branch(e ir.Expr, res val) { f.branchTo(e, res, f.assign) }

// branchLive is branch assigning the live parts only (assignLive).
func (f *fn) branchLive(e ir.Expr, res val) { f.branchTo(e, res, f.assignLive) }

func (f *fn) branchTo(e ir.Expr, res val, assign func(dst, src val)) {
	saveEnv, saveFenv := f.env, f.fenv
	f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
	v := f.compile(e)
	assign(res, v)
	f.env, f.fenv = saveEnv, saveFenv
}

func (f *fn) assign(dst, src val) { f.assignParts(dst, src, false) }

// assignLive is assign leaving out the parts with no storage (deadAtom)
// on either side: a planned tape's fields nobody reads.
func (f *fn) assignLive(dst, src val) { f.assignParts(dst, src, true) }

func (f *fn) assignParts(dst, src val, live bool) {
	var l, r []string
	for i := range dst.parts {
		d, s := dst.parts[i], src.parts[i]
		if d == s || live && (d == deadAtom || s == deadAtom) {
			continue
		}
		l, r = append(l, d), append(r, s)
	}
	if len(l) == 0 {
		return
	}
	f.line("%s = %s", strings.Join(l, ", "), strings.Join(r, ", "))
}

// compileLoop emits a for loop (or an endless loop with a break for
// while loops) updating the state's parts.
func (f *fn) compileLoop(e *ir.Loop) val {
	init := f.compile(e.Init)
	inPlace := inPlaceLoop(e)
	if inPlace {
		// The state owns its storage: a copy of the initial array unless
		// that is fresh already, then updated in place every iteration.
		if pc, ok := e.Init.(*ir.PrimCall); !ok || !ir.FreshResult(pc) || f.isView(init) {
			init = f.copyVal(init)
		}
		if f.inplace == nil {
			f.inplace = map[*ir.Var]bool{}
		}
		f.inplace[e.State] = true
		defer delete(f.inplace, e.State)
	}
	st := f.declare(e.State.Name, e.State.T)
	f.assign(st, init)
	if inPlace || f.accumulatorLoop(e, st) {
		// update keeps the state's dimensions: they are the initial ones.
		for k := 1; k < len(st.parts); k++ {
			if l, ok := f.linOf(init.parts[k]); ok {
				f.setLin(st.parts[k], l)
			} else {
				f.setLin(st.parts[k], linForm{base: init.parts[k]})
			}
		}
	}
	var next val
	if e.Index != nil {
		n := f.compile(e.Count)
		i := f.fresh(e.Index.Name)
		head := f.b.Len()
		f.line("for %s := int64(0); %s < %s; %s++ {", i, i, n.parts[0], i)
		f.indexBound(i, n.parts[0])
		f.step("1", e.P)
		mark := f.iterMark()
		saveEnv, saveFenv := f.env, f.fenv
		f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
		f.env[e.State] = st
		f.env[e.Index] = valOf(ir.TI64, i)
		f.loops++
		body := f.b.Len()
		next = f.compile(e.Body)
		f.loops--
		f.assign(st, next)
		f.iterCarry(mark, st, next, head, body)
		f.env, f.fenv = saveEnv, saveFenv
		f.line("}")
	} else {
		head := f.b.Len()
		f.line("for {")
		saveEnv, saveFenv := f.env, f.fenv
		f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
		f.env[e.State] = st
		c := f.compile(e.Cond)
		f.line("if !%s {", c.parts[0])
		f.line("break")
		f.line("}")
		f.step("1", e.P)
		mark := f.iterMark()
		f.loops++
		body := f.b.Len()
		next = f.compile(e.Body)
		f.loops--
		f.assign(st, next)
		f.iterCarry(mark, st, next, head, body)
		f.env, f.fenv = saveEnv, saveFenv
		f.line("}")
	}
	// A part the body never changes (an accumulator updated in place)
	// is its initial value after the loop too.
	out := val{t: st.t}
	for k := range st.parts {
		if next.parts[k] == st.parts[k] {
			out.parts = append(out.parts, init.parts[k])
		} else {
			out.parts = append(out.parts, st.parts[k])
		}
	}
	return out
}

// accumulatorLoop reports whether the loop's body gives back every array
// of its state unchanged (accumulators updated in place), by compiling the
// body once into a scratch buffer: then the state's dimensions are those
// of its initial value for the whole loop, which lets ranges.go prove
// the accumulators' indices.
func (f *fn) accumulatorLoop(e *ir.Loop, st val) bool {
	if isScalarTuple(e.State.T) || f.dryRun > 2 {
		return false
	}
	saveB, saveEnv, saveFenv := f.b, f.env, f.fenv
	f.b = &strings.Builder{}
	f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
	f.dryRun++
	f.env[e.State] = st
	if e.Index != nil {
		f.env[e.Index] = valOf(ir.TI64, f.fresh(e.Index.Name))
	}
	next := f.compile(e.Body)
	f.dryRun--
	f.b, f.env, f.fenv = saveB, saveEnv, saveFenv
	ls, sp := st.leafParts()
	_, np := next.leafParts()
	for k, l := range ls {
		if l.rank > 0 && np[k][0] != sp[k][0] {
			return false
		}
	}
	return true
}

// inPlaceLoop recognizes loop s = init ... do update(s, i, v) where s
// is an array of scalars and every other use of s is a scalar read s[j]
// or len(s) inside i or v: all of those are evaluated before the update,
// and nothing else sees s, so the update may write into s's storage
// (which the loop then owns) instead of copying it each iteration.
func inPlaceLoop(e *ir.Loop) bool {
	up, ok := e.Body.(*ir.PrimCall)
	if !ok || up.Op != ir.PrimUpdate || up.Args[0] != ir.Expr(e.State) || ir.Rank(e.State.T) != 1 {
		return false
	}
	if _, ok := e.State.T.(*ir.Array).Elem.(ir.Scalar); !ok {
		return false
	}
	if e.Cond != nil && ir.Mentions(e.Cond, map[*ir.Var]bool{e.State: true}) {
		return false
	}
	safe := true
	var check func(x ir.Expr)
	check = func(x ir.Expr) {
		if x == ir.Expr(e.State) {
			safe = false
			return
		}
		if pc, ok := x.(*ir.PrimCall); ok && (pc.Op == ir.PrimIndex || pc.Op == ir.PrimLen || pc.Op == ir.PrimDim) && pc.Args[0] == ir.Expr(e.State) {
			for _, a := range pc.Args[1:] {
				check(a)
			}
			return
		}
		for _, k := range ir.Children(x) {
			check(k)
		}
	}
	check(up.Args[1])
	check(up.Args[2])
	return safe
}

// iterMark marks the arena at the start of a loop iteration.
func (f *fn) iterMark() string {
	m := f.fresh("mark")
	f.line("%s := ar.Mark()", m)
	if f.marks == nil {
		f.marks = map[string]int{}
	}
	f.marks[m] = f.allocs
	return m
}

// release emits the release of a mark, or drops the mark when nothing
// was allocated since.
func (f *fn) release(mark, cond string) {
	if f.allocs == f.marks[mark] {
		if f.drop == nil {
			f.drop = map[string]bool{}
		}
		f.drop[mark+" := ar.Mark()"] = true
		return
	}
	if cond != "" {
		f.line("if %s {", cond)
	}
	f.line("ar.Release(%s)", mark)
	if cond != "" {
		f.line("}")
	}
}

// iterRelease ends an iteration: the arrays it allocated are released
// when nothing carried to the next iteration can be one of them: every
// array part of the next state is the state's own (updated in place).
// cond, if not "", guards the release.
// iterCarry ends an iteration of a loop whose code starts at offset head
// of f.b and whose body's at body: as iterRelease, except that when the
// only array parts of the next state that are not the state's own are
// arrays the body allocated, each distinct, they are copied into buffers
// made before the loop (sized as the initial state, which a loop's state
// keeps) and the iteration's arrays are released: a loop whose state is
// rebuilt every iteration (reverse mode's cotangents) then runs in the
// memory of one iteration instead of all.
func (f *fn) iterCarry(mark string, st, next val, head, body int) {
	ls, sp := st.leafParts()
	_, np := next.leafParts()
	var fresh []int
	for k, l := range ls {
		if l.rank > 0 && np[k][0] != sp[k][0] {
			fresh = append(fresh, k)
		}
	}
	if len(fresh) == 0 || f.dryRun > 0 {
		f.iterRelease(mark, st, next, "")
		return
	}
	if !f.freshParts(next, fresh, body) {
		f.line("_ = %s", mark)
		return
	}
	f.carryInto(st, fresh, mark, head, "")
}

// freshParts reports whether the data of each leaf k (in leaves) of v
// is an array the code from offset body of f.b allocates, each a
// distinct one and no view: its contents may be copied elsewhere and its
// storage released.
func (f *fn) freshParts(v val, leaves []int, body int) bool {
	allocated := map[string]int{}
	for _, m := range allocRE.FindAllStringSubmatch(f.b.String()[body:], -1) {
		allocated[m[1]]++
	}
	_, vp := v.leafParts()
	seen := map[string]bool{}
	for _, k := range leaves {
		a := vp[k][0]
		if allocated[a] != 1 || seen[a] || f.views[a] {
			return false
		}
		seen[a] = true
	}
	return true
}

// allocRE matches a line declaring an arena allocation, `name :=
// ar.F64(...)`.
var allocRE = regexp.MustCompile(`(?m)^\s*([A-Za-z_][A-Za-z0-9_]*) := ar\.(?:F64w?|I64|Bool)\(`)

func (f *fn) iterRelease(mark string, st, next val, cond string) {
	ls, sp := st.leafParts()
	_, np := next.leafParts()
	for k, l := range ls {
		if l.rank > 0 && np[k][0] != sp[k][0] {
			f.line("_ = %s", mark)
			return
		}
	}
	f.release(mark, cond)
}
