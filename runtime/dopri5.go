package runtime

import (
	"fmt"
	"math"
)

// Dopri5MaxSteps bounds the attempted steps of one Dopri5 solve.
const Dopri5MaxSteps = 100000

// Dopri5 integrates y' = f(t, y) from (t0, y0) to t1 with the explicit
// Runge–Kutta pair of Dormand and Prince 5(4) (Hairer, Nørsett and Wanner,
// Solving ODEs I, §II.5), advancing with the fifth-order solution, first
// same as last, and returns y(t1). A step is accepted when the error norm
// ‖e/(atol + rtol·max(|y|, |y_new|))‖_rms ≤ 1; the next step is
// h·min(10, max(0.2, 0.9·err^(−1/5))) (after a rejection, at most h); the
// initial step follows §II.4. t1 < t0 integrates backward. report, when
// not nil, is called once per attempted step with its number (from 1),
// the distance from t0 it reaches, its error norm and its size. It fails
// on a negative tolerance, on a non-finite error norm, on a step too small
// to advance t, and after Dopri5MaxSteps attempted steps. f must return
// len(y) values and not modify y; Dopri5 copies what f returns, so f may
// return storage it reuses. An error from f is returned as it is.
func Dopri5(f func(t float64, y []float64) ([]float64, error), y0 []float64, t0, t1, rtol, atol float64, report func(it int64, t, err, h float64)) ([]float64, error) {
	switch {
	case !(rtol >= 0) || !(atol >= 0):
		return nil, fmt.Errorf("ode_dopri5: tolerances must be non-negative, got rtol %g, atol %g", rtol, atol)
	case rtol+atol == 0:
		return nil, fmt.Errorf("ode_dopri5: rtol and atol must not both be 0")
	case math.IsNaN(t0) || math.IsNaN(t1) || math.IsInf(t0, 0) || math.IsInf(t1, 0):
		return nil, fmt.Errorf("ode_dopri5: times must be finite, got t0 %g, t1 %g", t0, t1)
	}
	n := len(y0)
	y := append([]float64(nil), y0...)
	span := math.Abs(t1 - t0)
	if n == 0 || span == 0 {
		return y, nil
	}
	dir := 1.0
	if t1 < t0 {
		dir = -1
	}
	eval := func(t float64, y []float64, dst []float64) error {
		out, err := f(t, y)
		if err != nil {
			return err
		}
		if len(out) != n {
			return fmt.Errorf("ode_dopri5: f returned %d values for %d", len(out), n)
		}
		copy(dst, out)
		return nil
	}
	k := make([][]float64, 8) // k[1..7]; k[0] is the stage argument
	for i := range k {
		k[i] = make([]float64, n)
	}
	if err := eval(t0, y, k[1]); err != nil {
		return nil, err
	}
	// Initial step: Hairer, Nørsett and Wanner, §II.4.
	var s0, s1 float64
	for i := range y {
		sc := atol + rtol*math.Abs(y[i])
		s0 += (y[i] / sc) * (y[i] / sc)
		s1 += (k[1][i] / sc) * (k[1][i] / sc)
	}
	d0, d1 := math.Sqrt(s0/float64(n)), math.Sqrt(s1/float64(n))
	h0 := 1e-6
	if !(d0 < 1e-5 || d1 < 1e-5) {
		h0 = 0.01 * d0 / d1
	}
	for i := range y {
		k[0][i] = y[i] + dir*h0*k[1][i]
	}
	if err := eval(t0+dir*h0, k[0], k[2]); err != nil {
		return nil, err
	}
	var s2 float64
	for i := range y {
		sc := atol + rtol*math.Abs(y[i])
		d := (k[2][i] - k[1][i]) / sc
		s2 += d * d
	}
	d2 := math.Sqrt(s2/float64(n)) / h0
	h1 := math.Pow(0.01/math.Max(d1, d2), 1.0/5.0)
	if math.Max(d1, d2) <= 1e-15 {
		h1 = math.Max(1e-6, h0*1e-3)
	}
	h := math.Min(math.Min(100*h0, h1), span)
	if math.IsNaN(h) {
		return nil, fmt.Errorf("ode_dopri5: the initial step size is NaN (f is not finite near t0 = %g)", t0)
	}

	y5, e := make([]float64, n), make([]float64, n)
	t := 0.0
	for it := int64(1); t < span; it++ {
		if it > Dopri5MaxSteps {
			return nil, fmt.Errorf("ode_dopri5: %d steps without reaching t1 (at t = %g)", Dopri5MaxSteps, t0+dir*t)
		}
		hs := math.Min(h, span-t)
		if !(hs > 0) || t+hs == t {
			return nil, fmt.Errorf("ode_dopri5: step size %g too small at t = %g", hs, t0+dir*t)
		}
		if err := dopri5Step(eval, t0+dir*t, y, dir*hs, k, y5, e); err != nil {
			return nil, err
		}
		var s float64
		for i := range y {
			sc := atol + rtol*math.Max(math.Abs(y[i]), math.Abs(y5[i]))
			s += (e[i] / sc) * (e[i] / sc)
		}
		errNorm := math.Sqrt(s / float64(n))
		if math.IsNaN(errNorm) || math.IsInf(errNorm, 0) {
			return nil, fmt.Errorf("ode_dopri5: the error estimate is %g at t = %g (f is not finite there)", errNorm, t0+dir*t)
		}
		// The standard controller: safety 0.9, factor limits [0.2, 10],
		// exponent 1/5.
		grow := 10.0
		if errNorm > 0 {
			grow = 0.9 * math.Pow(errNorm, -0.2)
		}
		fac := math.Min(10, math.Max(0.2, grow))
		if report != nil {
			report(it, t+hs, errNorm, hs)
		}
		if errNorm <= 1 {
			if span-t-hs <= 1e-12*span {
				t = span
			} else {
				t += hs
			}
			copy(y, y5)
			k[1], k[7] = k[7], k[1] // first same as last
			h = hs * fac
		} else {
			h = hs * math.Min(1, fac)
		}
	}
	return y, nil
}

