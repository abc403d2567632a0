// Package linalg is std/linalg, the linear solvers of Nabla's standard
// library, for Go programs: written in Nabla (stdlib/std/linalg.nab),
// compiled to Go by the code generator (linalg_nabla.go, generated from
// linalg.nab by go generate and checked in).
//
// Matrices are [][]float64 given by rows; a ragged one is an error. Cg and
// Pcg take the matrix as a Go callback matvec(v) = A·v (and the
// preconditioner as precond(r) = M⁻¹·r), so A may be sparse or implicit:
//
//	x, err := linalg.Cg(matvec, b, x0, 1e-10, 1000)
//
// Every function has an ...Into form that writes its result into a
// caller's buffer.
package linalg

//go:generate go run github.com/nabla-lang/nabla/stdlib/go/internal/stdgen/cmd/stdgen -pkg linalg -o linalg_nabla.go linalg.nab
