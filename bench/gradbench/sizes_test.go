package gradbench

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nabla-lang/nabla"
	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// The tests in this file ask every eval's functions about inputs that the
// recorded cases do not hold, mostly larger ones, drawn as evals.md says
// the eval draws them, and check the answers against closed forms,
// independent Go computations of the primal, and finite differences
// (gonum's diff/fd) of the tool's own primal: a derivative must agree with
// the primal it claims to differentiate, whatever the size.

// callee answers one module's functions in process: JSON in, JSON out,
// through the same conversions as the protocol.
type callee struct {
	t    *testing.T
	ev   *eval
	prog *nabla.Program
}

func newCallee(t *testing.T, module string) *callee {
	t.Helper()
	prog, err := compileModule(module)
	if err != nil {
		t.Fatal(err)
	}
	return &callee{t: t, ev: evals[module], prog: prog}
}

// call evaluates function on input (any JSON-marshalable value) and
// returns the output decoded from its JSON.
func (c *callee) call(function string, input any) any {
	c.t.Helper()
	raw, err := json.Marshal(input)
	if err != nil {
		c.t.Fatal(err)
	}
	in, err := c.ev.decode(raw)
	if err != nil {
		c.t.Fatalf("%s: input: %v", function, err)
	}
	fn := c.ev.funcs[function]
	def := fn.defs[0]
	if fn.pick != nil {
		def = fn.pick(in)
	}
	f, err := c.prog.Func(def)
	if err != nil {
		c.t.Fatal(err)
	}
	v, err := f.CallValues(c.t.Context(), in.args)
	if err != nil {
		c.t.Fatalf("%s: %v", function, err)
	}
	out, err := fn.encode(nil, v, in)
	if err != nil {
		c.t.Fatalf("%s: output: %v", function, err)
	}
	var res any
	if err := json.Unmarshal(out, &res); err != nil {
		c.t.Fatalf("%s: output is not JSON: %v\n%.200s", function, err, out)
	}
	return res
}

// number returns a JSON number.
func number(t *testing.T, v any) float64 {
	t.Helper()
	x, ok := v.(float64)
	if !ok {
		t.Fatalf("want a number, got %T", v)
	}
	return x
}

// flat flattens nested JSON lists of numbers.
func flat(t *testing.T, v any) []float64 {
	t.Helper()
	var out []float64
	var rec func(v any)
	rec = func(v any) {
		switch v := v.(type) {
		case float64:
			out = append(out, v)
		case []any:
			for _, e := range v {
				rec(e)
			}
		default:
			t.Fatalf("want numbers, got %T", v)
		}
	}
	rec(v)
	return out
}

// close reports whether got is within tol of want, relative to
// max(1, |want|).
func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func checkNear(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d numbers, want %d", what, len(got), len(want))
	}
	bad := 0
	for i := range got {
		if !near(got[i], want[i], tol) {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 5 {
		t.Errorf("%s: %d mismatches in all", what, bad)
	}
}

func uniform(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.Float64()
	}
	return x
}

func normal(r *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
}

func rows(xs []float64, n, d int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = xs[i*d : (i+1)*d]
	}
	return out
}

// checkGradient compares a gradient g of f at x with central differences
// of f along a few random directions.
func checkGradient(t *testing.T, what string, r *rand.Rand, f func(x []float64) float64, x, g []float64) {
	t.Helper()
	for k := range 3 {
		v := normal(r, len(x))
		floats.Scale(1/floats.Norm(v, 2), v)
		y := make([]float64, len(x))
		along := func(h float64) float64 {
			floats.AddScaledTo(y, x, h, v)
			return f(y)
		}
		want := fd.Derivative(along, 0, &fd.Settings{Formula: fd.Central, Step: 1e-5})
		got := floats.Dot(g, v)
		scale := 1 + math.Abs(want) + math.Sqrt(floats.Dot(g, g))
		if math.Abs(got-want) > 1e-6*scale {
			t.Errorf("%s: direction %d: gradient gives %v, finite differences %v", what, k, got, want)
		}
	}
}

