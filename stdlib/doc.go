// Package stdlib embeds Nabla's standard library, written in Nabla.
//
// A program imports a module by path, `import "std/linalg"`, and uses its
// defs qualified by the last path element: `linalg.cg(matvec, b, x0, 1e-10, 100)`.
// The modules are parsed from FS by the front end (package lang).
package stdlib
