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
	"nbKeep":    {"nbArena"},
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
	var s []T
	if p, ok := any(&ar.f).(*nbChunks[T]); ok {
		s = p.cut(n)
	} else if p, ok := any(&ar.i).(*nbChunks[T]); ok {
		s = p.cut(n)
	} else if p, ok := any(&ar.b).(*nbChunks[T]); ok {
		s = p.cut(n)
	} else {
		return make([]T, n)
	}
	clear(s)
	return s
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
	"nbKeep": `// nbKeep ends a call that cut its temporaries from a after m: the
// float64 arrays it returns (*rs) move down to m (or, when they do not
// fit in m's chunk, to the start of the first later chunk of the call
// where they do) and all else the call cut there is released, so that a
// caller's arena holds what its callees return, not everything they
// computed. Nothing moves when the call cut little (moving would cost
// more than it frees) or when two results share storage.
func nbKeep(a *nbArena, m nbMark, rs ...*[]float64) {
	if a == nil || len(a.f.all) == 0 || len(rs) > 32 {
		return
	}
	c, k0 := &a.f, m.f.k
	start := func(k int) int {
		if k == k0 {
			return m.f.n
		}
		return 0
	}
	cut := len(c.cur) - start(c.k)
	for k := k0; k < c.k; k++ {
		cut += cap(c.all[k]) - start(k)
	}
	if cut < 1<<12 {
		return
	}
	// The results cut since m, by chunk and position. (They are kept by
	// index into rs, so that no pointer to a caller's local leaves the
	// stack.)
	type result struct{ i, k, off int }
	var ms [32]result
	nm, total := 0, 0
	for i, r := range rs {
		dup := false
		for _, x := range ms[:nm] {
			dup = dup || rs[x.i] == r
		}
		if dup || len(*r) == 0 {
			continue
		}
		for k := k0; k <= c.k; k++ {
			if off, ok := runtime.OffsetIn(c.all[k], *r); ok && off >= start(k) {
				ms[nm] = result{i, k, off}
				nm++
				total += len(*r)
				break
			}
		}
	}
	if 2*total > cut {
		return
	}
	t := k0
	for t <= c.k && start(t)+total > cap(c.all[t]) {
		t++
	}
	if t > c.k {
		return
	}
	for i := 1; i < nm; i++ {
		for j := i; j > 0 && (ms[j].k < ms[j-1].k || ms[j].k == ms[j-1].k && ms[j].off < ms[j-1].off); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	for i := 1; i < nm; i++ {
		if p := ms[i-1]; p.k == ms[i].k && p.off+len(*rs[p.i]) > ms[i].off {
			return // results sharing storage
		}
	}
	// Chunk t's results first, in order: each moves down, over nothing
	// it still needs; then the others, from other chunks.
	base, dst := c.all[t], start(t)
	for pass := 0; pass < 2; pass++ {
		for _, x := range ms[:nm] {
			if (x.k == t) != (pass == 0) {
				continue
			}
			r := rs[x.i]
			n := len(*r)
			copy(base[dst:dst+n], *r)
			*r = base[dst : dst+n : dst+n]
			dst += n
		}
	}
	c.k, c.cur = t, base[:dst]
}
`,
	"nbArena": `// nbArena hands out the arrays of one call: slices cut from chunks
// that are kept from call to call, so that a call in steady state
// allocates nothing. A nil *nbArena allocates with make (for values that
// outlive the call). An arena serves one call at a time; exported
// functions take one from nbArenas.
type nbArena struct {
	f nbChunks[float64]
	i nbChunks[int64]
	b nbChunks[bool]
}

// nbChunks is an arena's memory for one element type: every chunk it has
// allocated, and cur, chunk k cut up to its length. A call that outgrows
// a chunk moves on to the next one, allocated then, and the next call
// walks the same chunks again: only the first call touches new memory,
// however many chunks it needed (taking fresh pages from the system is
// what makes a first call slow), and releasing a mark goes back across
// chunks.
type nbChunks[T any] struct {
	cur []T
	all [][]T
	k   int
	// mapped: large float64 chunks are mapped outside the Go heap, on
	// huge pages where the system has them (runtime.MapF64), for an
	// arena that lives as long as the program.
	mapped bool
}

// nbPos is a point in one kind's chunks: chunk k cut to length n.
type nbPos struct{ k, n int }

func (c *nbChunks[T]) pos() nbPos { return nbPos{c.k, len(c.cur)} }

func (c *nbChunks[T]) back(p nbPos) {
	if len(c.all) > 0 {
		c.k, c.cur = p.k, c.all[p.k][:p.n]
	}
}

// cut returns the next n elements, of unspecified contents.
func (c *nbChunks[T]) cut(n int) []T {
	if l := len(c.cur); l+n <= cap(c.cur) {
		c.cur = c.cur[:l+n]
		return c.cur[l : l+n : l+n]
	}
	return c.next(n)
}

// next moves on to the first later chunk that holds n elements, or to a
// new one, at least twice the size of the last.
func (c *nbChunks[T]) next(n int) []T {
	for c.k+1 < len(c.all) {
		c.k++
		if cap(c.all[c.k]) >= n {
			c.cur = c.all[c.k][:n]
			return c.cur[:n:n]
		}
	}
	size := max(n, 1024)
	if len(c.all) > 0 {
		size = max(size, 2*cap(c.all[len(c.all)-1]))
	}
	var chunk []T
	if c.mapped && size >= 1<<18 {
		if p, ok := any(&chunk).(*[]float64); ok {
			*p, _ = runtime.MapF64(size)
		}
	}
	if chunk == nil {
		chunk = make([]T, size)
	}
	c.all = append(c.all, chunk[:n])
	c.k = len(c.all) - 1
	c.cur = c.all[c.k]
	return c.cur[:n:n]
}

func (a *nbArena) reset() {
	a.f.back(nbPos{})
	a.i.back(nbPos{})
	a.b.back(nbPos{})
}

// nbMark is a point in an arena to release back to.
type nbMark struct{ f, i, b nbPos }

func (a *nbArena) mark() nbMark {
	if a == nil {
		return nbMark{}
	}
	return nbMark{a.f.pos(), a.i.pos(), a.b.pos()}
}

// release frees what was cut since m, for reuse by the next cuts (a loop
// releases each iteration's temporaries). Nothing allocated since m may
// be used afterwards.
func (a *nbArena) release(m nbMark) {
	if a != nil {
		a.f.back(m.f)
		a.i.back(m.i)
		a.b.back(m.b)
	}
}

// F64w cuts n elements of unspecified contents, for code that stores
// every one before reading any: clearing them would be a wasted pass.
func (a *nbArena) F64w(n int) []float64 {
	if a == nil {
		return make([]float64, n)
	}
	return a.f.cut(n)
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
	s := a.i.cut(n)
	clear(s)
	return s
}

func (a *nbArena) Bool(n int) []bool {
	if a == nil {
		return make([]bool, n)
	}
	s := a.b.cut(n)
	clear(s)
	return s
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