func TestLSELarge(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 31337))
	c := newCallee(t, "lse")
	x := uniform(r, 20000)
	primal := func(x []float64) float64 {
		return number(t, c.call("primal", map[string]any{"x": x}))
	}
	a := floats.Max(x)
	s := 0.0
	for _, xi := range x {
		s += math.Exp(xi - a)
	}
	lse := a + math.Log(s)
	if got := primal(x); !near(got, lse, 1e-12) {
		t.Errorf("primal = %v, want %v", got, lse)
	}
	g := flat(t, c.call("gradient", map[string]any{"x": x}))
	want := make([]float64, len(x))
	for i, xi := range x {
		want[i] = math.Exp(xi - lse)
	}
	checkNear(t, "gradient", g, want, 1e-12)
}

func TestLLSQLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 31337))
	c := newCallee(t, "llsq")
	const n, m = 20000, 128
	x := uniform(r, m)
	in := func(x []float64) map[string]any { return map[string]any{"x": x, "n": n} }
	// The objective and its gradient, written out.
	y, grad := 0.0, make([]float64, m)
	for i := range n {
		ti := -1 + 2*float64(i)/float64(n-1)
		fit, p := 0.0, 1.0
		for j := range m {
			fit += x[j] * p
			p *= ti
		}
		s := 0.0
		if ti > 0 {
			s = 1
		} else if ti < 0 {
			s = -1
		}
		res := s - fit
		y += 0.5 * res * res
		p = 1
		for j := range m {
			grad[j] -= res * p
			p *= ti
		}
	}
	if got := number(t, c.call("primal", in(x))); !near(got, y, 1e-9) {
		t.Errorf("primal = %v, want %v", got, y)
	}
	g := flat(t, c.call("gradient", in(x)))
	checkNear(t, "gradient", g, grad, 1e-9)
	checkGradient(t, "gradient", r, func(x []float64) float64 { return number(t, c.call("primal", in(x))) }, x, g)
}

// TestDetOther checks det on matrices of every size up to 8 (and the
// special cases 1 and 2) against LU: the determinant, and its gradient,
// the cofactor matrix det(A) A^-T. Sizes above the recorded 11 are out of
// reach of the expansion by minors on the interpreter (12! terms).
func TestDetOther(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 31337))
	c := newCallee(t, "det")
	for ell := 1; ell <= 8; ell++ {
		a := uniform(r, ell*ell)
		in := map[string]any{"A": a, "ell": ell}
		m := mat.NewDense(ell, ell, append([]float64(nil), a...))
		det := mat.Det(m)
		if got := number(t, c.call("primal", in)); !near(got, det, 1e-10) {
			t.Errorf("ell %d: primal = %v, want %v", ell, got, det)
		}
		var inv mat.Dense
		if err := inv.Inverse(m); err != nil {
			t.Fatal(err)
		}
		want := make([]float64, ell*ell)
		for i := range ell {
			for j := range ell {
				want[i*ell+j] = det * inv.At(j, i)
			}
		}
		checkNear(t, "gradient", flat(t, c.call("gradient", in)), want, 1e-9)
	}
}

func TestODELarge(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 31337))
	c := newCallee(t, "ode")
	const n, s = 3000, 20
	x := uniform(r, n)
	in := func(x []float64) map[string]any { return map[string]any{"x": x, "s": s} }
	// RK4 on y0' = x0, yi' = xi y(i-1), written out.
	rhs := func(y []float64) []float64 {
		d := make([]float64, n)
		d[0] = x[0]
		for i := 1; i < n; i++ {
			d[i] = x[i] * y[i-1]
		}
		return d
	}
	y := make([]float64, n)
	h := 2.0 / s
	axpy := func(a float64, k []float64) []float64 {
		z := make([]float64, n)
		floats.AddScaledTo(z, y, a, k)
		return z
	}
	for range s {
		k1 := rhs(y)
		k2 := rhs(axpy(h/2, k1))
		k3 := rhs(axpy(h/2, k2))
		k4 := rhs(axpy(h, k3))
		for i := range y {
			y[i] += h / 6 * (k1[i] + 2*k2[i] + 2*k3[i] + k4[i])
		}
	}
	checkNear(t, "primal", flat(t, c.call("primal", in(x))), y, 1e-12)
	g := flat(t, c.call("gradient", in(x)))
	last := func(x []float64) float64 {
		y := flat(t, c.call("primal", in(x)))
		return y[n-1]
	}
	checkGradient(t, "gradient", r, last, x, g)
}

func TestKmeansLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 31337))
	c := newCallee(t, "kmeans")
	const k, n, d = 50, 4000, 16
	p := uniform(r, n*d)
	cs := append([]float64(nil), p[(n-k)*d:]...) // the last k points
	in := map[string]any{"points": rows(p, n, d), "centroids": rows(cs, k, d)}
	// The cost, and the closed form of the direction: each centroid minus
	// the mean of the points closest to it (the first such centroid).
	cost := 0.0
	sums := make([]float64, k*d)
	counts := make([]float64, k)
	for i := range n {
		best, bj := math.Inf(1), 0
		for j := range k {
			dist := 0.0
			for e := range d {
				dist += (p[i*d+e] - cs[j*d+e]) * (p[i*d+e] - cs[j*d+e])
			}
			if dist < best {
				best, bj = dist, j
			}
		}
		cost += best
		counts[bj]++
		floats.Add(sums[bj*d:(bj+1)*d], p[i*d:(i+1)*d])
	}
	dir := make([]float64, k*d)
	for j := range k {
		for e := range d {
			dir[j*d+e] = cs[j*d+e] - sums[j*d+e]/counts[j]
		}
	}
	if got := number(t, c.call("cost", in)); !near(got, cost, 1e-12) {
		t.Errorf("cost = %v, want %v", got, cost)
	}
	checkNear(t, "dir", flat(t, c.call("dir", in)), dir, 1e-10)
}

func TestGMMLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 31337))
	c := newCallee(t, "gmm")
	const d, k, n, m, gamma = 20, 25, 1000, 0, 1.0
	p := d * (d - 1) / 2
	x := normal(r, n*d)
	alpha, mu, q, l := normal(r, k), uniform(r, k*d), normal(r, k*d), normal(r, k*p)
	in := func(alpha, mu, q, l []float64) map[string]any {
		return map[string]any{"d": d, "k": k, "n": n, "m": m, "gamma": gamma, "x": rows(x, n, d),
			"alpha": alpha, "mu": rows(mu, k, d), "q": rows(q, k, d), "l": rows(l, k, p)}
	}
	// The objective as evals.md writes it, directly.
	lse := func(v []float64) float64 {
		a := floats.Max(v)
		s := 0.0
		for _, e := range v {
			s += math.Exp(e - a)
		}
		return a + math.Log(s)
	}
	want := 0.0
	beta := make([]float64, k)
	for i := range n {
		for j := range k {
			// Q_j (x_i - mu_j), Q_j lower triangular, strict part column by column.
			z := 0.0
			for row := range d {
				s := math.Exp(q[j*d+row]) * (x[i*d+row] - mu[j*d+row])
				for col := range row {
					idx := col*(2*d-col-1)/2 + row - col - 1
					s += l[j*p+idx] * (x[i*d+col] - mu[j*d+col])
				}
				z += s * s
			}
			beta[j] = alpha[j] + floats.Sum(q[j*d:(j+1)*d]) - 0.5*z
		}
		want += lse(beta)
	}
	want -= n * lse(alpha)
	want -= n * d / 2.0 * math.Log(2*math.Pi)
	for j := range k {
		s := 0.0
		for e := range d {
			s += math.Exp(2 * q[j*d+e])
		}
		want -= gamma*gamma/2*(s+floats.Dot(l[j*p:(j+1)*p], l[j*p:(j+1)*p])) - m*floats.Sum(q[j*d:(j+1)*d])
	}
	nu := float64(d + m + 1)
	lmg := float64(d*(d-1)) / 4 * math.Log(math.Pi)
	for j := 1; j <= d; j++ {
		lg, _ := math.Lgamma(nu/2 + float64(1-j)/2)
		lmg += lg
	}
	want += k * (nu*d*(math.Log(gamma)-0.5*math.Log(2)) - lmg)
	if got := number(t, c.call("objective", in(alpha, mu, q, l))); !near(got, want, 1e-10) {
		t.Errorf("objective = %v, want %v", got, want)
	}
	jac, ok := c.call("jacobian", in(alpha, mu, q, l)).(map[string]any)
	if !ok || len(jac) != 4 {
		t.Fatalf("jacobian is not an object of 4 gradients: %v", jac)
	}
	var g []float64
	for _, name := range []string{"alpha", "mu", "q", "l"} {
		g = append(g, flat(t, jac[name])...)
	}
	all := append(append(append(append([]float64(nil), alpha...), mu...), q...), l...)
	f := func(v []float64) float64 {
		return number(t, c.call("objective", in(v[:k], v[k:k+k*d], v[k+k*d:k+2*k*d], v[k+2*k*d:])))
	}
	checkGradient(t, "jacobian", r, f, all, g)
}

