package codegen

import (
	"bytes"
	"sort"
)

// Helpers are the small Go declarations a generated file carries when it
// uses them: the arena, the error type with its frames, and the copies in
// and out of the exported API's [][]float64. Everything with Nabla's
// semantics (scalar functions, size and index checks, messages, GMRES) is
// a runtime function, shared with the interpreter, never a copy here.
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
		w.WriteString(helperSrc[n])
		w.WriteString("\n")
	}
}

var helperDeps = map[string][]string{
	"nbOut3":    {"nbOut2"},
	"nbInto3":   {"nbInto2"},
	"nbFlatten": {"nbArena"},
	"nbDense":   {"nbArena"},
	"nbStep":    {"nbError"},
}

var helperSrc = map[string]string{
	"nbStep":     stepHelper,
	"nbProgress": progressHelper,
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
		return nbCut(p, n, &ar.gen, &ar.spill[0])
	}
	if p, ok := any(&ar.i).(*[]T); ok {
		return nbCut(p, n, &ar.gen, &ar.spill[1])
	}
	if p, ok := any(&ar.b).(*[]T); ok {
		return nbCut(p, n, &ar.gen, &ar.spill[2])
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
	"nbDense": `// nbFromDense gives the row-major elements of m: its own storage when
// its rows are contiguous (generated code never writes into an argument),
// else a copy in the arena. ok is false for a nil matrix.
func nbFromDense(ar *nbArena, m *mat.Dense) ([]float64, [2]int, bool) {
	if m == nil {
		return nil, [2]int{}, false
	}
	raw := m.RawMatrix()
	r, c := raw.Rows, raw.Cols
	if raw.Stride == c || r <= 1 {
		return raw.Data[:r*c], [2]int{r, c}, true
	}
	flat := ar.F64(r * c)
	for i := 0; i < r; i++ {
		copy(flat[i*c:(i+1)*c], raw.Data[i*raw.Stride:])
	}
	return flat, [2]int{r, c}, true
}

// nbToDense copies an m×n result out of the call's arena into a new
// matrix (an empty one when m or n is 0, which mat.NewDense refuses).
func nbToDense(r []float64, m, n int) *mat.Dense {
	if m == 0 || n == 0 {
		return &mat.Dense{}
	}
	return mat.NewDense(m, n, append([]float64(nil), r[:m*n]...))
}

// nbIntoDense copies an m×n result into dst, which must be m×n.
func nbIntoDense(dst *mat.Dense, r []float64, m, n int) bool {
	if dst == nil {
		return m == 0 || n == 0
	}
	if rows, cols := dst.Dims(); rows != m || cols != n {
		return false
	}
	raw := dst.RawMatrix()
	for i := 0; i < m; i++ {
		copy(raw.Data[i*raw.Stride:i*raw.Stride+n], r[i*n:(i+1)*n])
	}
	return true
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
	// spill counts, by kind, the capacity of the chunks given up since
	// the last reset.
	spill [3]int
}

// reset starts a call. After a call that outgrew its chunks, the next
// one gets a chunk as large as all of them, so that it cuts every array
// from one chunk instead of growing through the same sizes again (a
// chunk's pages cost nothing until they are touched).
func (a *nbArena) reset() {
	if a.spill != [3]int{} {
		if a.spill[0] > 0 {
			a.f = make([]float64, 0, cap(a.f)+a.spill[0])
		}
		if a.spill[1] > 0 {
			a.i = make([]int64, 0, cap(a.i)+a.spill[1])
		}
		if a.spill[2] > 0 {
			a.b = make([]bool, 0, cap(a.b)+a.spill[2])
		}
		a.spill = [3]int{}
		a.gen++
	}
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

func nbCut[T any](buf *[]T, n int, gen, spill *int) []T {
	b := *buf
	if len(b)+n > cap(b) {
		*spill += cap(b)
		b = make([]T, 0, max(2*cap(b), n, 1024))
		*gen++
	}
	s := b[len(b) : len(b)+n : len(b)+n]
	*buf = b[:len(b)+n]
	clear(s)
	return s
}

// F64w cuts n elements of unspecified contents, for code that stores
// every one before reading any: clearing them would be a wasted pass.
func (a *nbArena) F64w(n int) []float64 {
	if a != nil {
		if l := len(a.f); l+n <= cap(a.f) {
			s := a.f[l : l+n : l+n]
			a.f = a.f[:l+n]
			return s
		}
		return nbCut(&a.f, n, &a.gen, &a.spill[0])
	}
	return make([]float64, n)
}

// F64, I64 and Bool cut n zeroed elements.
func (a *nbArena) F64(n int) []float64 {
	s := a.F64w(n)
	clear(s)
	return s
}

func (a *nbArena) I64(n int) []int64 {
	if a == nil {
		return make([]int64, n)
	}
	return nbCut(&a.i, n, &a.gen, &a.spill[1])
}

func (a *nbArena) Bool(n int) []bool {
	if a == nil {
		return make([]bool, n)
	}
	return nbCut(&a.b, n, &a.gen, &a.spill[2])
}

// nbArenas keeps idle arenas. Unlike a sync.Pool it is not emptied by
// the garbage collector, so a call in steady state really allocates
// nothing; it holds at most 16 arenas, each keeping the
// largest chunks a call needed.
var nbArenas nbArenaPool

// nbArenaPool is a stack: the arena returned last, whose memory is the
// most likely to be in cache, is the next one handed out.
type nbArenaPool struct {
	mu   sync.Mutex
	idle []*nbArena
}

func (p *nbArenaPool) Get() *nbArena {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		a := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return a
	}
	return new(nbArena)
}

func (p *nbArenaPool) Put(a *nbArena) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) < 16 {
		p.idle = append(p.idle, a)
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
`,
}
