// Package ir is Nabla's core intermediate representation: a small, typed,
// functional language shared by every pass after the front end.
//
// An ir.Program is a list of defs whose bodies are Expr trees built from a
// handful of node kinds: Var, Const, Let, Lambda, Global, Call, PrimCall,
// MakeTuple, Proj, If and Loop. Everything else (arithmetic, math, array
// operations, AD operators) is a primitive: a *Prim declared once in this
// package (prim_*.go). Its declaration says everything the compiler knows
// about it: who may name it (Class: Builtin, Core, Internal, SeriesClass),
// its type rule and checker hints, its evaluator (which specializes it for
// static types and binds it to kernels of package runtime), when it can
// fail and where its result lives (Fails, Storage: what rewriting and
// buffer reuse rely on), its linearity (Linear, Bilinear: from which
// Register derives the JVP and package ad the Taylor rule), its
// derivative rules (Partials, or JVP and VJP) and its Taylor-mode series
// primitive (Series). Tests check each field of every declaration, so a
// new primitive cannot silently miss one.
//
// Generic IR infrastructure lives here too, so that passes share it:
// children, rebuilding and walking (walk.go), alpha-equivalence and
// hashing (equal.go), substitution, beta reduction and inlining with sizes
// (subst.go), size erasure for code moved between defs (erase.go), and the
// effect and alias analyses (effects.go, mutable.go, facts.go, uses.go).
//
// Surface sugar is gone by the time code reaches ir: elementwise lifting is
// the primitives' rank polymorphism (add works on scalars and on arrays of
// the same shape), comprehensions are build, tuple patterns are lets of
// projections and @ is matmul.
//
// Variables are compared by pointer: the *Var in a binder is the same *Var
// at each use. Print renders a program in a stable, readable text form;
// Validate checks well-formedness and is run after every pass in tests.
//
// Rewriting's vocabulary is here as well (rewriting.go), so that the
// optimizer needs no front end: checked rules (RewriteRule, with their
// patterns Pat and where clauses RuleCond), strategy expressions (Strat)
// and declared strategies (RewriteStrategy), as Program.Rules, Strats and
// the @strategy Attr carry them, and the table of built-in strategy names
// (StrategyArity). Package lang makes these values and supplies each
// rule's right-hand side as behaviour (RuleRHS); package rewrite applies
// them.
package ir