func TestLSTMLarge(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 31337))
	c := newCallee(t, "lstm")
	const l, b, chars = 3, 14, 2048
	mp, ep, st := uniform(r, 2*l*4*b), uniform(r, 3*b), uniform(r, 2*l*b)
	seq := make([]float64, chars*b)
	for i := range chars {
		ch := 32 + r.IntN(95)
		for bit := range b {
			if ch>>(b-1-bit)&1 == 1 {
				seq[i*b+bit] = 1
			}
		}
	}
	in := func(mp, ep []float64) map[string]any {
		return map[string]any{"main_params": rows(mp, 2*l, 4*b), "extra_params": rows(ep, 3, b),
			"state": rows(st, 2*l, b), "sequence": rows(seq, chars, b)}
	}
	sig := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	h := append([]float64(nil), st...)
	total := 0.0
	for t := range chars - 1 {
		v := make([]float64, b)
		for j := range b {
			v[j] = seq[t*b+j] * ep[j]
		}
		for i := range l {
			w, bias := mp[2*i*4*b:], mp[(2*i+1)*4*b:]
			hid, cell := h[2*i*b:(2*i+1)*b], h[(2*i+1)*b:(2*i+2)*b]
			for j := range b {
				f := sig(v[j]*w[j] + bias[j])
				ig := sig(hid[j]*w[b+j] + bias[b+j])
				o := sig(v[j]*w[2*b+j] + bias[2*b+j])
				ch := math.Tanh(hid[j]*w[3*b+j] + bias[3*b+j])
				cell[j] = cell[j]*f + ig*ch
				hid[j] = o * math.Tanh(cell[j])
			}
			copy(v, hid)
		}
		y := make([]float64, b)
		s := 0.0
		for j := range b {
			y[j] = v[j]*ep[b+j] + ep[2*b+j]
			s += math.Exp(y[j])
		}
		for j := range b {
			total += seq[(t+1)*b+j] * (y[j] - math.Log(s+2))
		}
	}
	want := -total / float64((chars-1)*b)
	if got := number(t, c.call("objective", in(mp, ep))); !near(got, want, 1e-12) {
		t.Errorf("objective = %v, want %v", got, want)
	}
	g := flat(t, c.call("jacobian", in(mp, ep)))
	all := append(append([]float64(nil), mp...), ep...)
	f := func(v []float64) float64 { return number(t, c.call("objective", in(v[:len(mp)], v[len(mp):]))) }
	checkGradient(t, "jacobian", r, f, all, g)
}

// baProject is the bundle adjustment residuals of one observation, from
// evals.md: params are the camera's 11 numbers, the point's 3 and the
// weight; out gets the two reprojection residuals and the weight residual.
func baProject(out, params, feat []float64) {
	cam, x, w := params[:11], params[11:14], params[14]
	z := []float64{x[0] - cam[3], x[1] - cam[4], x[2] - cam[5]}
	r := cam[:3]
	cross := func(a, b []float64) []float64 {
		return []float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
	}
	var y []float64
	if sq := floats.Dot(r, r); sq != 0 {
		theta := math.Sqrt(sq)
		axis := []float64{r[0] / theta, r[1] / theta, r[2] / theta}
		wx := cross(axis, z)
		tmp := floats.Dot(axis, z) * (1 - math.Cos(theta))
		y = make([]float64, 3)
		for j := range y {
			y[j] = z[j]*math.Cos(theta) + wx[j]*math.Sin(theta) + axis[j]*tmp
		}
	} else {
		y = cross(r, z)
		floats.Add(y, z)
	}
	u0, u1 := y[0]/y[2], y[1]/y[2]
	rho := u0*u0 + u1*u1
	dist := 1 + cam[9]*rho + cam[10]*rho*rho
	out[0] = w * (cam[6]*u0*dist + cam[7] - feat[0])
	out[1] = w * (cam[6]*u1*dist + cam[8] - feat[1])
	out[2] = 1 - w*w
}

