// Tape chunks recycled across calls: once a def's call is done with the
// tapes its reverse passes read, their chunks serve the next call.

package interp

import (
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/nabla-lang/nabla/runtime"
)

// A tape arena's chunks (tape.go) live as long as anything carved from
// them. In a gradient that is the forward sweep's tape, which the reverse
// pass reads and which is dead by the time the def returns its
// cotangents: the LSTM gradient makes about 8 MB of chunks per call, and
// allocating, zeroing and collecting them was a fifth of its time. So an
// arena made by code compiled in a def's own body (not a lambda's, not a
// value def's) is listed on the def's frame, and when the def returns
// normally, releaseTapes checks that nothing carved from the arena can be
// reached any more:
//
//   - not from the result, nor from the arguments (walked: arrays, their
//     storage and boxed elements, tuples; any other reference, such as a
//     closure, counts as reaching the chunks, since what it captured is
//     not looked at);
//   - not from the machine's recycled arrays (runtime.Machine.Recycle),
//     which are dropped from its list if they are carved.
//
// The frame's other slots die with the call, and values are immutable, so
// nothing else can hold a carved piece. The arena then goes back to its
// site (one per loop_save or build of tuples compiled with an arena), and
// the site's next run takes it: its chunks are taken again in the same
// order, each cleared when taken and charged to the new call's memory
// meter as a new chunk would be (only when its size is the one a new
// chunk would have), so values, steps, errors and what the memory limit
// counts are those of new chunks. If the result does reach the chunks
// (value_and_grad returning a saved primal, say), or the call fails or
// panics, the arena is simply dropped.
//
// A site runs at most one recycled arena per activation of its def: a
// site run again in the same activation (a loop_save inside a loop) makes
// plain arenas, which die with their tapes, since the listed one is kept
// alive until the def returns. A site keeps at most tapeKeepArenas
// arenas of at most tapeKeepBytes of chunks in all; concurrent calls take
// different arenas.

// tapeKeepArenas and tapeKeepBytes bound what a site keeps between calls.
const (
	tapeKeepArenas = 4
	tapeKeepBytes  = 64 << 20
)

// tapeSite is the arenas a site keeps for its next runs.
type tapeSite struct {
	mu    sync.Mutex
	kept  []*tapeArena
	bytes int
}

// noTapeRecycle, set by tests, compiles sites without recycling (arenas
// are dropped with their tapes, as before); tapeRecycled counts the runs
// that took a kept arena and tapeEscapes the releases refused because the
// result or arguments reach a chunk.
var (
	noTapeRecycle bool
	tapeRecycled  atomic.Int64
	tapeEscapes   atomic.Int64
)

// tapeSiteFor returns a new site for an arena compiled in c, or nil when
// c's arenas are not recycled (a lambda's or a value def's code).
func (c *fnComp) tapeSiteFor() *tapeSite {
	if !c.keepTapes || noTapeRecycle {
		return nil
	}
	return &tapeSite{}
}

// arena returns the arena for a run of site (nil: a new plain arena) in
// fr: a kept one if there is one, listed on fr for releaseTapes.
func (s *tapeSite) arena(fr *frame, small bool) *tapeArena {
	if s == nil {
		return newTapeArena(fr.m, small)
	}
	for _, a := range fr.tapes {
		if a.site == s {
			return newTapeArena(fr.m, small)
		}
	}
	var a *tapeArena
	s.mu.Lock()
	if n := len(s.kept); n > 0 {
		a = s.kept[n-1]
		s.kept[n-1] = nil
		s.kept = s.kept[:n-1]
		s.bytes -= a.bytes()
	}
	s.mu.Unlock()
	if a != nil {
		tapeRecycled.Add(1)
		a.reset(fr.m, small)
	} else {
		a = newTapeArena(fr.m, small)
		a.site = s
	}
	fr.tapes = append(fr.tapes, a)
	return a
}

// put keeps a for the site's next run, within the bounds, with only the
// chunks this run took (spares it did not take are let go).
func (s *tapeSite) put(a *tapeArena) {
	n := a.bytes()
	a.m = nil
	dropSpares(&a.f)
	dropSpares(&a.box)
	dropSpares(&a.tup)
	dropSpares(&a.hdr)
	dropSpares(&a.hdr2)
	s.mu.Lock()
	if len(s.kept) < tapeKeepArenas && s.bytes+n <= tapeKeepBytes {
		s.kept = append(s.kept, a)
		s.bytes += n
	}
	s.mu.Unlock()
}

