package tests

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/num/hyperdual"
)

// hyperHessian is the exact Hessian of f at x by hyper-dual numbers:
// f(x + ε₁eᵢ + ε₂eⱼ) has ε₁ε₂ part ∂²f/∂xᵢ∂xⱼ, with no truncation error.
func hyperHessian(f func([]hyperdual.Number) hyperdual.Number, x []float64) []float64 {
	n := len(x)
	h := make([]float64, n*n)
	xs := make([]hyperdual.Number, n)
	for i := range n {
		for j := range n {
			for k := range xs {
				xs[k] = hyperdual.Number{Real: x[k]}
			}
			xs[i].E1mag = 1
			xs[j].E2mag += 1
			h[i*n+j] = f(xs).E1E2mag
		}
	}
	return h
}

func hd(c float64) hyperdual.Number { return hyperdual.Number{Real: c} }

func hyperRosen(x []hyperdual.Number) hyperdual.Number {
	s := hd(0)
	for i := 0; i+1 < len(x); i++ {
		a := hyperdual.Sub(x[i+1], hyperdual.Mul(x[i], x[i]))
		b := hyperdual.Sub(hd(1), x[i])
		s = hyperdual.Add(s, hyperdual.Add(hyperdual.Scale(100, hyperdual.Mul(a, a)), hyperdual.Mul(b, b)))
	}
	return s
}

// hyperEnergy is energy of testdata/nested.nab.
func hyperEnergy(x []hyperdual.Number) hyperdual.Number {
	s := hd(0)
	for i := 0; i+1 < len(x); i++ {
		s = hyperdual.Add(s, hyperdual.Mul(hyperdual.Exp(x[i]), x[i+1]))
	}
	q := hd(1)
	p := hd(1)
	for _, v := range x {
		q = hyperdual.Add(q, hyperdual.Mul(v, v))
		p = hyperdual.Mul(p, hyperdual.Add(hyperdual.Sin(v), hd(2)))
	}
	l := hyperdual.Log(hyperdual.Add(hd(2), hyperdual.Mul(x[0], x[0])))
	return hyperdual.Add(hyperdual.Add(s, hyperdual.Mul(hyperdual.Sqrt(q), l)), p)
}

// TestHessiansExact compares Hessians and Hessian-vector products, by
// forward over reverse and by reverse over reverse, with the exact
// values of hyper-dual arithmetic.
func TestHessiansExact(t *testing.T) {
	prog := compile(t, "nested.nab", readTestdata(t, "nested.nab"))
	rng := rand.New(rand.NewPCG(7, 7))
	for _, c := range []struct {
		name      string
		f         func([]hyperdual.Number) hyperdual.Number
		hessDefs  []string
		hvpDefs   []string
		lo, hi    float64
		n, points int
	}{
		{"rosen", hyperRosen, []string{"rosen_hessian", "rosen_jacrev_grad"}, []string{"rosen_hvp", "rosen_hvp_rev"}, -1.5, 1.5, 6, 4},
		{"energy", hyperEnergy, []string{"energy_hessian", "energy_jacrev_grad"}, nil, -1, 1, 5, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			for range c.points {
				x := make([]float64, c.n)
				v := make([]float64, c.n)
				for i := range x {
					x[i] = c.lo + (c.hi-c.lo)*rng.Float64()
					v[i] = 2*rng.Float64() - 1
				}
				want := hyperHessian(c.f, x)
				for _, d := range c.hessDefs {
					checkClose(t, d, flat(call(t, fn(t, prog, d), x)), want, 1e-12)
				}
				hv := make([]float64, c.n)
				for i := range c.n {
					for j := range c.n {
						hv[i] += want[i*c.n+j] * v[j]
					}
				}
				for _, d := range c.hvpDefs {
					checkClose(t, d, flat(call(t, fn(t, prog, d), x, v)), hv, 1e-12)
				}
			}
		})
	}
	t.Run("wave", func(t *testing.T) {
		for _, a := range []float64{-2.3, -0.4, 0.8, 1.7} {
			x := []hyperdual.Number{{Real: a, E1mag: 1, E2mag: 1}}
			s := hyperdual.Sin(x[0])
			want := hyperdual.Mul(s, hyperdual.Mul(x[0], hyperdual.Mul(x[0], x[0]))).E1E2mag
			checkClose(t, "grad(grad(wave))", []float64{call(t, fn(t, prog, "wave2"), a).(float64)}, []float64{want}, 1e-12)
			// d³/da³ a³ sin a, by hand
			third := 6*math.Sin(a) + 18*a*math.Cos(a) - 9*a*a*math.Sin(a) - a*a*a*math.Cos(a)
			checkClose(t, "grad(grad(grad(wave)))", []float64{call(t, fn(t, prog, "third"), a).(float64)}, []float64{third}, 1e-12)
		}
	})
}

// TestSecondOrderTwoParams checks hvp and jvp of grad for a function of
// two parameters, whose points and directions are tuples, against finite
// differences of its gradient.
func TestSecondOrderTwoParams(t *testing.T) {
	prog := compile(t, "nested.nab", readTestdata(t, "nested.nab"))
	gr := fn(t, prog, "two_grad")
	rng := rand.New(rand.NewPCG(9, 9))
	for range 3 {
		x := []float64{rng.Float64() - 0.5, rng.Float64() - 0.5, rng.Float64() - 0.5, rng.Float64() - 0.5}
		s := rng.Float64() + 0.5
		args := []any{x, s}
		v := randomLike(rng, args).([]any)
		x0, vf := flat(args), flat(v)
		want := fdJacobian(len(x0), func(out, p []float64) {
			a := shaped(args, p, false).([]any)
			copy(out, flat(call(t, gr, a...)))
		}, x0, central4.Step)
		hv := make([]float64, len(x0))
		for i := range hv {
			for j := range vf {
				hv[i] += want[i*len(x0)+j] * vf[j]
			}
		}
		for _, d := range []string{"two_hvp", "two_jvp_grad"} {
			checkClose(t, d, flat(call(t, fn(t, prog, d), x, s, v[0], v[1])), hv, fdTol)
		}
	}
}
