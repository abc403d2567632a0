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
// The helpers are worker goroutines started once and kept: a call hands
// them a job record from a pool, so a call in steady state allocates
// nothing (a closure the caller makes may, if it escapes: see Loop for
// what generated code does about it). Waking a helper still costs a
// microsecond or so: give the chunks some tens of microseconds of work
// at least, and call the kernel directly below the size where that pays.

// ForBody is the work of a parallel loop over chunks: Run(lo, hi) does
// the elements [lo, hi).
type ForBody interface{ Run(lo, hi int) }

// SumBody is the work of a parallel sum over chunks: Sum(lo, hi) is the
// partial sum of the elements [lo, hi).
type SumBody interface{ Sum(lo, hi int) float64 }

// forFunc and sumFunc make plain functions bodies (a func value is one
// word: it goes into an interface without being copied to the heap).
type (
	forFunc func(lo, hi int)
	sumFunc func(lo, hi int) float64
)

func (f forFunc) Run(lo, hi int)         { f(lo, hi) }
func (f sumFunc) Sum(lo, hi int) float64 { return f(lo, hi) }

// ParallelFor calls body(lo, hi) once for every chunk [lo, hi) of [0, n)
// of grain elements (the last one may be shorter), on up to GOMAXPROCS
// goroutines, and returns when all calls have returned. Calls for
// different chunks may run at the same time and in any order, so body
// must only write what its own chunk owns. A grain below 1 counts as 1.
// If a call panics, the chunks not yet started are skipped and
// ParallelFor panics with the same value once the running calls are over.
func ParallelFor(n, grain int, body func(lo, hi int)) {
	ParallelRun(n, grain, forFunc(body))
}

// ParallelRun is ParallelFor with the body behind an interface: a
// pointer to state the caller reuses makes a call that allocates nothing.
func ParallelRun(n, grain int, body ForBody) {
	if n <= 0 {
		return
	}
	grain = max(grain, 1)
	j := getJob(n, grain)
	j.fb = body
	j.run()
}

// ParallelSum returns the sum of part(lo, hi) over the chunks of
// ParallelFor, added left to right in chunk order: part(0, grain) +
// part(grain, 2·grain) + .... The chunks are computed on up to GOMAXPROCS
// goroutines, but the result is bit-for-bit the same whatever GOMAXPROCS
// is. It is 0 for n ≤ 0, and part(0, n) when n ≤ grain.
func ParallelSum(n, grain int, part func(lo, hi int) float64) float64 {
	return ParallelAdd(n, grain, sumFunc(part))
}

// ParallelAdd is ParallelSum with the body behind an interface.
func ParallelAdd(n, grain int, body SumBody) float64 {
	if n <= 0 {
		return 0
	}
	grain = max(grain, 1)
	if n <= grain {
		return body.Sum(0, n)
	}
	j := getJob(n, grain)
	j.sb = body
	if cap(j.partial) < j.chunks {
		j.partial = make([]float64, j.chunks)
	}
	j.partial = j.partial[:j.chunks]
	j.run()
	// The job is the caller's until it lets it go: no helper writes a
	// partial sum once every chunk is done.
	s := j.partial[0]
	for _, p := range j.partial[1:] {
		s += p
	}
	j.release()
	return s
}

// runChunks calls run(c) for c in [0, chunks), on the calling goroutine
// and up to GOMAXPROCS - 1 helpers, as ParallelFor does for its chunks.
func runChunks(chunks int, run func(c int)) {
	if chunks <= 0 {
		return
	}
	j := getJob(chunks, 1)
	j.cf = run
	j.run()
}

// A job is one call's chunks. The calling goroutine and the helpers it
// hands the job to take the next chunk number from a shared counter. The
// caller waits for the chunks, not for the helpers: on a busy machine a
// helper may pick the job up only after the caller has run every chunk
// itself, and then it finds nothing to do. So a job goes back to the pool
// when the last of its holders (refs) lets it go, caller or helper,
// never while a late helper may still look at its counter.
type job struct {
	n, grain, chunks int
	// One of fb, sb and cf is the body.
	fb      ForBody
	sb      SumBody
	cf      func(c int)
	partial []float64 // ParallelAdd's partial sums, by chunk

	next, left atomic.Int64
	refs       atomic.Int32
	failed     atomic.Bool
	mu         sync.Mutex
	panicOf    any           // the first panic of a chunk, under mu
	done       chan struct{} // receives once the last chunk is over
}

// jobs keeps idle jobs.
var jobs idleStack[*job]

// maxIdleJobs bounds the idle jobs kept: as many as calls in parallel at
// once, on any machine this runs on.
const maxIdleJobs = 64

func getJob(n, grain int) *job {
	j, ok := jobs.pop()
	if !ok {
		j = &job{done: make(chan struct{}, 1)}
	}
	j.n, j.grain, j.chunks = n, grain, (n-1)/grain+1
	return j
}

