package codegen_test

import (
	"testing"

	"github.com/nabla-lang/nabla/codegen"
)

const odeSrc = `
// f allocates an array per evaluation, from the call's arena.
export def osc(T: f64): [2]f64 = ode_dopri5(fn(t, y) => [y[1], -y[0]], [1.0, 0.0], 0.0, T, 1e-8, 1e-10)
export def osc_grad(T: f64): [2]f64 = grad(fn(p) => sum(ode_dopri5(fn(t, y) => [p[0] * y[1], -p[1] * y[0]], [1.0, 0.0], 0.0, T, 1e-8, 1e-10)))([1.0, 1.0])
`

const odeTest = `package gen

import (
	"math"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// arenaCap is the f64 capacity of the arena the next call will use: the
// capacities of all its chunks.
func arenaCap() int {
	a := runtime.Arenas.Get()
	defer runtime.Arenas.Put(a)
	n, _, _ := a.Held()
	return n
}

func TestArena(t *testing.T) {
	caps := map[float64][2]int{}
	for _, T := range []float64{10, 1000} {
		y, err := Osc(T)
		if err != nil || math.Abs(y[0]-math.Cos(T)) > 1e-8*T {
			t.Fatalf("Osc(%g) = %v, %v", T, y, err)
		}
		c := arenaCap()
		g, err := OscGrad(T)
		if err != nil || len(g) != 2 {
			t.Fatalf("OscGrad(%g) = %v, %v", T, g, err)
		}
		caps[T] = [2]int{c, arenaCap()}
	}
	// A hundred times the steps, the same arena: each evaluation of f
	// releases the previous one's arrays.
	if caps[10] != caps[1000] {
		t.Errorf("arena capacities (solve, gradient): %v for T = 10, %v for T = 1000", caps[10], caps[1000])
	}
}
`

// TestODEArena: generated code solving an ODE, and its gradient, keep
// arenas whose size does not depend on the number of steps.
func TestODEArena(t *testing.T) {
	testPackage(t, odeSrc, codegen.Options{Package: "gen"}, odeTest)
}
