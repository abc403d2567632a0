package codegen

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Parallel loops. A map with scalar elements (a recipe stored into an
// array or added into an accumulator) and a sum of a recipe run on up to
// GOMAXPROCS goroutines, through runtime.ParallelFor and
// runtime.ParallelSum, when they are long enough: [0, n) is cut into
// chunks of a fixed grain, so which elements go together depends on n
// alone, and the result is the same bits on any number of cores (a sum
// adds the chunks' partial sums left to right). Below the threshold the
// loop is the sequential one; which of the two runs depends on n alone
// too.
//
// The parallel body is the sequential body compiled a second time with two
// differences: it allocates from an arena of its own (an arena serves one
// goroutine), and a failure records its error for its chunk and ends the
// chunk instead of returning. After the loop the error of the first
// failing chunk is returned: the error of the first failing element, as
// in the sequential loop. Only a loop outside every other goes parallel.
//
// The body runs on other goroutines, so a closure made in the call would
// be allocated in every call. Each loop has instead a package-level
// runtime.LoopSite, a pool of runtime.Loop records: the call takes one,
// stores the locals the body reads into it (runtime.Bind lists, so that
// Go infers their types), and the body, made the first time the record
// is used, reads them from there. Concurrent calls take different
// records; a warm call allocates nothing.

// Grains and thresholds, in elements. A body without loops or calls is a
// few nanoseconds per element: it goes parallel where runtime's
// elementwise kernels do. A body with loops or calls (a logsumexp per data
// point, say) costs at least a hundred times more per element.
const (
	parGrainCheap = 1 << 14
	parMinCheap   = 1 << 18
	parGrainHeavy = 32
	parMinHeavy   = 256
)

// heavyBody reports whether an iteration's code has loops, calls of
// defs or of runtime kernels (a scalar function such as runtime.Sigmoid
// is not one).
func heavyBody(code string) bool {
	if strings.Contains(code, "for ") || strings.Contains(code, "fn_") {
		return true
	}
	for _, m := range runtimeCallRE.FindAllStringSubmatch(code, -1) {
		if !scalarRuntime[m[1]] {
			return true
		}
	}
	return false
}

var runtimeCallRE = regexp.MustCompile(`runtime\.([A-Za-z0-9]+)\(`)

// scalarRuntime are runtime's scalar functions and checks: a few
// nanoseconds each.
var scalarRuntime = map[string]bool{
	"Sigmoid": true, "Softplus": true, "Relu": true, "Sign": true, "SignI64": true,
	"AbsI64": true, "Max2": true, "Min2": true, "IndGt": true, "PowI64": true,
	"TruncToI64": true, "CheckIndex": true, "CheckSize": true, "MulSize": true,
	"ShapeString": true,
}

// parSizes is the grain and threshold for a sequential loop: its code,
// whose first and last lines are the loop's own.
func (f *fn) parSizes(loop string) (grain, min int) {
	if m := f.g.opts.ParallelMin; m > 0 {
		return max(1, m/2), m
	}
	body := strings.TrimSuffix(loop, "\n")
	if i, j := strings.IndexByte(body, '\n'), strings.LastIndexByte(body, '\n'); i >= 0 && j > i {
		body = body[i+1 : j]
	}
	if heavyBody(body) {
		return parGrainHeavy, parMinHeavy
	}
	return parGrainCheap, parMinCheap
}

// scratch runs emit with output into a buffer of its own and returns what
// it wrote.
func (f *fn) scratch(emit func()) string {
	save := f.b
	f.b = &strings.Builder{}
	emit()
	code := f.b.String()
	f.b = save
	return code
}

// parallel emits `if n >= min { parallel loop } else { seq }` (size is an
// atom equal to n, whose linear form may show it is a small constant) and
// reports true, or emits nothing and reports false where the loop stays
// sequential (nested in a parallel body, in a scratch compilation, or
// when the caller passes no loop). seq is the sequential loop's code.
// body emits one iteration for index i, consuming its element (dst[i] =
// x, s += x); a reduction names the variable sum that body adds into (a
// chunk sums into its own).
func (f *fn) parallel(n, size, seq, sum string, body func(i string) string) bool {
	if f.loops > 0 || f.dryRun > 0 || f.errHook != nil {
		return false
	}
	grain, min := f.parSizes(seq)
	if l, ok := f.linOf(size); ok && l.base == "" && l.off < int64(min) {
		return false // a constant length below the threshold
	}
	errs, lo := f.fresh("errs"), f.fresh("lo")
	allocs := f.allocs
	f.loops++
	saveHook := f.errHook
	failed := false
	ret := ""
	if sum != "" {
		ret = " 0"
	}
	f.errHook = func(errExpr string) string {
		failed = true
		return fmt.Sprintf("%s[%s/%d] = %s\nreturn%s", errs, lo, grain, errExpr, ret)
	}
	i := f.fresh("i")
	code := f.scratch(func() {
		f.line("for %s := %s; %s < hi; %s++ {", i, lo, i, i)
		body(i)
		f.line("}")
	})
	f.errHook = saveHook
	f.loops--
	f.line("if %s >= %d {", n, min)
	// The body goes to other goroutines, so a closure made here would be
	// allocated in every call. It is made once per record of the loop's
	// pool instead (runtime.Loop), and reads the locals it needs from the
	// record, where this call stores them. (It must then read no local of
	// this function directly: the first call's would stay in it. Every
	// local is named _N, found by captured, but the arena ar, which a
	// body that uses it gets its own of.)
	caps := captured(code, lo, errs, sum)
	site, st := f.g.loopSite(f.di, f.owner), f.fresh("loop")
	f.line("%s := runtime.EnterLoop(&%s, %s, %s, %d)", st, site, bindList(caps), n, grain)
	field, result := "For", ""
	if sum != "" {
		field, result = "Sum", " float64"
	}
	f.line("if %s.%s == nil {", st, field)
	f.line("%s.%s = func(%s, hi int)%s {", st, field, lo, result)
	for k, v := range caps {
		f.line("%s := %s.C%s.H", v, st, strings.Repeat(".T", k))
	}
	if f.allocs > allocs || f.usesArena(code) {
		// Each chunk allocates from an arena of its own.
		f.line("ar := runtime.Arenas.Get()")
		f.line("ar.Reset()")
		f.line("defer runtime.Arenas.Put(ar)")
	}
	if failed {
		f.line("%s := %s.Errs", errs, st)
	}
	if sum != "" {
		f.line("%s := 0.0", sum)
	}
	f.b.WriteString(code)
	if sum != "" {
		f.line("return %s", sum)
	}
	f.line("}")
	f.line("}")
	if sum != "" {
		// += from the declaration's +0, as the sequential loop adds: the
		// same bits (a sum from +0 is never -0), and a sum whose value is
		// dead is not an assignment never read (staticcheck SA4006).
		f.line("%s += runtime.ParallelSum(%s, %d, %s.Sum)", sum, n, grain, st)
	} else {
		f.line("runtime.ParallelFor(%s, %d, %s.For)", n, grain, st)
	}
	e := ""
	if failed {
		e = f.fresh("err")
		f.line("%s := %s.Err()", e, st)
	}
	f.line("%s.Leave(&%s)", st, site)
	if failed {
		f.line("if %s != nil {", e)
		f.retErr(e)
		f.line("}")
	}
	f.line("} else {")
	f.b.WriteString(seq)
	f.line("}")
	return true
}

// bindList is the runtime.Bind list of vs, for runtime.EnterLoop.
func bindList(vs []string) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "runtime.Bind(%s, ", v)
	}
	b.WriteString("runtime.End{}")
	b.WriteString(strings.Repeat(")", len(vs)))
	return b.String()
}

