// Package interp is Nabla's embedded interpreter: it runs a checked core
// IR program (package ir) on run-time values (package runtime).
//
// # Closure compilation
//
// New walks every def once and turns each expression into a Go closure,
// func(*frame) (runtime.Value, error), that computes it. Everything that
// can be decided without values is decided then, not per evaluation:
// each variable is resolved to a slot of its function's frame or an entry
// of its closure's captured values; each primitive call is specialized by
// Prim.Eval for its static argument and result types, so its Impl
// dispatches on nothing at run time; a call of a def by name evaluates its
// arguments straight into the callee's frame; a lambda without free
// variables is a single closure made at compile time; a reference to a
// function def is a function value made at compile time. The IR is never
// looked at again.
//
// # Typed scalar code
//
// Expressions of scalar type compile to closures returning an unboxed
// float64 or int64 (typed.go): arithmetic and scalar math inline, a[i][j]
// as one flat offset with a bounds check per index and no row view, let,
// if and loops with scalar states staying typed. A failure records the
// first error in the frame instead of returning it, and the nearest
// boundary with ordinary code hands it on, so the error, its position and
// the order of evaluation are the primitives'.
//
// build(n, fn(i) => e) and map(fn(x) => e, xs) with a literal lambda are
// compiled into the enclosing function: the lambda's parameters are slots
// of its frame, and a scalar body stores into the result directly, so an
// element costs no call, frame or closure. sum of such a comprehension
// adds the elements as they come, in Sum's order (runtime.SumAcc),
// without the array. A short sum or build whose term is an element
// a[i]...[j][c] of a row, or two such combined by +, - or *, with c its
// index and the rest bound outside it, reads the rows as slices when no
// term can fail (typed_dot.go), in the same order.
// Loops whose tuple state is used only through its
// fields keep the fields in slots (loops.go), and acc_add_at on a vector
// updates it in place with typed operands. The shapes of AD's reverse
// passes run without their temporaries (typed_loop.go,
// typed_loop_acc.go): a one-hot acc_add_at(g, i, acc_add_at(zeros_like(l),
// j, y)) as g[i][j] += y, acc_add of an elementwise chain piece by piece,
// and the result of a tuple loop bound by a let in slots, not a tuple. A
// tuple loop whose body is only scalar lets and such adds into its state's
// arrays (a vector's element, a one-hot chain into an array of any rank)
// runs them as a flat list on the fields' slots (typed_loop_arr.go).
// A tuple loop's body that is a chain of lets ending in the new state
// runs as one flat list of steps (typed_loop_flat.go): state fields and
// inner loops' results are named by their slots, accumulations are
// stored back into the field's slot, a row the same at every iteration
// is read once per run, and an inner loop's own zero-started accumulator
// is recycled when the iteration ends.
//
// # Small-vector blocks
//
// A run of lets on short f64 vectors (an LSTM's gates and their
// cotangents: elementwise chains, rows, adds into accumulators, their
// rows or parts of rows; the vectorized GMM's small matrix-vector
// products, outer products added into rows of a rank-3 accumulator and
// scalar adds) runs as one block (svblock.go): every leaf,
// index and size is read and checked once at entry, the lets' values
// live in buffers, the operations round as the fused kernels do, and the
// steps of all lets are charged at once. A variable read after the run
// gets the array its let would have made, or, when it is new, the array
// of an accumulator the run added into and nothing reads after it (a
// reverse loop's cotangent handed on). When a check fails the block
// runs the lets' own code, so errors and their positions are theirs.
//
// # Fusion
//
// A chain of elementwise f64 operations (a*x + y) runs as one pass over
// pieces of its operands, each operation applying its primitive's kernel
// to a piece in a small buffer, the last writing into the result; under
// sum no array is made at all (fuse.go). Values are the primitives' to
// the bit; operands of different shapes make the primitives themselves
// report the error.
//
// # Buffer reuse
//
// Arrays that the evaluation itself made and that die at a point known at
// compile time are given back to the call's machine there
// (runtime.Machine.Recycle) and reused by the next array of the same kind
// and size: a fresh array passed to a primitive that keeps no reference
// to it, a let-bound one that cannot reach the let's result, a loop state
// replaced by the next, the dropped fields of a fresh tuple (the
// cotangents of closed-over data in grad(f)(x)). Rows a[i] read for one
// such use take pooled headers (runtime.Machine.Row). What is fresh and
// what may keep a reference is decided from the IR (reuse.go), through
// defs and tuple fields, conservatively: functions and boxed elements
// keep whatever they mention. A loop of fixed-shape steps then allocates
// a few small objects per step and none of its arrays.
//
// The body of a build or map of tuples (a reverse pass's tape) takes its
// small vectors, tuples and boxed arrays from chunks of an arena instead
// of one allocation each (tape.go), and so does update's copy of a small
// f64 array there (a recurrence's saved state, tape_update.go); the
// values are the same. The arena's chunks stay within 32 KB, Go's small
// size classes. Temporaries in such a body that cannot reach the tape
// (an operand that dies at its use, the body of a comprehension of
// scalars, a let's array recycled after its body) take recycled arrays
// instead (scratch.go). When a def's call returns and neither its result
// nor its arguments reach an arena its own body made (nor the machine's
// recycled arrays), the arena's chunks are kept for the next call of the
// same site, cleared as they are taken again and charged as new ones
// (tape_keep.go): a gradient called again and again carves its tape
// from warm memory instead of allocating it.
//
// runtime.Value is passed by value: f64 in F, i64 and bool in I, arrays,
// tuples and functions in R. Scalars never touch the heap.
//
// # Frames
//
// Each activation of a def or lambda has a frame: a slice of Value slots
// whose size is known at compile time. Parameters take the first slots
// (so a caller can fill them directly), then a def's size variables, then
// let-bound and loop variables and the scratch slots that hold a
// primitive's or a function value's arguments while it runs, assigned
// with a stack discipline (a scope's slots are reused after it ends).
//
// Calls nest strictly and nothing refers to a frame once its activation
// has ended, so frames are recycled: the frames of calls made by the
// interpreter's own code come from a per-call-chain stack of frames, and
// a primitive applying a closure per element takes a pooled stack. A call
// in a loop allocates nothing. (Frames that cannot be recycled, such as
// a value def's, are one allocation with their slots.)
//
// # Entry calls
//
// An entry call (Interp.Call, Entry.CallInto) takes its machine and its
// frame stack from a pool and gives them back reset (machines.go), so a
// warm call of a def allocates nothing of its own. CallInto may be
// offered the caller's storage for the result (runtime.Machine.Offer): it
// then waits among the recycled arrays, and a fused elementwise result of
// its kind and size is built in it. Storage is offered only when no
// argument can share it, and a value def computed during the call sets it
// aside, since the def's value outlives the call.
//
// A lambda's free variables are copied into its closure when the closure
// is made. Values are immutable, so a copy is as good as a reference,
// frames never outlive their activation, and nothing needs a display or a
// chain of environments: the body reads captured values from one slice.
//
// Value defs (def A = ..., def df = grad(f)) are evaluated lazily, at
// most once per Interp, by the first user and under its limits; the value
// (or the program error) is cached and shared by all users, concurrently.
// Errors that belong to the call, not the program (limits, cancellation)
// are not cached.
//
// # Batching
//
// Arrays are processed array-at-a-time: elementwise primitives take
// whole arrays, and closures and function defs implement
// runtime.BatchFunc, so that map and build can apply a function to all
// elements in one evaluation of its body with each parameter bound to the
// whole stacked array. That is valid when the body uses only elementwise
// primitives, constants, its parameters, let-bound temporaries, scalar
// free variables and value defs (which broadcast), and calls of defs that
// qualify themselves. New decides this once per function and compiles a
// second, batched body with every primitive specialized for the stacked
// types; CallBatch reports ok = false for other functions, and map falls
// back to calling them per element. See batch.go.
//
// # Errors
//
// Run-time errors are *ir.Error values positioned at the innermost
// expression that failed: a primitive's error (which carries no position)
// gets the primitive call's, a size check the dimension's, a step limit
// the loop's or call's. An error is positioned once and then passes
// through the expressions around it unchanged; as it leaves each def it
// gains an ir.Frame (the def, where it is declared, where it was called
// from), so Frames list the active defs innermost first, the entry call
// last with no call position. Exhausted limits and cancellation come as
// *CauseError, which unwraps both to the *ir.Error and to
// runtime.ErrStepLimit, runtime.ErrMemoryLimit or the context's error.
//
// Loops charge one step per iteration and calls one step per call
// (runtime.Machine.Step, which also polls the context), so `loop while
// true` ends at the step limit or on cancellation, never hangs. Counted
// loops and comprehensions compiled as typed code charge a block of
// iterations at a time (stepBlock), at the block's start. A primitive
// over a large array looks at the context between pieces of its work
// (runtime.Pieces), so a deadline stops a single huge sum too. Arrays are
// charged to the call's live-memory meter before they are allocated
// (runtime's memory.go): the memory limit bounds what a call holds, not
// what it has allocated. A Go
// panic anywhere in an evaluation (a bug, in the interpreter or a
// primitive) is recovered and reported as an "internal error" at the
// nearest known position; a user never sees a Go stack trace.
//
// AD operators (grad, jvp, ...) are expanded into ordinary IR by the AD
// pass before a program runs. If one reaches the interpreter anyway, New
// still succeeds and evaluating it is a positioned error saying that
// automatic differentiation is not available.
//
// The interpreter has no access to files, the network or the
// environment: programs see only the values they are given.
package interp
