package codegen

import (
	"bytes"
	"sort"
)

// Helpers are small Go functions a generated file carries when it uses
// them: the error type and its constructors, size checks, and scalar
// functions with Nabla's semantics that are not (yet) runtime kernels.
// Each is emitted at most once, in name order, so output is
// deterministic.

// helper records that the generated file needs helper name (and those it
// depends on).
func (g *gen) helper(name string) {
	if g.helpers[name] {
		return
	}
	if _, ok := helperSrc[name]; !ok {
		panic("codegen: unknown helper " + name)
	}
	g.helpers[name] = true
	for _, dep := range helperDeps[name] {
		g.helper(dep)
	}
}

func (g *gen) writeHelpers(w *bytes.Buffer) {
	names := make([]string, 0, len(g.helpers))
	for n := range g.helpers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		src := helperSrc[n]
		if h, ok := harnessHelpers[n]; ok && g.opts.Main {
			src = h
		}
		w.WriteString(src)
		w.WriteString("\n")
	}
}

var helperDeps = map[string][]string{
	"nbOut3":    {"nbOut2"},
	"nbInto3":   {"nbInto2"},
	"nbFlatten": {"nbArena"},
	"nbSize":    {"nbError"},
	"nbMulSize": {"nbError"},
	"nbToI64":   {"nbError"},
	"nbPowI":    {"nbError"},
	"nbIndex":   {"nbError"},
}

var helperImports = map[string][]string{
	"nbGMRES":    {"fmt", "math", runtimeImport},
	"nbArena":    {},
	"nbError":    {"fmt"},
	"nbShape":    {"strconv"},
	"nbSize":     {"fmt"},
	"nbMulSize":  {"fmt"},
	"nbToI64":    {"fmt", "math", "strconv"},
	"nbPowI":     {"fmt"},
	"nbIndex":    {"fmt"},
	"nbDimMsg":   {"fmt"},
	"nbMaxF":     {"math"},
	"nbMinF":     {"math"},
	"nbSigmoid":  {"math"},
	"nbSoftplus": {"math"},
	"nbSignF":    {},
	"nbSignI":    {},
	"nbAbsI":     {},
	"nbRelu":     {},
	"nbIndGt":    {},
}