// usesArena reports whether code mentions the arena ar outside the lines
// that will be dropped (the marks of loops that allocate nothing).
func (f *fn) usesArena(code string) bool {
	for _, l := range strings.Split(code, "\n") {
		if f.drop[strings.TrimSpace(l)] {
			continue
		}
		for _, id := range identRE.FindAllString(blankStrings(l), -1) {
			if id == "ar" {
				return true
			}
		}
	}
	return false
}

// loopSite declares the runtime.LoopSite of a parallel loop of di's
// function (or of owner, when not "") and returns its name.
func (g *gen) loopSite(di *defInfo, owner string) string {
	name := ""
	for k := 1; name == "" || g.used[name]; k++ {
		name = "nbLoop" + strconv.Itoa(k)
	}
	g.used[name] = true
	what := "generated code"
	if owner != "" {
		what = owner
	} else if di != nil {
		what = di.goName
	}
	fmt.Fprintf(&g.body, "// %s keeps the records of a parallel loop of %s.\nvar %s runtime.LoopSite\n\n", name, what, name)
	return name
}

// funcLitRE matches the parameter list of a func literal.
var funcLitRE = regexp.MustCompile(`func\(([^()]*)\)`)

// captured lists the locals of the enclosing function that code uses
// (names ending in _N that code does not declare), but for skip.
func captured(code string, skip ...string) []string {
	declared := map[string]bool{}
	for _, l := range strings.Split(code, "\n") {
		if m := varDecRE.FindStringSubmatch(l); m != nil {
			declared[m[1]] = true
		} else if m := lhsRE.FindStringSubmatch(l); m != nil && m[2] == ":=" {
			for _, name := range strings.Split(m[1], ",") {
				declared[strings.TrimSpace(name)] = true
			}
		}
		// The parameters of a func literal (linsolve's matvec, an ODE's
		// right-hand side) are its own.
		for _, m := range funcLitRE.FindAllStringSubmatch(l, -1) {
			for _, p := range strings.Split(m[1], ",") {
				if fs := strings.Fields(p); len(fs) > 0 {
					declared[fs[0]] = true
				}
			}
		}
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "for ") {
			// for i, v := range x / for i := lo; ...
			if head, _, ok := strings.Cut(strings.TrimPrefix(t, "for "), ":="); ok {
				for _, name := range strings.Split(head, ",") {
					declared[strings.TrimSpace(name)] = true
				}
			}
		}
	}
	for _, s := range skip {
		declared[s] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, id := range identRE.FindAllString(blankStrings(code), -1) {
		if localRE.MatchString(id) && !declared[id] && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// blankStrings is code with the contents of its interpreted string
// literals blanked: a def's name in an error frame ("f$jvp_01") holds
// words shaped like locals that are none.
func blankStrings(code string) string {
	b := []byte(code)
	in := false
	for i := 0; i < len(b); i++ {
		switch {
		case !in && b[i] == '"':
			in = true
		case in && b[i] == '\\':
			b[i] = ' '
			if i+1 < len(b) {
				i++
				b[i] = ' '
			}
		case in && b[i] == '"':
			in = false
		case in:
			b[i] = ' '
		}
	}
	return string(b)
}