// release lets the job go: the last holder clears it and puts it back.
func (j *job) release() {
	if j.refs.Add(-1) != 0 {
		return
	}
	j.fb, j.sb, j.cf, j.panicOf = nil, nil, nil, nil
	jobs.push(j, maxIdleJobs)
}

// chunk runs chunk c.
func (j *job) chunk(c int) {
	lo := c * j.grain
	hi := min(lo+j.grain, j.n)
	switch {
	case j.fb != nil:
		j.fb.Run(lo, hi)
	case j.sb != nil:
		j.partial[c] = j.sb.Sum(lo, hi)
	default:
		j.cf(c)
	}
}

// run runs the job's chunks on this goroutine and up to GOMAXPROCS - 1
// helpers. A ParallelAdd job stays the caller's to read its partial sums
// and release; any other is released here.
func (j *job) run() {
	j.refs.Store(1)
	workers := min(goruntime.GOMAXPROCS(0), j.chunks)
	if workers <= 1 {
		// In order, on this goroutine; a panic goes up as it is.
		for c := range j.chunks {
			j.chunk(c)
		}
		j.finish()
		return
	}
	j.next.Store(0)
	j.left.Store(int64(j.chunks))
	j.failed.Store(false)
	startWorkers(workers - 1)
	for range workers - 1 {
		j.refs.Add(1)
		select {
		case queue <- j:
		default:
			// Every helper is busy and the queue full: the chunks are
			// run by whoever is free, this goroutine at least.
			j.refs.Add(-1)
		}
	}
	j.work()
	<-j.done
	if j.failed.Load() {
		p := j.panicOf
		j.release()
		panic(p)
	}
	j.finish()
}

// finish releases a job whose chunks are all done, but for ParallelAdd's,
// which its caller releases after adding the partial sums.
func (j *job) finish() {
	if j.sb == nil {
		j.release()
	}
}

// work runs chunks until none is left to start.
func (j *job) work() {
	for {
		c := int(j.next.Add(1)) - 1
		if c >= j.chunks {
			return
		}
		j.one(c)
	}
}

// one runs chunk c unless a chunk has failed, recording a panic.
func (j *job) one(c int) {
	defer func() {
		if p := recover(); p != nil {
			j.mu.Lock()
			if !j.failed.Load() {
				j.panicOf = p
			}
			j.failed.Store(true)
			j.mu.Unlock()
		}
		if j.left.Add(-1) == 0 {
			j.done <- struct{}{}
		}
	}()
	if !j.failed.Load() {
		j.chunk(c)
	}
}

// queue hands jobs to the helpers; a job is sent once per helper wanted.
var queue = make(chan *job, 256)

// started counts the helpers started; startMu serializes starting more.
var (
	started atomic.Int32
	startMu sync.Mutex
)

// startWorkers makes sure at least k helpers exist. They are never
// stopped: an idle helper is a goroutine blocked on the queue.
func startWorkers(k int) {
	if int(started.Load()) >= k {
		return
	}
	startMu.Lock()
	defer startMu.Unlock()
	for int(started.Load()) < k {
		started.Add(1)
		go helper()
	}
}

func helper() {
	// A chunk that calls runtime.Goexit ends its helper: the next call
	// that wants one starts another in its place.
	defer started.Add(-1)
	for j := range queue {
		j.work()
		j.release()
	}
}

// Parallel loops in generated code. A loop's body reads locals of the
// function around it; a closure that captured them would be made, and
// allocated, in every call, since it goes to other goroutines. Instead
// each loop of a generated function has a LoopSite, a pool of Loop
// records: a call takes one, stores the values its body reads in C, runs
// the body, a closure made once per record that reads them from there,
// and puts the record back. Concurrent calls take different records.
//
// C is a list of Cons cells ending in End, built with Bind, so that Go
// infers the types of the values and the generated code need not name
// them: Bind(x, Bind(y, End{})) is a Cons[[]float64, Cons[float64, End]]
// whose H is x and T.H is y.

// Cons holds a value H and the rest of a list T.
type Cons[H, T any] struct {
	H H
	T T
}

// End ends a list of Cons cells.
type End struct{}

// Bind is the list of h followed by t.
func Bind[H, T any](h H, t T) Cons[H, T] { return Cons[H, T]{h, t} }

// A Loop is the state of one call of a parallel loop of generated code.
type Loop[C any] struct {
	// C holds the values of the caller's locals the body reads.
	C C
	// For or Sum is the body, made the first time the record is used.
	For func(lo, hi int)
	Sum func(lo, hi int) float64
	// Errs holds the error of each chunk that failed, by chunk.
	Errs []error
}

// A LoopSite keeps the idle Loop records of one loop. The zero value is
// ready to use.
type LoopSite struct {
	idle idleStack[any]
}

// maxIdleLoops bounds the records a site keeps for concurrent calls.
const maxIdleLoops = 16

