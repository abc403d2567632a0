// Package ode is std/ode, the initial value problem integrators of
// Nabla's standard library, for Go programs: written in Nabla
// (stdlib/std/ode.nab), compiled to Go by the code generator
// (ode_nabla.go, generated from ode.nab by go generate and checked in).
// The right-hand side f(t, y) of y' = f(t, y) is a Go callback:
//
//	y1, err := ode.Dopri5(f, y0, 0, 10, 1e-8, 1e-10)
package ode

//go:generate go run github.com/nabla-lang/nabla/stdlib/go/internal/stdgen/cmd/stdgen -pkg ode -o ode_nabla.go ode.nab