func dropSpares[T any](l *chunkList[T]) {
	clear(l.spare)
	l.spare, l.spareAt, l.free = l.spare[:0], 0, nil
}

// bytes is the size of the chunks a has taken.
func (a *tapeArena) bytes() int {
	return listBytes(&a.f) + listBytes(&a.box) + listBytes(&a.tup) + listBytes(&a.hdr) + listBytes(&a.hdr2)
}

func listBytes[T any](l *chunkList[T]) int {
	n := 0
	for _, c := range l.made {
		n += len(c) * int(unsafe.Sizeof(c[0]))
	}
	return n
}

// releaseTapes ends the activation fr of a def whose body listed arenas
// (fr.tapes): with the def's result v (err nil) and its nparams
// arguments, the arenas go back to their sites if nothing reaches their
// chunks, and are dropped otherwise.
func releaseTapes(fr *frame, v runtime.Value, err error, nparams int) {
	tapes := fr.tapes
	fr.tapes = tapes[:0]
	defer clear(tapes)
	if err != nil {
		return
	}
	var sp chunkSpans
	for _, a := range tapes {
		sp = a.spans(sp)
	}
	sp.sort()
	budget := tapeWalkBudget
	if sp.reaches(v, &budget) {
		tapeEscapes.Add(1)
		return
	}
	for _, x := range fr.slots[:nparams] {
		if sp.reaches(x, &budget) {
			tapeEscapes.Add(1)
			return
		}
	}
	fr.m.DropRecycled(func(a *runtime.Array) bool { return sp.array(a) })
	for _, a := range tapes {
		a.site.put(a)
	}
}

// tapeWalkBudget bounds the arrays and tuples releaseTapes looks at;
// past it, the chunks count as reached (a result of many boxed elements
// is not worth walking for a few MB).
const tapeWalkBudget = 1 << 12

// chunkSpans are the address ranges [lo, hi) of chunks, sorted by lo.
type chunkSpans []chunkSpan

type chunkSpan struct{ lo, hi uintptr }

// spans adds the ranges of a's chunks to sp.
func (a *tapeArena) spans(sp chunkSpans) chunkSpans {
	sp = listSpans(sp, &a.f)
	sp = listSpans(sp, &a.box)
	sp = listSpans(sp, &a.tup)
	sp = listSpans(sp, &a.hdr)
	return listSpans(sp, &a.hdr2)
}

func listSpans[T any](sp chunkSpans, l *chunkList[T]) chunkSpans {
	for _, c := range l.made {
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(c)))
		sp = append(sp, chunkSpan{lo, lo + uintptr(len(c))*unsafe.Sizeof(c[0])})
	}
	return sp
}

func (sp chunkSpans) sort() {
	slices.SortFunc(sp, func(a, b chunkSpan) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
}

// has reports whether p points into one of the chunks.
func (sp chunkSpans) has(p unsafe.Pointer) bool {
	u := uintptr(p)
	if u == 0 {
		return false
	}
	// The last span starting at or below u.
	i, _ := slices.BinarySearchFunc(sp, u, func(s chunkSpan, u uintptr) int {
		if s.lo <= u {
			return -1
		}
		return 1
	})
	return i > 0 && u < sp[i-1].hi
}

// array reports whether a's header, shape or storage is in a chunk.
func (sp chunkSpans) array(a *runtime.Array) bool {
	return sp.has(unsafe.Pointer(a)) || sp.has(unsafe.Pointer(unsafe.SliceData(a.Shape))) ||
		sp.has(unsafe.Pointer(unsafe.SliceData(a.F))) || sp.has(unsafe.Pointer(unsafe.SliceData(a.I))) ||
		sp.has(unsafe.Pointer(unsafe.SliceData(a.B))) || sp.has(unsafe.Pointer(unsafe.SliceData(a.Box)))
}

// reaches reports whether v reaches a chunk, or may (a reference of
// another kind than arrays and tuples, or more of them than *budget).
func (sp chunkSpans) reaches(v runtime.Value, budget *int) bool {
	switch r := v.R.(type) {
	case nil:
		return false
	case *runtime.Array:
		if r == nil {
			return false
		}
		if *budget--; *budget < 0 || sp.array(r) {
			return true
		}
		for _, x := range r.Box {
			if sp.reaches(x, budget) {
				return true
			}
		}
		return false
	case runtime.Tuple:
		if *budget--; *budget < 0 || sp.has(unsafe.Pointer(unsafe.SliceData(r))) {
			return true
		}
		for _, x := range r {
			if sp.reaches(x, budget) {
				return true
			}
		}
		return false
	}
	return true
}