// EnterLoop takes a record of site for a call whose body reads c, with
// Errs one nil error per chunk of n elements in chunks of grain.
func EnterLoop[C any](site *LoopSite, c C, n, grain int) *Loop[C] {
	var l *Loop[C]
	if v, ok := site.idle.pop(); ok {
		l, _ = v.(*Loop[C])
	}
	if l == nil {
		l = new(Loop[C])
	}
	l.C = c
	chunks := 0
	if n > 0 {
		chunks = (n-1)/max(grain, 1) + 1
	}
	if cap(l.Errs) < chunks {
		l.Errs = make([]error, chunks)
	}
	l.Errs = l.Errs[:chunks]
	return l
}

// Err is the error of the first chunk that failed, or nil.
func (l *Loop[C]) Err() error {
	for _, err := range l.Errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Leave puts the record back into site, dropping the values and errors
// it held so that the pool keeps nothing of the call alive.
func (l *Loop[C]) Leave(site *LoopSite) {
	var zero C
	l.C = zero
	clear(l.Errs)
	site.idle.push(l, maxIdleLoops)
}

// A vecTask is the arguments of a kernel over long vectors or large
// matrices (sumWith, mapVV, axpyWith, gemvWith, gemmWith, ...) for its
// chunks: taken from vecTasks, it goes to ParallelRun or ParallelAdd as
// a pointer, where a closure would be allocated in every call.
type vecTask struct {
	op        vecOp
	ks        *kernelSet
	dst, x, y []float64
	a, beta   float64 // a is also alpha of the products
	vv        func(dst, x, y []float64)
	vc        func(dst, x []float64, c float64)
	cv        func(dst []float64, c float64, x []float64)
	// The matrix products: A (m×n) of Gemv, whose columns the chunks of
	// a transposed product count from off; Gemm's operands.
	mat       []float64
	m, n, off int
	gemm      gemmArgs
}

type vecOp uint8

const (
	vecSum vecOp = iota
	vecDot
	vecVV
	vecVC
	vecCV
	vecAxpy
	vecAxpyTo
	vecGemvRows
	vecGemvCols
	vecGemmRows
	vecGemmCols
)

var vecTasks idleStack[*vecTask]

func getVecTask() *vecTask {
	if t, ok := vecTasks.pop(); ok {
		return t
	}
	return new(vecTask)
}

// run is ParallelRun over the task's chunks; add is ParallelAdd. Both
// put the task back.
func (t *vecTask) run(n, grain int) {
	ParallelRun(n, grain, t)
	t.put()
}

func (t *vecTask) add(n, grain int) float64 {
	s := ParallelAdd(n, grain, t)
	t.put()
	return s
}

func (t *vecTask) put() {
	*t = vecTask{}
	vecTasks.push(t, maxIdleJobs)
}

func (t *vecTask) Run(lo, hi int) {
	switch t.op {
	case vecVV:
		t.vv(t.dst[lo:hi], t.x[lo:hi], t.y[lo:hi])
	case vecVC:
		t.vc(t.dst[lo:hi], t.x[lo:hi], t.a)
	case vecCV:
		t.cv(t.dst[lo:hi], t.a, t.x[lo:hi])
	case vecAxpy:
		t.ks.axpy(t.a, t.x[lo:hi], t.y[lo:hi])
	case vecAxpyTo:
		t.ks.axpyTo(t.dst[lo:hi], t.a, t.x[lo:hi], t.y[lo:hi])
	case vecGemvRows:
		gemvRows(t.ks, t.n, t.a, t.mat, t.x, t.beta, t.y, lo, hi)
	case vecGemvCols:
		gemvCols(t.ks, t.m, t.n, t.a, t.mat, t.x, t.y, t.off+lo, t.off+hi)
	case vecGemmRows:
		gemmTask(t.ks, t.gemm, t.a, t.beta, t.dst, lo, hi, 0, t.gemm.n)
	case vecGemmCols:
		gemmTask(t.ks, t.gemm, t.a, t.beta, t.dst, 0, t.gemm.m, lo, hi)
	default:
		panic("runtime: vecTask.Run of a reduction")
	}
}

func (t *vecTask) Sum(lo, hi int) float64 {
	if t.op == vecDot {
		return t.ks.dot(t.x[lo:hi], t.y[lo:hi])
	}
	return t.ks.sum(t.x[lo:hi])
}

// idleStack keeps idle records for reuse: the one put back last, the
// likeliest to be in cache, comes out first. Unlike a sync.Pool it is
// not emptied by the garbage collector, so a call in steady state
// allocates nothing.
type idleStack[T any] struct {
	mu   sync.Mutex
	idle []T
}

func (s *idleStack[T]) pop() (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v T
	k := len(s.idle)
	if k == 0 {
		return v, false
	}
	v = s.idle[k-1]
	var zero T
	s.idle[k-1] = zero // the stack keeps no reference to what it gave
	s.idle = s.idle[:k-1]
	return v, true
}

// push keeps v unless limit records are idle already.
func (s *idleStack[T]) push(v T, limit int) {
	s.mu.Lock()
	if len(s.idle) < limit {
		s.idle = append(s.idle, v)
	}
	s.mu.Unlock()
}
