package runtime

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
)

// Parallel loops with a chunking that depends on the problem alone.
//
// ParallelFor and ParallelSum cut [0, n) into the chunks [0, grain),
// [grain, 2·grain), ..., whose number and bounds depend on n and grain
// only, never on the number of cores. The chunks then run on up to
// GOMAXPROCS goroutines (the caller's among them). So a reduction that
// combines per-chunk results in chunk order, as ParallelSum does, gives
// the same bits on one core as on sixty-four, and the same bits as a
// sequential loop over the chunks.
//
// They start goroutines for each call (a few microseconds in all): give
// them chunks of some tens of microseconds of work at least, and call
// the kernel directly below the size where that pays.

// ParallelFor calls body(lo, hi) once for every chunk [lo, hi) of [0, n)
// of grain elements (the last one may be shorter), on up to GOMAXPROCS
// goroutines, and returns when all calls have returned. Calls for
// different chunks may run at the same time and in any order, so body
// must only write what its own chunk owns. A grain below 1 counts as 1.
// If a call panics, the chunks not yet started are skipped and
// ParallelFor panics with the same value once the running calls are over.
func ParallelFor(n, grain int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	chunks := (n-1)/grain + 1
	runChunks(chunks, func(c int) {
		lo := c * grain
		body(lo, min(lo+grain, n))
	})
}

// ParallelSum returns the sum of part(lo, hi) over the chunks of
// ParallelFor, added left to right in chunk order: part(0, grain) +
// part(grain, 2·grain) + .... The chunks are computed on up to GOMAXPROCS
// goroutines, but the result is bit-for-bit the same whatever GOMAXPROCS
// is. It is 0 for n ≤ 0, and part(0, n) when n ≤ grain.
func ParallelSum(n, grain int, part func(lo, hi int) float64) float64 {
	if n <= 0 {
		return 0
	}
	grain = max(grain, 1)
	if n <= grain {
		return part(0, n)
	}
	chunks := (n-1)/grain + 1
	partial := make([]float64, chunks)
	runChunks(chunks, func(c int) {
		lo := c * grain
		partial[c] = part(lo, min(lo+grain, n))
	})
	s := partial[0]
	for _, p := range partial[1:] {
		s += p
	}
	return s
}

// runChunks calls run(c) for c in [0, chunks), on the calling goroutine
// and min(GOMAXPROCS, chunks) - 1 helpers, which all take the next chunk
// number from a shared counter. The caller waits for the chunks, not for
// the helpers: on a busy machine a helper may start only after the
// caller has run every chunk itself, and then it finds nothing to do and
// nobody waiting for it.
func runChunks(chunks int, run func(c int)) {
	workers := min(goruntime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		for c := range chunks {
			run(c)
		}
		return
	}
	var (
		next, left atomic.Int64
		failed     atomic.Bool
		mu         sync.Mutex
		panicOf    any
		done       = make(chan struct{})
	)
	left.Store(int64(chunks))
	one := func(c int) {
		defer func() {
			if p := recover(); p != nil {
				mu.Lock()
				if !failed.Load() {
					panicOf = p
				}
				failed.Store(true)
				mu.Unlock()
			}
			if left.Add(-1) == 0 {
				close(done)
			}
		}()
		if !failed.Load() {
			run(c)
		}
	}
	work := func() {
		for {
			c := int(next.Add(1)) - 1
			if c >= chunks {
				return
			}
			one(c)
		}
	}
	for range workers - 1 {
		go work()
	}
	work()
	<-done
	if failed.Load() {
		panic(panicOf)
	}
}
