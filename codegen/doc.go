// Package codegen is Nabla's second backend: it turns an optimized IR
// program (the output of the pipeline's opt stage) into Go source. nabla
// gen writes that source for go generate; Backend builds it with the Go
// toolchain and runs it for nabla run --backend go.
//
// # Where it sits
//
// Specialization has already made every function value static (each def
// with function parameters is copied per distinct argument, closures are
// lifted), AD has expanded grad, vjp and the rest into ordinary IR, and
// the rewrite strategies have optimized it. What reaches codegen is a
// first-order program of Var, Const, Let, Lambda, Global, Call, PrimCall,
// MakeTuple, Proj, If and Loop, where a Lambda only ever appears as the
// function argument of a primitive (map, build, reduce, ...), bound by a
// let, or called on the spot. The emitter inlines lambdas where they are
// used and calls defs as Go functions: nothing is a closure at run time,
// except linsolve's matvec (below) and the function parameters of an
// exported template (def twice(f: f64 -> f64, x: f64)), which are Go func
// values: func(float64) float64 in the exported API, adapted to the
// internal layout. Such a function returns an error, which a nil callback
// is (argument f is a nil function), so that a bad argument never panics.
//
// # Layout of values
//
// A value of any type is laid out as a list of Go values, its parts, with
// nothing boxed (layout.go):
//
//   - f64, i64 and bool are float64, int64 and bool locals;
//   - an array of scalars of rank r is a flat row-major slice and its r
//     dimensions as int locals ([m][n]f64 is data []float64, m, n int);
//     rows and slices of it are sub-slices (views), never copies;
//   - a tuple is the concatenation of its elements' parts;
//   - an array of tuples is a tuple of arrays ([n](f64, [k]i64) is a
//     []float64 with n and an []int64 with n, k), so zip and unzip cost
//     nothing and every hot loop reads plain slices.
//
// A scalar or array inside this layout is a leaf. Internal functions take
// and return the parts of their parameters and result (plus an arena, see
// below, and an error last if they can fail), so a call passes registers,
// not structures.
//
// # Lowering
//
// compile (gen.go) walks an expression and emits Go statements into the
// function being built, returning the parts of its value as atoms (local
// names or literals). A let binds its variable to the value's atoms, an
// if assigns the parts in both branches, a loop becomes a Go for loop that
// assigns the next state's parts (a while loop, for { if !cond break }).
//
// Primitives are lowered by a table keyed by *ir.Prim (prims.go), one
// self-contained rule per primitive, so that the rules can move into the
// primitives' declarations: an elementwise primitive gives a Go expression
// per operand kind ("math.Exp(%s)", a + b, runtime.Sigmoid(x)) plus, for i64
// operations that can fail, a guard; every other primitive gives a Lower
// function (arrays.go) emitting loops or runtime kernel calls (runtime.Sum,
// Dot, Gemv, Gemm, LogSumExp, ...; the kernels the interpreter uses, so
// results agree). TestEveryPrimHasARule fails for a primitive without a
// rule (the AD operators excepted: they never reach codegen).
//
// A matrix the IR shows to be lower-triangular (a build whose element is
// 0.0 wherever the column index exceeds the row index, GMM's qmat; a row
// of a build of such matrices; a variable bound to one) has the zero half
// skipped by the small forms of M @ x and x @ M when the summed size is 8
// or more (tri.go): the same bits, since the skipped terms are zeros that
// would be added to the end of a row's sum or the start of a column's,
// and the full loops run again when the one element that has every term
// is not finite.
//
// The reverse pass of a quadratic form of such a matrix, as reverse mode
// writes it for GMM (c = 2.0 * (Q @ y) * s, then c @ Q into one
// accumulator and outer(c, y) into another), is one sweep down the rows
// of Q, four at a time, instead of three passes (trisweep.go): row r of
// Q y gives c_r, which is added times row r of Q to the column sums of
// c @ Q and times y to row r of Q's cotangent. The same sums in the same
// order, so the same bits; the sweep runs where nothing can fail and y
// is finite (the last row of Q y tells), the general code otherwise.
// Where no entry of the cotangent above its diagonal can reach a result
// (a demand analysis back from the def's result through lets, tuples,
// loop states, acc_add_at and calls, triupper.go: in GMM the cotangent
// goes to qmat's backward def, which reads entry (r, c) only under
// r >= c), the sweep adds c_r y to row r up to the diagonal only.
//
// A tape build over points whose only reader is a later reverse loop over
// the same count, reading it at the loop's own index (GMM's gradient), is
// compiled as one loop where the forward pass has a product M[j] @ v that
// the reverse body's sweep recomputes (pointfuse.go): point i's forward
// values are computed at the top of iteration i, each component's
// product is kept in a K × d buffer, and the sweep reads its row sums
// from there instead of computing them again. The same sums, so the same
// bits. The fused code runs the code between the build and the loop
// first, so it is speculative: any error leaves it, and the general code
// runs from the build on and reports its error, in the general order.
// It runs where the sweep can (8 to 32 rows); elsewhere the general code.
//
// When the summed size of a small M @ x or x @ M, or the length of y in
// an accumulation of outer(x, y), is 1 to 4 at run time, the inner loop
// is written out (smalltrip.go): one switch on the size, and for each of
// the four counts the terms in the loop's order with the vector's
// elements in locals (GMM at d = 2: a 2 × 2 product per point and
// component). The same sums in the same order, so the same bits.
//
// # Fusion and destination passing
//
// Elementwise primitives on arrays, and build and map with scalar
// elements, do not compute anything when they are compiled: they yield a
// lazy array, a recipe for element i (fuse.go). Elementwise consumers
// compose recipes, so a*x + y is one expression per element; sum, mean,
// dot and the reverse-mode accumulator acc_add consume a recipe in one
// loop, so sum(a*x + y) and [f(x[i]) for i < n] summed make no array at
// all; a build or map whose elements are arrays writes each lazy row
// straight into its place in the result, whose shape the first row's
// recipe tells before any element is computed; so does an array literal
// of arrays, after all its elements are compiled and their shapes
// checked. A literal element ending in a concat, and a literal of rows
// that is a concat's operand, are not built on their own: their leaves
// are copied once, into the literal's row or the concat's buffer
// (catrows.go). gather of scalars, its indices checked, is a recipe too.
// Anything else forces the
// recipe into a fresh array in one loop. acc_add(zeros_like(y), s), the
// cotangent of a sum, is a constant recipe: indexing it gives s, and it
// becomes an array only where an accumulator needs storage. Recipes never
// outlive what they read: branches, loop states, tuples and calls force
// them, and a let keeps its value lazy only when the variable is used
// once, outside any loop, lambda or branch, the value cannot fail and
// nothing in the body updates an array in place (or when the recipe is
// constant), or when every use is inside the body's one recipe
// (share.go: each element is computed once into a local).
//
// A run of lets over vectors of one length (group.go: elementwise
// recipes, array literals and constant builds of vector rows, calls of
// small kernels like cross compiled in place) is horizontally fused: the
// values are compiled first, their checks in order, then computed in one
// loop over the index, each a local that later lets read, stored only
// where something after the run reads it. gather's index check runs once
// per function when its indices and source length are parameters
// (hoist.go). So that a run goes on across calls, calls of small
// straight-line defs on a body's chain of lets are inlined before
// lowering, with their entry checks and the call's frame on every error
// (inline.go); an elementwise operation on arrays of a few rows becomes
// rows; lets that only check shapes are compiled inside a run, and the
// lengths those checks proved equal are one loop (lengths.go). A
// literal's rows that nothing after the run reads stay in locals.
//
// A loop whose iterations each release their arena mark keeps nothing
// they cut, so a cut of a size every iteration shares is made once
// before the loop and resliced in it (scratch.go: GMM's Q(x − μ) and
// logsumexp terms); a mark with nothing left to release goes, unless
// the loop holds another loop. Arrays only ever written (a nested tape's
// field the outer tape drops) are not cut or filled (deadstore.go).
//
// # Tapes
//
// Reverse mode saves values for its reverse pass in arrays of tuples, a
// tuple per element of a comprehension (let saved = build(n, fn i => (...,
// x[i], y, ...))). In the tuple-of-arrays layout each field is an array of
// its own, so the emitter stores only the fields some projection of
// saved[j] reads, keeps only the shape of one that len, dim or zeros_like
// alone look at, makes a field that is row i of an earlier array a view
// of that array, and makes build(n, fn i => saved[i].f) field f itself
// (fields.go). A value nobody reads (such a field, an unused let) is
// compiled for its failures only, and dropped when it cannot fail.
//
// Where a tape saves v and y = logsumexp(v) and its reverse pass reads v
// only as exp(v - y) (the softmax weights, GMM's per point), the element
// saves the weights instead, from the exps logsumexp sums anyway
// (softweights.go, runtime.LogSumExpWeights): one exp per element less.
// The weights are e/s, not exp(v - y) to the bit (exp(v - y) itself
// where y is not finite; docs/decisions.md).
//
// A counted loop's saved states (loop_save, usually as if n > 0 then
// loop_save(...) else build(0, ...)) follow the same plan: fields no
// reader reads are not stored, and not computed where the step does not
// read them either; an inner loop's saved states that become a field of
// an outer loop's states are planned by how the outer tape's readers
// read them. Once a state is stored, the next step reads it from its
// place in the result, and the rest of the iteration's memory is
// released.
//
// # Parallel loops
//
// A map with scalar elements or a sum of a recipe that is outside every
// other loop runs through runtime.ParallelFor or runtime.ParallelSum when
// it is long enough (parallel.go): the chunks depend on the length alone,
// so the bits are the same on any number of cores. Each chunk allocates
// from an arena of its own, and a failure ends its chunk; the first
// failing chunk's error is returned, which is the first failing
// element's. The body is a closure made once per record of the loop's
// pool (runtime.LoopSite), which reads the locals it needs from the
// record: a warm call allocates nothing, whatever the size.
//
// # Blocks of columns
//
// Vectorized code over observations (BA's residuals and their reverse
// sweeps) keeps observation i in column i of every array. A def body's
// tail that is proven so (columns.go: every array's last axis the
// columns, each primitive working along a leading axis or elementwise,
// calls of defs proven the same) and whose calls hold enough work is
// moved into a def of its own, NAME$cols, which is called through a
// wrapper running it on blocks of 256 columns: the blocks' arguments are
// copied into buffers, their results into place, and the tape of the
// sweeps stays in cache. A failing block makes the wrapper call the def on
// all the columns, so errors are the general code's.
//
// Where every index, count and condition in such a tail is a constant
// once its counted loops are unrolled and its calls inlined (BA's
// Jacobian), the wrapper is instead one loop over the columns whose body
// is straight-line scalar code (scalarcols.go): a [c1]…[ck][p]f64 value is
// c1·…·ck float64 locals per column, each elementwise operation one
// statement, the inputs and results read and written once per element.
// The tail then cannot fail; an argument of another shape than its type's
// or a largest array too large sends the call to the general code.
//
// # Memory: arenas
//
// Every array a call allocates comes from an arena (runtime.Arena):
// zeroed slices cut from chunks that are kept from call
// to call, or, for a slice whose every element is stored before any is
// read (a forced recipe, a copy, a transpose, the rows of a build),
// slices left as they are (F64w), which saves a pass over memory. A call
// that outgrows a chunk moves on to a new one, and every chunk is kept:
// the next call walks the same chunks, so only a first call takes fresh
// pages from the system (the costly part of a large first call), and a
// mark released goes back across chunks. Exported functions take an
// arena from a free list and return it; a loop iteration marks the
// arena and releases what it allocated when nothing it carries to the
// next iteration can live there (the scalars of a sum, the rows a build
// copies out, accumulators updated in place), so memory stays proportional to the live data, not to the
// number of iterations. A loop whose state is rebuilt every iteration
// (reverse mode's cotangents, a state of fresh arrays) copies its next
// state into buffers made before the loop and then releases the
// iteration; loop_save, once it has stored a state, reads the stored
// rows as the next state and copies into buffers only what it carries
// unstored, then releases the iteration. In steady state an exported
// call allocates nothing but its results, and an ...Into call nothing
// at all. A function that cuts more than a few thousand elements moves
// its float64 array results down to where its arena stood when it was
// called and releases the rest (Arena.Keep), so that its caller's arena
// holds what it returns, not everything it computed; the def an exported
// function calls does not (Arena.Outer), since its results are copied
// out and the arena reset anyway. The run harness
// calls every def it is asked to with one arena, request after request.
// Values that outlive a call (value defs, computed once) use plain make,
// as do the run harness's decoded arguments.
//
// Reverse mode's saved loop states, loop_save(n, ...) (under if n > 0
// ... else an empty build), store only the leaves their reader looks at:
// a leaf read at no element is not stored, one whose shape alone is read
// keeps its shape, and one read only at the last element (the loop's
// final state, which the forward result is) stays in the loop's
// variables (fields.go).
//
// The accumulators of reverse mode (acc_add, acc_add_at) update their
// first argument in place: package ad creates each one fresh and threads
// it linearly; acc_add(zeros_like(y), v) with v an array (a row read
// from a carried state, say) is one pass storing 0 + v[k] into an
// uncleared buffer. update writes in place into a loop state that owns its
// array (loop s = init ... do update(s, i, v), where the only other uses
// of s are scalar reads inside i and v, evaluated before the write; the
// loop copies init once unless it is fresh); elsewhere update copies its
// array and sets one row.
//
// # Checks and errors
//
// Generated code fails exactly where the interpreter does, with the same
// text: size variables and constant dimensions are checked on entry to
// every function, with the interpreter's "size mismatch" messages; an
// index is checked unless ranges.go proves it in range (x[i + 1] in
// [... for i < n - 1] with n the length of x needs no check); elementwise
// shapes, slice bounds, i64 division and conversions, and sizes computed
// by the program (negative, overflowing or absurd sizes, before any
// make) are checked with the interpreter's messages. An error is an
// *runtime.Error carrying "file:line:col: message"; as it leaves each def the
// caller adds the frame "in def (pos), called at pos", and the exported
// function (or the harness) adds the entry frame. A function that can
// fail returns an error last; whether it can is known after its body is
// emitted (any check emitted, or a failing callee), and defs are emitted
// callees first. Array parameters are resliced to their dimensions on
// entry, so Go's prover removes the bounds checks of loops that run over
// them. A loop whose body gives back its state's arrays unchanged
// (reverse mode's accumulator loops; found by compiling the body once
// into a scratch buffer) keeps its initial dimensions, so the indices of
// its acc_add_at calls are proved too.
//
// # The exported API
//
// An exported def becomes a documented Go function with idiomatic types
// (export.go): one Go parameter per leaf of each parameter (float64,
// int64, bool, []float64, [][]float64 or, with Options.Dense, gonum's
// *mat.Dense, [][][]float64; a tuple parameter becomes several
// parameters), one result per leaf of the result, and an
// error last when the def can fail or takes matrices (which might be
// ragged). Array results are fresh slices (rows of one allocation for
// matrices). A def with array results also gets an ...Into variant
// writing them into caller buffers of the right shapes. The doc comment is
// the def's leading comment (with the Go name) and its Nabla signature.
// Value defs (def rosen_grad = grad(rosen)) whose value is a function
// become functions of the lambda's parameters; other value defs become
// getters computed once.
// An exported function converts its arguments, calls the def's internal
// function and converts the results; where there is nothing to convert
// (scalar and vector parameters, scalar results, no arena) it holds the
// def's body itself, compiled a second time with the exported
// function's frame added to every error that leaves it, and saves a call
// (direct.go).
// A matrix argument that the def reads only by elements and whole rows
// is not copied: the exported function checks that its rows have one
// length (runtime.Rows2, Flatten2's check and error) and calls a second
// compilation of the def, NAME_rows, whose code reads x[i][k] from the
// caller's rows where the first reads x[i*cols+k] (inplace.go). An
// ...Into function calls a third, NAME_into, whose float64 results cut
// once at the body's top level (a vector, or a matrix built from views
// of its constant rows) are cut from the destinations when they have the
// shape and no destination shares memory with another or with an
// argument read in place (runtime.Dsts): the copy after the call then
// has nothing to do; otherwise both work as before.
//
// linsolve(matvec, b) is solved by runtime.GMRES (the interpreter's
// solver) with the matvec as a Go func literal whose body is the inlined
// function and which returns errors instead of returning from the
// enclosing function.
//
// # What a generated file carries
//
// Anything with Nabla's semantics (scalar functions such as
// runtime.Sigmoid, size and index checks with their messages,
// runtime.ShapeString, GMRES, the series kernels) is called from runtime,
// the code the interpreter runs, never copied. So is what belongs to
// generated code alone: the arena (runtime.Arena, runtime.Arenas), the
// error type with its frames (runtime.Error, NewError, WithPos,
// WithFrame), and the conversions of the exported API (runtime.Out1..3,
// Into1..3, Flatten2/3; runtime/dense for *mat.Dense). A generated
// package is its program's code alone, without a type or helper of its
// own (TestNoPrelude). Only a run harness carries package state of its
// own (helpers.go: the step counter, the progress writer, besides its
// JSON decoding). Imports are computed from the finished source, so they
// are exactly the packages the file uses.
//
// # Hygiene
//
// Generated files pass go vet and staticcheck (TestGeneratedHygiene runs
// both on every test program): checks that cannot fail are not emitted,
// unused locals are marked, values computed only for their failures go
// to _.
//
// # Running: Backend and the build cache
//
// For nabla run --backend go, Generate with Options.Main adds a func main
// that reads the def's arguments as JSON lines on stdin (nabla has already
// checked and normalized them against the parameter types), calls the
// def's internal function and prints the result as JSON with the
// interpreter's number format; errors go to stderr with exit status 1.
// Build writes the source into a directory of the build cache keyed by
// a hash of the source, the runtime sources and the Go version
// ($NABLA_GOCACHE, default os.UserCacheDir()/nabla/go), next to a go.mod
// that replaces github.com/nabla-lang/nabla with a copy of the runtime
// package's embedded sources (runtime.Sources) and requires the module
// versions this binary was built with, and runs go build there. A program
// is built once; later runs of any of its defs reuse the binary, from any
// directory and offline once the Go module cache holds gonum. With -serve
// the program answers requests instead (a def, its arguments, how often
// to run it) and times each call itself: nabla gradbench --backend go
// runs its modules so.
//
// # Run limits
//
// nabla run --backend go honours --timeout (the process is killed at the
// deadline, and the error, positioned at the def, matches
// context.DeadlineExceeded) and --max-memory (the harness's -max-memory:
// runtime.SetArrayLimit makes every size check refuse an array that would
// not fit, before it is allocated; the Go runtime's soft limit is set
// above the limit; a watcher stops the run when the live heap grows past
// it). --max-steps runs a second build generated with Options.Steps,
// whose loops charge steps to a counter and stop at the harness's
// -max-steps with the interpreter's positioned error (steps.go: the
// counts are not the interpreter's, the behaviour at the limit is). The
// ordinary build has no counter: the limit costs it nothing.
//
// A size check outside every loop is runtime.CheckSizeFast, which Go
// inlines and which accepts exactly what CheckSize accepts, leaving the
// errors to it; checks in loops call CheckSize (topchecks.go).
//
// # Progress
//
// The builtin progress reports in a run harness program: when the ctx of
// Runner.Call carries a callback (runtime.WithProgress, as nabla run's
// status line and --plot set it), the program writes its reports to a
// pipe and Call passes each to the callback, in order, from a goroutine
// of its own while the caller waits, all before Call returns
// (progress.go). An exported package computes progress's value alone.
package codegen