var helperSrc = map[string]string{
	// TODO(kernels): delete once runtime.GMRES is on main (lowerLinsolve
	// already prefers it when the runtime has it); this is the
	// interpreter's restarted GMRES, step for step.
	"nbGMRES": `// nbGMRES solves matvec(x) = b by GMRES restarted every m steps, from
// x = 0, to a residual of tol·‖b‖ (the interpreter's linsolve).
func nbGMRES(matvec func([]float64) ([]float64, error), b []float64, tol float64, m, maxIter int) ([]float64, error) {
	n := len(b)
	x := make([]float64, n)
	bnorm := runtime.Norm2(b)
	if bnorm == 0 {
		return x, nil
	}
	m = min(m, n)
	scaled := func(v []float64, s float64) []float64 {
		out := make([]float64, len(v))
		for i, e := range v {
			out[i] = e * s
		}
		return out
	}
	for iters := 0; iters < maxIter; {
		ax, err := matvec(x)
		if err != nil {
			return nil, err
		}
		r := make([]float64, n)
		for i := range r {
			r[i] = b[i] - ax[i]
		}
		beta := runtime.Norm2(r)
		if beta <= tol*bnorm {
			return x, nil
		}
		V := [][]float64{scaled(r, 1/beta)}
		H := make([][]float64, m+1)
		for i := range H {
			H[i] = make([]float64, m)
		}
		cs, sn := make([]float64, m), make([]float64, m)
		g := make([]float64, m+1)
		g[0] = beta
		k := 0
		for ; k < m && iters < maxIter; k++ {
			iters++
			w, err := matvec(V[k])
			if err != nil {
				return nil, err
			}
			w = append([]float64(nil), w...)
			for i := 0; i <= k; i++ {
				H[i][k] = runtime.Dot(w, V[i])
				for j := range w {
					w[j] -= H[i][k] * V[i][j]
				}
			}
			hnext := runtime.Norm2(w)
			H[k+1][k] = hnext
			for i := 0; i < k; i++ {
				t := cs[i]*H[i][k] + sn[i]*H[i+1][k]
				H[i+1][k] = -sn[i]*H[i][k] + cs[i]*H[i+1][k]
				H[i][k] = t
			}
			d := math.Hypot(H[k][k], H[k+1][k])
			if d == 0 {
				k++
				break
			}
			cs[k], sn[k] = H[k][k]/d, H[k+1][k]/d
			H[k][k], H[k+1][k] = d, 0
			g[k+1] = -sn[k] * g[k]
			g[k] = cs[k] * g[k]
			if math.Abs(g[k+1]) <= tol*bnorm || hnext == 0 {
				k++
				break
			}
			V = append(V, scaled(w, 1/hnext))
		}
		y := make([]float64, k)
		for i := k - 1; i >= 0; i-- {
			s := g[i]
			for j := i + 1; j < k; j++ {
				s -= H[i][j] * y[j]
			}
			if H[i][i] == 0 {
				return nil, fmt.Errorf("linsolve: the linear system is singular")
			}
			y[i] = s / H[i][i]
		}
		for i := 0; i < k; i++ {
			for j := range x {
				x[j] += y[i] * V[i][j]
			}
		}
	}
	ax, err := matvec(x)
	if err != nil {
		return nil, err
	}
	res := 0.0
	for i := range ax {
		res += (b[i] - ax[i]) * (b[i] - ax[i])
	}
	if math.Sqrt(res) <= 1e-8*bnorm {
		return x, nil
	}
	return nil, fmt.Errorf("linsolve: GMRES did not converge in %d products (relative residual %.3g)", maxIter, math.Sqrt(res)/bnorm)
}
`,
	"nbOut1": `// nbOut1 copies an array result out of the call's arena.
func nbOut1[T any](r []T, n int) []T {
	out := make([]T, n)
	copy(out, r)
	return out
}
`,
	"nbOut2": `// nbOut2 copies a matrix result out of the call's arena as rows of one
// flat slice.
func nbOut2[T any](r []T, m, n int) [][]T {
	flat := make([]T, m*n)
	copy(flat, r)
	out := make([][]T, m)
	for i := range out {
		out[i] = flat[i*n : (i+1)*n : (i+1)*n]
	}
	return out
}
`,
	"nbOut3": `// nbOut3 copies a rank-3 result out of the call's arena.
func nbOut3[T any](r []T, a, b, c int) [][][]T {
	flat := nbOut2(r, a*b, c)
	out := make([][][]T, a)
	for i := range out {
		out[i] = flat[i*b : (i+1)*b : (i+1)*b]
	}
	return out
}
`,
	"nbInto1": `// nbInto1 copies an array result into dst, which must have its length.
func nbInto1[T any](dst, r []T, n int) bool {
	if len(dst) != n {
		return false
	}
	copy(dst, r)
	return true
}
`,
	"nbInto2": `// nbInto2 copies a matrix result into the rows of dst.
func nbInto2[T any](dst [][]T, r []T, m, n int) bool {
	if len(dst) != m {
		return false
	}
	for i, row := range dst {
		if len(row) != n {
			return false
		}
		copy(row, r[i*n:(i+1)*n])
	}
	return true
}
`,
	"nbInto3": `// nbInto3 copies a rank-3 result into dst.
func nbInto3[T any](dst [][][]T, r []T, a, b, c int) bool {
	if len(dst) != a {
		return false
	}
	for i, m := range dst {
		if !nbInto2(m, r[i*b*c:(i+1)*b*c], b, c) {
			return false
		}
	}
	return true
}
`,
	"nbFlatten": `// nbAlloc cuts n zeroed elements of type T from the arena.
func nbAlloc[T any](ar *nbArena, n int) []T {
	if p, ok := any(&ar.f).(*[]T); ok {
		return nbCut(p, n, &ar.gen)
	}
	if p, ok := any(&ar.i).(*[]T); ok {
		return nbCut(p, n, &ar.gen)
	}
	if p, ok := any(&ar.b).(*[]T); ok {
		return nbCut(p, n, &ar.gen)
	}
	return make([]T, n)
}

// nbFlatten2 copies a rectangular [][]T into one row-major slice; ok is
// false for ragged input.
func nbFlatten2[T any](ar *nbArena, x [][]T) ([]T, [2]int, bool) {
	m, n := len(x), 0
	if m > 0 {
		n = len(x[0])
	}
	flat := nbAlloc[T](ar, m*n)
	for i, row := range x {
		if len(row) != n {
			return nil, [2]int{}, false
		}
		copy(flat[i*n:], row)
	}
	return flat, [2]int{m, n}, true
}

// nbFlatten3 is nbFlatten2 for [][][]T.
func nbFlatten3[T any](ar *nbArena, x [][][]T) ([]T, [3]int, bool) {
	a, b, c := len(x), 0, 0
	if a > 0 {
		b = len(x[0])
		if b > 0 {
			c = len(x[0][0])
		}
	}
	flat := nbAlloc[T](ar, a*b*c)
	for i, m := range x {
		if len(m) != b {
			return nil, [3]int{}, false
		}
		for j, row := range m {
			if len(row) != c {
				return nil, [3]int{}, false
			}
			copy(flat[(i*b+j)*c:], row)
		}
	}
	return flat, [3]int{a, b, c}, true
}
`,
	"nbArena": `// nbArena hands out the arrays of one call: zeroed slices cut from
// chunks that are kept from call to call, so that a call in steady state
// allocates nothing. A nil *nbArena allocates with make (for values that
// outlive the call). An arena serves one call at a time; exported
// functions take one from a sync.Pool.
type nbArena struct {
	f   []float64
	i   []int64
	b   []bool
	gen int // counts new chunks
}

func (a *nbArena) reset() {
	a.f, a.i, a.b = a.f[:0], a.i[:0], a.b[:0]
}

// nbMark is a point in an arena to release back to.
type nbMark struct{ f, i, b, gen int }

func (a *nbArena) mark() nbMark {
	if a == nil {
		return nbMark{}
	}
	return nbMark{len(a.f), len(a.i), len(a.b), a.gen}
}

// release frees what was cut since m, for reuse by the next cuts (a loop
// releases each iteration's temporaries). Nothing allocated since m may
// be used afterwards.
func (a *nbArena) release(m nbMark) {
	if a != nil && a.gen == m.gen {
		a.f, a.i, a.b = a.f[:m.f], a.i[:m.i], a.b[:m.b]
	}
}

func nbCut[T any](buf *[]T, n int, gen *int) []T {
	b := *buf
	if len(b)+n > cap(b) {
		b = make([]T, 0, max(2*cap(b), n, 1024))
		*gen++
	}
	s := b[len(b) : len(b)+n : len(b)+n]
	*buf = b[:len(b)+n]
	clear(s)
	return s
}

// F64, I64 and Bool cut n zeroed elements; the common case (room in the
// current chunk) is small enough to be inlined.
func (a *nbArena) F64(n int) []float64 {
	if a != nil {
		if l := len(a.f); l+n <= cap(a.f) {
			s := a.f[l : l+n : l+n]
			a.f = a.f[:l+n]
			clear(s)
			return s
		}
		return nbCut(&a.f, n, &a.gen)
	}
	return make([]float64, n)
}

func (a *nbArena) I64(n int) []int64 {
	if a == nil {
		return make([]int64, n)
	}
	return nbCut(&a.i, n, &a.gen)
}

func (a *nbArena) Bool(n int) []bool {
	if a == nil {
		return make([]bool, n)
	}
	return nbCut(&a.b, n, &a.gen)
}

// nbArenas keeps idle arenas. Unlike a sync.Pool it is not emptied by
// the garbage collector, so a call in steady state really allocates
// nothing; it holds at most cap(nbArenas.c) arenas, each keeping the
// largest chunks a call needed.
var nbArenas = nbArenaPool{c: make(chan *nbArena, 16)}

type nbArenaPool struct{ c chan *nbArena }

func (p nbArenaPool) Get() *nbArena {
	select {
	case a := <-p.c:
		return a
	default:
		return new(nbArena)
	}
}

func (p nbArenaPool) Put(a *nbArena) {
	select {
	case p.c <- a:
	default:
	}
}
`,
	"nbError": `// nbError is a run-time error of the generated code: a position, a
// message and the defs that were active, innermost first. Its text is the
// interpreter's: "file:line:col: message" and one "in def (pos), called
// at pos" line per def.
type nbError struct {
	pos, msg string
	frames   []string
}

func (e *nbError) Error() string {
	s := e.msg
	if e.pos != "" {
		s = e.pos + ": " + e.msg
	}
	for _, f := range e.frames {
		s += "\n\tin " + f
	}
	return s
}

// nbErrorf makes a positioned error.
func nbErrorf(pos, msg string) error { return &nbError{pos: pos, msg: msg} }

// nbAt positions err at pos unless it has a position already.
func nbAt(pos string, err error) error {
	if e, ok := err.(*nbError); ok {
		return e
	}
	return &nbError{pos: pos, msg: err.Error()}
}

// nbFrame records that err left def (declared at defPos), called at call.
func nbFrame(err error, def, defPos, call string) error {
	e, ok := err.(*nbError)
	if !ok {
		e = &nbError{pos: defPos, msg: err.Error()}
	}
	f := def + " (" + defPos + ")"
	if call != "" {
		f += ", called at " + call
	}
	e.frames = append(e.frames, f)
	return e
}

var _ = fmt.Sprintf
`,
	"nbShape": `// nbShape prints dimensions as [2][3].
func nbShape(dims ...int) string {
	s := ""
	for _, d := range dims {
		s += "[" + strconv.Itoa(d) + "]"
	}
	return s
}
`,
	"nbSize": `// nbSize checks an array size the program computed.
func nbSize(n int64) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("negative size %d", n)
	}
	if n > 1<<50 {
		return 0, fmt.Errorf("size %d is too large", n)
	}
	return int(n), nil
}
`,
	"nbMulSize": `// nbMulSize checks the size of n rows of rs elements.
func nbMulSize(n, rs int) (int, error) {
	if rs > 0 && n > (1<<50)/rs {
		return 0, fmt.Errorf("size %d×%d is too large", n, rs)
	}
	if n < 0 || n*rs > 1<<50 {
		return 0, fmt.Errorf("size %d is too large", n*rs)
	}
	return n * rs, nil
}
`,
	"nbDimMsg": `// nbDimMsg words a failed size check of a declared result or a loop
// state, as the interpreter does (ir.DimCheck.Message).
func nbDimMsg(what, typ, size string, got, want int64) string {
	switch {
	case size == "":
		return fmt.Sprintf("size mismatch: %s has size %d, but it must keep the size %d of its initial value", what, got, want)
	case size == fmt.Sprint(want):
		return fmt.Sprintf("size mismatch: %s has size %d, but its type %s says %d", what, got, typ, want)
	}
	return fmt.Sprintf("size mismatch: %s has size %d, but its type %s says %s = %d", what, got, typ, size, want)
}
`,
	"nbIndex": `// nbIndex is the error of an index outside [0, n).
func nbIndex(i int64, n int) error {
	return fmt.Errorf("index %d out of range [0, %d)", i, n)
}
`,
	"nbToI64": `// nbToI64 is i64(x): truncation toward zero, an error where Go's
// conversion would be implementation-defined.
func nbToI64(x float64) (int64, error) {
	t := math.Trunc(x)
	if t >= -0x1p63 && t < 0x1p63 {
		return int64(t), nil
	}
	return 0, fmt.Errorf("cannot convert %s to i64", strconv.FormatFloat(x, 'g', -1, 64))
}
`,
	"nbPowI": `// nbPowI is a ^ b on i64.
func nbPowI(a, b int64) (int64, error) {
	if b < 0 {
		return 0, fmt.Errorf("negative exponent %d in integer power", b)
	}
	r := int64(1)
	for ; b > 0; b >>= 1 {
		if b&1 == 1 {
			r *= a
		}
		a *= a
	}
	return r, nil
}
`,
	"nbMaxF": `// nbMaxF is max: x on ties, NaN if either is NaN.
func nbMaxF(a, b float64) float64 {
	if b > a || math.IsNaN(b) {
		return b
	}
	return a
}
`,
	"nbMinF": `// nbMinF is min: x on ties, NaN if either is NaN.
func nbMinF(a, b float64) float64 {
	if b < a || math.IsNaN(b) {
		return b
	}
	return a
}
`,
	"nbSigmoid": `// nbSigmoid is 1/(1+e^-x) without overflow.
func nbSigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}
`,
	"nbSoftplus": `// nbSoftplus is log(1+e^x) without overflow.
func nbSoftplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}
`,
	"nbSignF": `// nbSignF is -1, 0 or 1 (NaN for NaN, -0 for -0).
func nbSignF(a float64) float64 {
	switch {
	case a > 0:
		return 1
	case a < 0:
		return -1
	}
	return a
}
`,
	"nbSignI": `func nbSignI(a int64) int64 {
	switch {
	case a > 0:
		return 1
	case a < 0:
		return -1
	}
	return 0
}
`,
	"nbAbsI": `func nbAbsI(a int64) int64 {
	if a < 0 {
		return -a
	}
	return a
}
`,
	"nbRelu": `func nbRelu(x float64) float64 {
	if x > 0 {
		return x
	}
	return 0
}
`,
	"nbIndGt": `func nbIndGt(a, b float64) float64 {
	if a > b {
		return 1
	}
	return 0
}
`,
}
