// Package ad implements automatic differentiation as transformations of
// the core IR (SPEC §6). The derivative of a program is again an ordinary
// IR program, which the rewriter can optimize, the interpreter can run and
// the code generator can compile.
//
// Expand is the entry point. It first makes function values static with
// package specialize (a copy of each def with function parameters per
// distinct function argument, defs returning functions inlined, let-bound
// functions substituted), so that every AD operator sees a known function
// (a def or a lambda). It then expands AD operators innermost first, so nesting (grad of grad, jacfwd of
// grad) differentiates ordinary code and perturbation confusion cannot
// arise: each transformation introduces its own fresh variables.
//
// Forward mode (jvp.go) pairs every active value with a tangent; inactive
// values (those that do not depend on the differentiated input) get none,
// so no arithmetic on known-zero tangents is emitted.
//
// Reverse mode (vjp.go) runs the forward computation in A-normal form,
// then walks it backwards accumulating cotangents. Array cotangents are
// accumulators updated in place (acc_add, acc_add_at), so reading x[i] in
// a loop costs O(1) in the reverse pass, which keeps the cheap-gradient
// property. Loops save their states (loop_save, while_save) and are
// reversed iteration by iteration; map and build bodies, if branches and
// calls are recomputed in the reverse pass from their saved inputs. A
// nested body's tape leaves out views (rows, slices) and arithmetic on
// them (x[i] - mu[k], Q[k] @ (x[i] - mu[k])), which the reverse pass
// computes again (vjp_save.go, vjp_again.go; listed in the rewrite
// trace as remat.view_op, saved under save_all). Code
// that both sweeps run and that decides on numbers (an if's branch, a
// while body, a fold's or scan's operator, a call that compares) is one
// out-of-line def that both call (vjp_lift.go, splitDef), so that a tie
// that rounding decides goes the same way in both. A derivative of higher
// order reverses a VJP def through its twin with flat tapes, which calls
// plainly, both whole (vjpDefFor) and split (splitDef): the halves of a
// split are never split again, so grad nested n deep makes O(n²) defs,
// not 2^n. The defs made on the way that nothing reaches in the end (a
// VJP def whose callers all went through its twin) are dropped before
// the program leaves the package (dropUnreached).
//
// Taylor mode (taylor.go) carries, for every active value of type T, its
// truncated power series as a [k+1]T array of coefficients, and replaces
// each smooth elementwise primitive by a series primitive (ir/prim_series.go)
// that applies the standard O(k²) recurrences natively, in one pass;
// control flow branches on coefficient 0.
//
// Implicit differentiation (implicit.go) solves the linear systems of the
// implicit function theorem with linsolve (matrix-free GMRES) on JVPs and
// VJPs of the equation F. linsolve itself is differentiated in every mode,
// also when its matrix depends on the input, so implicit functions nest:
// Hessians of implicit functions, equations calling implicit functions.
//
// Jacobians (jacobian.go) of any rank and of tuples are one JVP per input
// element or one VJP per output element, laid out as ir.JacobianType
// says (JAX's layout).
//
// Custom rules (SPEC §6): a @jvp rule is the forward mode of its def, a
// @vjp rule its reverse mode, each in its own mode when a def has both. A
// def with @jvp alone gets reverse mode by transposing the rule, which
// must be linear in the tangent (linear.go: a static analysis of the
// rule's code, and a run-time probe where it cannot decide). A def with
// @vjp alone has no forward or Taylor mode: reaching it in those modes is
// a compile error. A rule may call its own def, meaning the def's plain
// value; differentiating a rule's result differentiates the rule's code.
// Under forward over reverse the VJP of such a def also computes the
// def's value, whose tangent does not exist: forward mode gives that call
// a missing tangent, an error only where the tangent it returns needs it
// (jvp.go, needMissing), and differentiates a callee whose derivative
// would return one in place.
//
// Taylor mode through rules (taylor_rules.go) builds the series of a
// @jvp def by integrating its rule along the curve, and that of an
// @implicit def or a linsolve by one linear solve per coefficient, one
// coefficient at a time. Taylor mode's own output is differentiated again
// (Taylor of Taylor, grad of taylor) through the series primitives'
// recurrences written in ordinary IR (lower_series.go).
//
// Function values are static after specialization; an operator in a def
// with function parameters whose function uses one of them is expanded in
// the def's specialized copies.
//
// Derivative rules of individual primitives live with their declarations
// in package ir (Partials, JVP, VJP); this package only combines them.
package ad