// TestBAOther checks ba on random problems of other sizes, one with a
// camera of rotation 0 (the other branch of Rodrigues' formula): the
// residuals against baProject, and the Jacobian's shown entries against
// its finite differences and the sparsity layout.
func TestBAOther(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 31337))
	c := newCallee(t, "ba")
	for _, tc := range []struct {
		n, m, p int
		still   bool
	}{{7, 13, 20000, false}, {3, 2, 5, true}} {
		cam := []float64{0.3 * r.NormFloat64(), 0.3 * r.NormFloat64(), 0.3 * r.NormFloat64(),
			r.NormFloat64(), r.NormFloat64(), r.NormFloat64(), 400 + 100*r.Float64(),
			5 * r.NormFloat64(), 5 * r.NormFloat64(), 0.1 * r.NormFloat64(), 0.01 * r.NormFloat64()}
		if tc.still {
			cam[0], cam[1], cam[2] = 0, 0, 0
		}
		x := []float64{r.NormFloat64(), r.NormFloat64(), 10 + r.Float64()}
		w := r.Float64()
		feat := []float64{100 * r.NormFloat64(), 100 * r.NormFloat64()}
		in := map[string]any{"n": tc.n, "m": tc.m, "p": tc.p, "cam": cam, "x": x, "w": w, "feat": feat}
		params := append(append(append([]float64(nil), cam...), x...), w)
		res := make([]float64, 3)
		baProject(res, params, feat)

		obj := c.call("objective", in).(map[string]any)
		re := obj["reproj_error"].(map[string]any)
		we := obj["w_err"].(map[string]any)
		checkNear(t, "reproj_error", flat(t, re["elements"]), res[:2], 1e-10)
		checkNear(t, "w_err", []float64{number(t, we["element"])}, res[2:], 1e-12)
		if re["repeated"] != float64(tc.p) || we["repeated"] != float64(tc.p) {
			t.Errorf("repeated %v and %v, want %d", re["repeated"], we["repeated"], tc.p)
		}

		jac := mat.NewDense(3, 15, nil)
		fd.Jacobian(jac, func(y, p []float64) { baProject(y, p, feat) }, params, &fd.JacobianSettings{Formula: fd.Central})
		j := c.call("jacobian", in).(map[string]any)
		rowsGot, cols, vals := flat(t, j["rows"]), flat(t, j["cols"]), flat(t, j["vals"])
		nrows, nnz := 3*tc.p+1, 31*tc.p
		var wantRows, wantCols, wantVals []float64
		for i := 0; i < min(30, nrows); i++ {
			if i <= 2*tc.p {
				wantRows = append(wantRows, float64(15*i))
			} else {
				wantRows = append(wantRows, float64(30*tc.p+i-2*tc.p))
			}
		}
		wantRows = append(wantRows, float64(nnz))
		// Observation 0 (camera 0, point 0) fills the first 30 entries
		// when there are enough; the last entry is the last weight row's.
		for e := 0; e < min(30, nnz); e++ {
			if e >= 30*tc.p { // only when p = 1
				break
			}
			obs, k := e/30, e%30
			row, s := k/15, k%15
			switch {
			case s < 11:
				wantCols = append(wantCols, float64(11*(obs%tc.n)+s))
			case s < 14:
				wantCols = append(wantCols, float64(11*tc.n+3*(obs%tc.m)+s-11))
			default:
				wantCols = append(wantCols, float64(11*tc.n+3*tc.m+obs))
			}
			wantVals = append(wantVals, jac.At(row, s))
		}
		wantCols = append(wantCols, float64(11*tc.n+3*tc.m+tc.p-1))
		wantVals = append(wantVals, jac.At(2, 14))
		checkNear(t, "rows", rowsGot, wantRows, 0)
		checkNear(t, "cols", cols, wantCols, 0)
		checkNear(t, "vals", vals, wantVals, 1e-6)
	}
}

