// Package rewrite is Nabla's optimizer: rewrite rules applied under
// Elevate-style strategies (SPEC §7), after AD operators are expanded and
// before a program runs.
//
// # Who owns what
//
// rewrite depends on package ir alone (and runtime, for constfold). The
// rules and strategies it applies are ir values (ir/rewriting.go) that
// the front end makes: lang.Load checks a program's rule and strategy
// declarations into ir.Program.Rules and Strats, each rule with its
// left-hand side elaborated into an ir.Pat and its where clause into an
// ir.RuleCond. A rule's right-hand side stays with the front end, as
// behaviour (ir.RuleRHS): rewrite calls Instantiate at each match, and the
// front end elaborates the right-hand side for the matched subterms'
// types. Strategy expressions (ir.Strat) arrive unresolved; rewrite
// resolves their names when it compiles them, against the rules and
// strategies of the file they were written in, then the built-in ones.
//
// The built-in rules and the strategy default are source too:
// builtin.rules, embedded as BuiltinRulesSource. rewrite does not parse
// it: the front end checks it and New assembles the passes from the
// result. internal/pipeline.Rewriter builds that standard Rewriter once.
// Testing rules by evaluation, which needs the front end and the
// interpreter, is package rewrite/rulecheck.
//
// # Where it runs
//
// Rewriter.Apply rewrites every def of a program (the output of
// ad.Expand) with its strategy: the one its @strategy attribute names, or
// default. A strategy that fails on a def's body, or runs out of fuel, is
// a compile error positioned at the attribute and naming the strategy.
// Every rewritten def is checked with ir.ValidateDef; invalid IR would be
// a bug here and is reported as an internal error rather than run.
// ApplyDef does one def, with any strategy (`nabla opt`, which parses its
// --strategy with lang.ParseStrategy).
//
// One pass runs before AD instead: Vectorize (vectorize.go) rewrites the
// element-wise comprehensions of each def without an @strategy into the
// array operations they compute (x[i][c] - mu[c] for c < d becomes x[i]
// - mu, a comprehension of row sums of products a matrix-vector
// product), where sizes are statically equal and nothing moved can fail,
// so that reverse mode differentiates array operations. Its rules need
// size and range facts (sizewalk.go), so they are Go, not builtin.rules.
//
// # Rules
//
// A rule's left-hand side is elaborated by package lang (lang/rules.go)
// into a pattern (ir.Pat) mirroring the core IR the checker produces for
// the same text: operators become primitives, a[i, j] two index calls, a
// comprehension a build, a builtin used as a value the lambda the checker
// makes of it. A rule variable matches any subterm that does not mention
// a variable bound inside the match (so that the right-hand side can put
// it anywhere); a variable used twice matches equal subterms, equality
// being structural up to the renaming of bound variables (alphaEqual). An
// integer literal matches i64 and f64 constants of its value, a float
// literal only f64. The right-hand side is elaborated afresh for each
// match by the ordinary checker, each variable typed as its subterm, so
// literals are typed by context and a right-hand side that does not
// type-check for a match (sum(a * b) => dot(a, b) on matrices) does not
// apply there; the result must have the matched term's type. Binders are
// never shared: a subterm used once is moved, a function value is copied
// per use and the calls that creates are beta-reduced at once, another
// subterm used twice is bound by a let. Where clauses test the matched
// subterms with is_const, is_var, is_zero and is_one.
//
// The built-in rules live in builtin.rules, in the same language; its
// strategies simplify, fuse and lower list the rules of the passes of
// those names, and its strategy default is the standard pipeline.
//
// # Strategies
//
// A Strategy applied to a term succeeds with a new term or fails. The
// combinators follow Stratego and Elevate: s1; s2 and s1 <+ s2, try,
// repeat (until failure; always succeeds), all, one and some (on the
// immediate children; all succeeds on a leaf), topdown(s) = s;
// all(topdown(s)) and bottomup(s) = all(bottomup(s)); s (both fail where
// s fails, so topdown(try(r)) is the usual form), outermost (repeatedly
// the outermost, leftmost redex) and innermost and normalize, which
// rewrite until s applies nowhere. normalize is innermost computed
// bottom-up with memoization: subterms already in normal form are
// recognized by identity and not visited again. That is sound because a
// rule or root-level pass depends only on the term it is given (and on
// whether its value flows into an in-place accumulator, which can only
// forbid a rewrite).
// Traversals reach every child: lambda bodies, loop bodies, conditions
// and counts, both branches of an if.
//
// Fuel: a repeat, normalize, innermost or outermost that makes more than
// Options.Fuel rewrites (DefaultFuel, or ten per node of the term when
// that is more) stops with an error naming the strategy and the rule that
// fired most among the last rewrites. A def's rewriting also stops after
// a million rewrites in all, or when a traversal nests deeper than twice
// the body's height plus a thousand (a rule that grows the term under
// topdown).
//
// A trace (Options.Trace) lists every successful rule or pass
// application: its name (a user rule's name, pass.rule for a built-in
// rule, the pass's name for beta, inline, constfold, cse, dce and
// deadfield), where it applied, and the term before and after, in short
// form.
//
// # Passes
//
// beta, inline, constfold, simplify, fuse and lower rewrite at the root
// of the term they are given and fail elsewhere, like rules; cse, dce,
// deadfield, shapezeros and licm work on a whole term and fail when they
// change nothing. remat,
// save_all and remat_all are the checkpointing passes (remat.go): the
// one a def's strategy names decides, before anything else, whether each
// comprehension reverse mode emitted in two forms saves its forward
// values or recomputes them, and then succeeds unchanged where it stands.
// default, as builtin.rules declares it, is
//
//	remat; try(cse);
//	normalize(beta <+ inline <+ simplify <+ constfold); try(shapezeros); try(cse); try(deadfield);
//	normalize(fuse <+ beta <+ simplify <+ constfold);
//	normalize(lower <+ simplify <+ constfold);
//	try(licm; normalize(simplify <+ constfold));
//	try(cse); try(deadfield); try(dce)
//
// cse runs first, while reverse mode's output is still a chain of lets
// (simplify then moves single-use values into their use, making trees
// that rules can match, such as sum(x * y) for lower).
//
//   - beta applies a lambda applied directly: arguments become lets (an
//     atom or a lambda is substituted).
//   - inline replaces a call of a def with at most 40 nodes (any size
//     with @inline, never with @noinline) by its body. A def that checks
//     its parameters' sizes on entry is not inlined: the check would be
//     lost.
//   - constfold evaluates elementwise primitives on constants with the
//     primitives' own evaluators, and sizes known from types. An error
//     (i64 division by zero) is left for run time, where it is reported
//     with its position.
//   - simplify: let normalization (copy propagation, unused lets, a value
//     used once moved to its use, lets of lets flattened, projections of
//     tuples and of let-bound tuples of atoms), if on a constant or with
//     equal branches, and algebra: multiplication by 1, addition of 0 and
//     of zeros_like or zeros arrays, double negation, zero tangents
//     (zeros_like of a scalar, acc_add of a zero, a copy into a fresh
//     zero, zeros_like(x * y) = zeros_like(x)), the constant array the
//     derivative of sum makes (acc_add(zeros_like(e), s) used as an
//     operand becomes the scalar s) and the identities of builtin.rules.
//   - fuse: map of map, map of zip, map of build, reduce of map (into a
//     fold, which combines in the same left-to-right order), build of an
//     index (build(len(x), fn(i) => x[i]) is x), a constant index into a
//     build, the loop reverse mode makes for the cotangent of a map
//     (into a build), and a build that only indexes arrays of its length
//     (into a map, which the interpreter applies to whole arrays).
//   - lower: calls of the primitives with runtime kernels: sum(a * b) is
//     dot(a, b), sqrt(dot(a, a)) is norm(a), log(sum(exp(a))) is
//     logsumexp(a), x^2 is x * x, log(1 + x) is log1p(x), and so on.
//   - cse replaces a let's value, or a call, projection or tuple, equal to
//     the value of an enclosing let by that let's variable.
//   - dce drops lets whose variable is unused and whose value cannot
//     fail.
//   - deadfield drops the fields of tuples that nothing projects, above
//     all the tapes of reverse mode's forward sweeps
//     (build(n, fn(i) => (a, b, c)) read only as t[i].k): a let's value
//     loses a field when every use of the variable projects (directly,
//     after indexing, through lets, and into nested tapes) and none
//     projects that field, and the field's expression cannot fail; the
//     projections are renumbered, and a tuple left with one field becomes
//     that field's value (a tape of (e,) a tape of e). A use as a whole
//     value (a call's argument, a result, a loop state, a branch of an
//     if, zip) keeps every field. It runs after the first cse, so that
//     simplify and lower then see the work left (sum(y * y) of a dropped
//     y * y becomes a dot), and again before dce.
//   - shapezeros: zeros_like(P) of an f64 vector, P a read of a tape
//     (a variable under projections and indexes, each index a counter
//     provably below the indexed array's length), becomes zeros(L) when
//     the vector's length is a size the def's types name (L a variable
//     holding it, dim[a](p) of a parameter, or a constant): the reverse
//     pass then reads nothing of the field, and deadfield, which runs
//     next, drops it from the tape. The zeros_like that start a loop's
//     state or that acc_add_at writes into are left (fuse and the
//     backends' one-hot paths match them), and it runs after the first
//     simplify, whose rules drop or move a zeros_like that cannot fail
//     (zeros(L), which fails on a negative L, is not known to be total).
//   - licm: a let of a for loop's body whose value mentions neither the
//     loop's index, nor its state, nor a let of the body that does, is
//     bound once before the loop (and so on out, loop by loop from the
//     inside), when it cannot fail and reads no array that something
//     updates in place: variables, projections, sizes, total scalar
//     primitives, and indexes proved in range (a loop counter or build
//     index below the length of the array it indexes, lengths from the
//     types and from the builds that made the arrays). Reverse mode's
//     loops over a row's elements read rows that depend only on an
//     enclosing loop's index (y[j], y[j][r]). A let of the body that
//     nothing uses and that cannot fail is dropped. Values and errors are
//     unchanged, and a loop of no iterations stays without effect.
//
// # What the optimizer preserves
//
// Results, up to rounding where lower calls a kernel (dot sums in
// another order than sum; logsumexp and log1p are more accurate than the
// expressions they replace), and IEEE special values, with one choice
// made deliberately:
//
//   - x * 0.0 is not simplified to 0.0: it is NaN when x is NaN or
//     infinite. (JAX and XLA make the same choice; only i64 products by 0
//     are folded.) Zero tangents are handled where they are certain to be
//     zero: zeros_like values, not products.
//   - x + 0.0 and x - 0.0 are simplified to x (as XLA does), which differs
//     only when x is -0.0: the result is -0.0 instead of +0.0, and the two
//     compare equal. 0.0 - x => -x and -(x - y) => y - x differ likewise
//     only in the sign of a zero.
//
// Failures: a program that fails still fails and one that succeeds still
// succeeds. Passes drop or duplicate only expressions that cannot
// fail (total: no calls, loops, indexing, i64 division, or shapes that
// might differ at run time); built-in rules that drop a variable apply
// only where its subterm cannot fail; constfold never folds an error.
// Where several parts of a program would fail, a reordered or fused one
// may report another of them first, and inlining removes a def's frame
// from run-time backtraces.
//
// In-place accumulators: reverse mode updates arrays in place
// (acc_add, acc_add_at on a fresh zeros_like), which is safe only while
// each such array has one owner. The optimizer never shares or
// duplicates those calls (cse skips them and what they update; a rule
// whose instance would change their number does not apply), and it does
// not rewrite a term whose value flows into an accumulator (through lets,
// branches, tuples, projections, loop states, calls, or primitives that
// may return a view or an argument), except by rewrites that keep exactly
// the same arrays (moving a let, projecting a tuple); so x * 1.0 never
// becomes x where the result would then be updated in place.
//
// # Testing rules
//
// Package rewrite/rulecheck tests rules by evaluating both sides on
// random inputs (`nabla check --rules`), trying types for the variables.
// The built-in rules are tested the same way, with rapid varying the
// inputs.
package rewrite