// dopri5Step takes one Dormand–Prince step of size h from (t, y) with
// k[1] = f(t, y) (Hairer, Nørsett and Wanner, Table 5.2), writing the
// fifth-order solution to y5, its difference to the embedded fourth-order
// one to e, and f(t + h, y5) to k[7]. k[0] is scratch.
func dopri5Step(eval func(t float64, y, dst []float64) error, t float64, y []float64, h float64, k [][]float64, y5, e []float64) error {
	arg := k[0]
	stage := func(c float64, dst []float64, comb func(i int) float64) error {
		for i := range y {
			arg[i] = y[i] + h*comb(i)
		}
		return eval(t+c*h, arg, dst)
	}
	k1, k2, k3, k4, k5, k6 := k[1], k[2], k[3], k[4], k[5], k[6]
	if err := stage(1.0/5.0, k2, func(i int) float64 { return k1[i] / 5.0 }); err != nil {
		return err
	}
	if err := stage(3.0/10.0, k3, func(i int) float64 { return 3.0/40.0*k1[i] + 9.0/40.0*k2[i] }); err != nil {
		return err
	}
	if err := stage(4.0/5.0, k4, func(i int) float64 { return 44.0/45.0*k1[i] - 56.0/15.0*k2[i] + 32.0/9.0*k3[i] }); err != nil {
		return err
	}
	if err := stage(8.0/9.0, k5, func(i int) float64 {
		return 19372.0/6561.0*k1[i] - 25360.0/2187.0*k2[i] + 64448.0/6561.0*k3[i] - 212.0/729.0*k4[i]
	}); err != nil {
		return err
	}
	if err := stage(1, k6, func(i int) float64 {
		return 9017.0/3168.0*k1[i] - 355.0/33.0*k2[i] + 46732.0/5247.0*k3[i] + 49.0/176.0*k4[i] - 5103.0/18656.0*k5[i]
	}); err != nil {
		return err
	}
	for i := range y {
		y5[i] = y[i] + h*(35.0/384.0*k1[i]+500.0/1113.0*k3[i]+125.0/192.0*k4[i]-2187.0/6784.0*k5[i]+11.0/84.0*k6[i])
	}
	if err := eval(t+h, y5, k[7]); err != nil {
		return err
	}
	k7 := k[7]
	for i := range y {
		e[i] = h * (71.0/57600.0*k1[i] - 71.0/16695.0*k3[i] + 71.0/1920.0*k4[i] - 17253.0/339200.0*k5[i] + 22.0/525.0*k6[i] - 1.0/40.0*k7[i])
	}
	return nil
}