// handModel is a random hand-like model: nb bones in a tree, each with a
// random rigid rest pose relative to its parent; inverse_base_absolutes
// undo the chained rest poses exactly, so that at the rest pose every bone
// transform is the identity.
func handModel(r *rand.Rand, nb, nv, nt int) map[string]any {
	parents := make([]int, nb)
	rel := make([][][]float64, nb)
	abs := make([]*mat.Dense, nb)
	inv := make([][][]float64, nb)
	for b := range nb {
		parents[b] = r.IntN(b+1) - 1
		if b == 0 {
			parents[b] = -1
		}
		a := []float64{0.5 * r.NormFloat64(), 0.5 * r.NormFloat64(), 0.5 * r.NormFloat64()}
		rot := rodrigues(a)
		m := mat.NewDense(4, 4, nil)
		for i := range 3 {
			for j := range 3 {
				m.Set(i, j, rot[i][j])
			}
			m.Set(i, 3, r.NormFloat64())
		}
		m.Set(3, 3, 1)
		rel[b] = dense(m)
		abs[b] = m
		if parents[b] >= 0 {
			abs[b] = mat.NewDense(4, 4, nil)
			abs[b].Mul(abs[parents[b]], m)
		}
		var iv mat.Dense
		if err := iv.Inverse(abs[b]); err != nil {
			panic(err)
		}
		inv[b] = dense(&iv)
	}
	pos := make([][]float64, nv)
	weights := make([][]float64, nv)
	for v := range nv {
		pos[v] = []float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64(), 1}
		weights[v] = uniform(r, nb)
		floats.Scale(1/floats.Sum(weights[v]), weights[v])
	}
	tris := make([][]int, nt)
	for i := range tris {
		tris[i] = []int{r.IntN(nv), r.IntN(nv), r.IntN(nv)}
	}
	names := make([]string, nb)
	for i := range names {
		names[i] = "bone"
	}
	return map[string]any{"bone_count": nb, "bone_names": names, "parents": parents, "base_relatives": rel,
		"inverse_base_absolutes": inv, "base_positions": pos, "weights": weights, "triangles": tris, "is_mirrored": false}
}

func dense(m *mat.Dense) [][]float64 {
	r, c := m.Dims()
	out := make([][]float64, r)
	for i := range out {
		out[i] = make([]float64, c)
		for j := range out[i] {
			out[i][j] = m.At(i, j)
		}
	}
	return out
}

// rodrigues is the rotation by |a| about a.
func rodrigues(a []float64) [3][3]float64 {
	theta := floats.Norm(a, 2)
	x, y, z := a[0]/theta, a[1]/theta, a[2]/theta
	s, c := math.Sin(theta), math.Cos(theta)
	return [3][3]float64{
		{x*x + (1-x*x)*c, x*y*(1-c) - z*s, x*z*(1-c) + y*s},
		{x*y*(1-c) + z*s, y*y + (1-y*y)*c, y*z*(1-c) - x*s},
		{x*z*(1-c) - y*s, z*y*(1-c) + x*s, z*z + (1-z*z)*c},
	}
}

