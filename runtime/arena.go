package runtime

import "sync"

// Arena hands out the arrays of one call of generated code: slices cut
// from chunks that are kept from call to call, so that a call in steady
// state allocates nothing. A nil *Arena allocates with make (for values
// that outlive the call). An arena serves one call at a time; exported
// functions of generated packages take one from Arenas and give it back.
type Arena struct {
	f chunks[float64]
	i chunks[int64]
	b chunks[bool]
	// outer is where the def an exported function calls starts cutting
	// (Outer), valid while hasOuter; Keep does nothing at this mark.
	outer    ArenaMark
	hasOuter bool
}

// chunks is an arena's memory for one element type: every chunk it has
// allocated, and cur, chunk k cut up to its length. A call that outgrows
// a chunk moves on to the next one, allocated then, and the next call
// walks the same chunks again: only the first call touches new memory,
// however many chunks it needed (taking fresh pages from the system is
// what makes a first call slow), and releasing a mark goes back across
// chunks.
type chunks[T any] struct {
	cur []T
	all [][]T
	k   int
	// mapped: large float64 chunks are mapped outside the Go heap, on
	// huge pages where the system has them (MapF64), for an arena that
	// lives as long as the program.
	mapped bool
}

// pos is a point in one kind's chunks: chunk k cut to length n.
type pos struct{ k, n int }

func (c *chunks[T]) pos() pos { return pos{c.k, len(c.cur)} }

func (c *chunks[T]) back(p pos) {
	if len(c.all) > 0 {
		c.k, c.cur = p.k, c.all[p.k][:p.n]
	}
}

// cut returns the next n elements, of unspecified contents. It is small
// enough to inline into the generated code that calls it in loops.
func (c *chunks[T]) cut(n int) []T {
	if l := len(c.cur); l+n <= cap(c.cur) {
		c.cur = c.cur[:l+n]
		return c.cur[l : l+n : l+n]
	}
	return c.next(n)
}

// next moves on to the first later chunk that holds n elements, or to a
// new one, at least twice the size of the last.
func (c *chunks[T]) next(n int) []T {
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
			*p, _ = MapF64(size)
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

// held is the capacity of every chunk.
func (c *chunks[T]) held() int {
	n := 0
	for _, ch := range c.all {
		n += cap(ch)
	}
	return n
}

// Held is the memory the arena keeps from call to call, in elements of
// each kind (the capacities of all its chunks): what a caller's steady
// state costs, for tests and diagnostics.
func (a *Arena) Held() (f64, i64, boolean int) {
	if a == nil {
		return 0, 0, 0
	}
	return a.f.held(), a.i.held(), a.b.held()
}

// NewMappedArena makes an arena whose large float64 chunks are mapped
// outside the Go heap (MapF64), for the one arena of a program that
// lives as long as the program (the run harness's). Its chunks are
// never freed.
func NewMappedArena() *Arena {
	return &Arena{f: chunks[float64]{mapped: true}}
}

// Unmap makes the chunks a mapped arena allocates from now on ordinary
// Go memory (when a memory limit must see them).
func (a *Arena) Unmap() { a.f.mapped = false }

// Reset makes the whole arena free for the next call; nothing cut from it
// before may be used afterwards.
func (a *Arena) Reset() {
	a.f.back(pos{})
	a.i.back(pos{})
	a.b.back(pos{})
	a.hasOuter = false
}

// Outer records the arena's current point as where the outermost def of
// an exported call starts. That def's Keep, at this mark, then leaves its
// results where they are: the exported function copies them out and the
// arena is reset before its next use, so moving them down would be a
// wasted copy of every result. (A def called before anything else was cut
// has the same mark and is not compacted either: Keep never changes a
// result's values, only how much of the arena stays in use.)
func (a *Arena) Outer() {
	if a != nil {
		a.outer, a.hasOuter = a.Mark(), true
	}
}

// ArenaMark is a point in an arena to release back to.
type ArenaMark struct{ f, i, b pos }

// Mark is the arena's current point (the zero mark for a nil arena).
func (a *Arena) Mark() ArenaMark {
	if a == nil {
		return ArenaMark{}
	}
	return ArenaMark{a.f.pos(), a.i.pos(), a.b.pos()}
}

// Release frees what was cut since m, for reuse by the next cuts (a loop
// releases each iteration's temporaries). Nothing cut since m may be
// used afterwards.
func (a *Arena) Release(m ArenaMark) {
	if a != nil {
		a.f.back(m.f)
		a.i.back(m.i)
		a.b.back(m.b)
	}
}

// F64w cuts n elements of unspecified contents, for code that stores
// every one before reading any: clearing them would be a wasted pass.
func (a *Arena) F64w(n int) []float64 {
	if a == nil {
		return make([]float64, n)
	}
	return a.f.cut(n)
}

// F64 cuts n zeroed float64 elements.
func (a *Arena) F64(n int) []float64 {
	s := a.F64w(n)
	clear(s)
	return s
}

// I64 cuts n zeroed int64 elements.
func (a *Arena) I64(n int) []int64 {
	if a == nil {
		return make([]int64, n)
	}
	s := a.i.cut(n)
	clear(s)
	return s
}

// Bool cuts n zeroed bool elements.
func (a *Arena) Bool(n int) []bool {
	if a == nil {
		return make([]bool, n)
	}
	s := a.b.cut(n)
	clear(s)
	return s
}

// allocW cuts n elements of type T, not zeroed (the caller writes every
// one before reading any), made with make for an element type the arena
// does not keep.
func allocW[T any](a *Arena, n int) []T {
	if a == nil {
		return make([]T, n)
	}
	if p, ok := any(&a.f).(*chunks[T]); ok {
		return p.cut(n)
	} else if p, ok := any(&a.i).(*chunks[T]); ok {
		return p.cut(n)
	} else if p, ok := any(&a.b).(*chunks[T]); ok {
		return p.cut(n)
	}
	return make([]T, n)
}

// Arenas keeps the idle arenas of every generated package in the
// program. Unlike a sync.Pool it is not emptied by the garbage
// collector, so a call in steady state really allocates nothing; it
// holds at most MaxIdleArenas arenas, each keeping the largest chunks a
// call needed.
var Arenas ArenaPool

// MaxIdleArenas bounds the arenas an ArenaPool keeps.
const MaxIdleArenas = 16

// ArenaPool is a stack of idle arenas: the arena returned last, whose
// memory is the most likely to be in cache, is the next one handed out.
// The zero value is an empty pool.
type ArenaPool struct {
	mu   sync.Mutex
	idle []*Arena
}

// Get takes an idle arena, or a new one. Its contents are those of its
// last call: Reset it before use.
func (p *ArenaPool) Get() *Arena {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		a := p.idle[n-1]
		p.idle = p.idle[:n-1]
		return a
	}
	return new(Arena)
}

// Put gives a back for a later Get; nothing cut from it may be used
// afterwards. A full pool drops it.
func (p *ArenaPool) Put(a *Arena) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) < MaxIdleArenas {
		p.idle = append(p.idle, a)
	}
}
