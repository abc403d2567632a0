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
package lang