// TestHTOther poses random models with more correspondences than the
// recorded case, in both variants and mirrored or not. At the rest pose
// (theta zero but for the translation) every bone transform is the
// identity, so the residuals have a closed form; at a random pose the
// Jacobian must match finite differences of the objective.
func TestHTOther(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 31337))
	c := newCallee(t, "ht")
	const nb, nv, nt, npts = 22, 200, 150, 200
	for _, tc := range []struct{ complicated, mirrored bool }{{false, false}, {true, false}, {true, true}} {
		model := handModel(r, nb, nv, nt)
		model["is_mirrored"] = tc.mirrored
		corr := make([]int, npts)
		points := make([][]float64, npts)
		us := [][]float64{}
		for i := range npts {
			if tc.complicated {
				corr[i] = r.IntN(nt)
				us = append(us, []float64{r.Float64() / 2, r.Float64() / 2})
			} else {
				corr[i] = r.IntN(nv)
			}
			points[i] = normal(r, 3)
		}
		in := func(theta []float64, us [][]float64) map[string]any {
			return map[string]any{"theta": theta, "us": us,
				"data": map[string]any{"correspondences": corr, "points": points, "model": model}}
		}
		// The rest pose, moved by a translation.
		theta := make([]float64, 26)
		theta[3], theta[4], theta[5] = 0.5, -1, 2
		pos := model["base_positions"].([][]float64)
		vert := func(v, j int) float64 {
			x := pos[v][j]
			if j == 0 && tc.mirrored {
				x = -x
			}
			return x + theta[3+j]
		}
		tris := model["triangles"].([][]int)
		want := make([]float64, 3*npts)
		for i := range npts {
			for j := range 3 {
				m := vert(corr[i], j)
				if tc.complicated {
					t := tris[corr[i]]
					u0, u1 := us[i][0], us[i][1]
					m = u0*vert(t[0], j) + u1*vert(t[1], j) + (1-u0-u1)*vert(t[2], j)
				}
				want[3*i+j] = points[i][j] - m
			}
		}
		checkNear(t, "objective at rest", flat(t, c.call("objective", in(theta, us))), want, 1e-10)

		// A random pose: the Jacobian against finite differences.
		theta = normal(r, 26)
		floats.Scale(0.3, theta)
		jac := c.call("jacobian", in(theta, us)).([]any)
		ncols := 26
		if tc.complicated {
			ncols = 28
		}
		if len(jac) != 3*npts || len(jac[0].([]any)) != ncols {
			t.Fatalf("jacobian is %d x %d, want %d x %d", len(jac), len(jac[0].([]any)), 3*npts, ncols)
		}
		got := mat.NewDense(3*npts, ncols, flat(t, jac))
		fdTheta := mat.NewDense(3*npts, 26, nil)
		fd.Jacobian(fdTheta, func(y, th []float64) {
			copy(y, flat(t, c.call("objective", in(th, us))))
		}, theta, &fd.JacobianSettings{Formula: fd.Central})
		off := ncols - 26
		checkNear(t, "jacobian (theta)", mat.DenseCopyOf(got.Slice(0, 3*npts, off, ncols)).RawMatrix().Data, fdTheta.RawMatrix().Data, 1e-6)
		if tc.complicated {
			for k := range 2 {
				// Perturbing us[i][k] of every i at once moves residual i
				// through its own us[i][k] only.
				at := func(h float64) []float64 {
					moved := make([][]float64, npts)
					for i := range moved {
						moved[i] = append([]float64(nil), us[i]...)
						moved[i][k] += h
					}
					return flat(t, c.call("objective", in(theta, moved)))
				}
				const h = 1e-6
				plus, minus := at(h), at(-h)
				col := make([]float64, 3*npts)
				for i := range col {
					col[i] = (plus[i] - minus[i]) / (2 * h)
				}
				checkNear(t, "jacobian (us)", mat.Col(nil, k, got), col, 1e-6)
			}
		}
	}
}

// TestParticleSaddleOther starts particle and saddle elsewhere than the
// eval's one input: the descent must reach the same optimum. One mode
// each, the quickest (check.py runs all four on the eval's input).
func TestParticleSaddleOther(t *testing.T) {
	p := newCallee(t, "particle")
	for _, f := range []string{"fr"} {
		if w := number(t, p.call(f, map[string]any{"w": 0.1})); math.Abs(w-0.2071918746486116) > 1e-3 {
			t.Errorf("particle %s from w = 0.1: %v, want about 0.20719", f, w)
		}
	}
	s := newCallee(t, "saddle")
	for _, f := range []string{"fr"} {
		for _, v := range flat(t, s.call(f, map[string]any{"start": []float64{0.5, -2}})) {
			if math.Abs(v) > 1e-3 {
				t.Errorf("saddle %s from (0.5, -2): component %v, want about 0", f, v)
			}
		}
	}
}
