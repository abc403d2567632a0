// Package lang is Nabla's front end: it turns .nab source into a checked
// ir.Program.
//
// ParseFile builds the syntax tree (ast.go) with a recursive-descent parser over
// participle's lexer, keeping a
// position on every node; Load resolves imports (std/... from the embedded
// standard library, other paths relative to the importing file), type
// checks every file and elaborates the surface language into core IR:
// integer literals take the type the context expects, arithmetic lifts
// over arrays, comprehensions become build, @ becomes matmul, and tuple
// patterns become projections. All errors it can find are reported, each
// as "file:line:col: message".
//
// Rewrite rules and strategies (SPEC §7) are checked here too, into the
// types of package ir that the optimizer (package rewrite) applies:
// Program.Rules holds each rule with its left-hand side elaborated into
// an ir.Pat and its where clause into an ir.RuleCond, and its right-hand
// side as an ir.RuleRHS implemented here (rules.go), which the optimizer
// calls at each match to elaborate it for the matched subterms' types.
// Strategy expressions are parsed into ir.Strat (ParseStrategy for one on
// its own) and checked against the file's rules and strategies and the
// built-in names of ir.StrategyArity; the optimizer resolves them. The
// built-in rules (rewrite.BuiltinRulesSource) are checked by Load like any
// file. lang does not import rewrite.
package lang
