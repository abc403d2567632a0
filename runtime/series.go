package runtime

import "math"

// Truncated power series: the kernels of Taylor mode's series primitives.
//
// A series is the slice of its first K coefficients x_0, ..., x_{K-1}.
// The nonlinear kernels run the classic O(K²) recurrences (Griewank and
// Walther, "Evaluating Derivatives", ch. 13), which derive each
// coefficient of f(x) from those before it through an ODE that f
// satisfies (y' = y·x' for exp, ...). Every kernel writes all K
// coefficients of its result, which must not overlap its operands.
//
// Binary kernels take flags xs and ys saying which operands are series;
// a constant arrives as [c, 0, ..., 0], and the kernels use the flags to
// take the O(K) path (c·x instead of a Cauchy product).
//
// Scratch memory comes from a SeriesWork, which the caller owns and
// reuses: kernels take from it and give back on return (explicitly, not
// by defer, which costs a measurable 4% on low orders), so a long loop of
// kernel calls allocates nothing once the workspace has grown.
//
// SeriesMap1 and SeriesMap2 apply a kernel to every element of a series of
// arrays, stored coefficient-major (K rows of n elements, as Nabla stores
// a series [K][n]f64), broadcasting scalars.

// SeriesWork is scratch memory for the series kernels. The zero value is
// ready for use; a SeriesWork must not be used by two goroutines at once.
type SeriesWork struct {
	buf []float64
	off int
}

// take hands out n zeroed elements. When the buffer is exhausted it starts
// a larger one; slices handed out before stay valid.
func (w *SeriesWork) take(n int) []float64 {
	if w.off+n > len(w.buf) {
		w.buf = make([]float64, 2*(w.off+n)+16)
		w.off = 0
	}
	s := w.buf[w.off : w.off+n : w.off+n]
	w.off += n
	clear(s)
	return s
}

// release gives back everything taken since the offset mark.
func (w *SeriesWork) release(mark int) { w.off = mark }

// sdot is Σ a_i·b_i (len(b) ≥ len(a)): an unrolled loop for the short
// vectors of low orders, the BLAS kernel for long ones.
func sdot(a, b []float64) float64 {
	if len(a) >= 16 {
		return dot(a, b[:len(a)])
	}
	b = b[:len(a)]
	var s0, s1 float64
	i := 0
	for ; i+1 < len(a); i += 2 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
	}
	if i < len(a) {
		s0 += a[i] * b[i]
	}
	return s0 + s1
}

// rev holds a series g reversed, r[K-1-m] = g_m, so that the sums
// Σ x_i·g_{j-i} of the recurrences are dot products of contiguous slices.
// A series being computed is stored into its rev coefficient by
// coefficient, as it becomes known.
type rev []float64

func newRev(w *SeriesWork, k int) rev { return rev(w.take(k)) }

// revOf is g reversed.
func revOf(w *SeriesWork, g []float64) rev {
	r := newRev(w, len(g))
	for m, v := range g {
		r[len(g)-1-m] = v
	}
	return r
}

func (r rev) set(m int, v float64) { r[len(r)-1-m] = v }

// conv is Σ_{i=lo..hi} x_i·g_{j-i}.
func (r rev) conv(x []float64, lo, hi, j int) float64 {
	if hi < lo {
		return 0
	}
	k := len(r)
	return sdot(x[lo:hi+1], r[k-1-j+lo:])
}

// cauchy sets z to the truncated product x·y: z_j = Σ_{i≤j} x_i y_{j-i}.
func cauchy(z, x, y []float64, w *SeriesWork) {
	yr := revOf(w, y)
	for j := range z {
		z[j] = yr.conv(x, 0, j, j)
	}
}

// seriesQuotient sets q to a/b: q_j = (a_j - Σ_{i=1..j} b_i q_{j-i}) / b_0.
func seriesQuotient(q, a, b []float64, w *SeriesWork) {
	qr := newRev(w, len(q))
	for j := range q {
		q[j] = (a[j] - qr.conv(b, 1, j, j)) / b[0]
		qr.set(j, q[j])
	}
}

// weighted is xd_i = i·x_i, the coefficients of t·x'(t).
func weighted(w *SeriesWork, x []float64) []float64 {
	xd := w.take(len(x))
	for i, v := range x {
		xd[i] = float64(i) * v
	}
	return xd
}

// integ is coefficient j ≥ 1 of y where y' = g·x', given xd = weighted(x)
// and g reversed: y_j = (1/j) Σ_{i=1..j} i·x_i·g_{j-i}. It needs g up to
// coefficient j-1.
func integ(xd []float64, g rev, j int) float64 {
	return g.conv(xd, 1, j, j) / float64(j)
}

// ode sets y to the solution of y' = g·x' with y_0 = y0, where g_j is
// known once y_0..y_j are: next(j) returns it (after y[j] is set).
func ode(y, x []float64, w *SeriesWork, y0 float64, next func(j int) float64) {
	xd := weighted(w, x)
	gr := newRev(w, len(y))
	y[0] = y0
	gr.set(0, next(0))
	for j := 1; j < len(y); j++ {
		y[j] = integ(xd, gr, j)
		if j+1 < len(y) {
			gr.set(j, next(j))
		}
	}
}

// integrate sets y to the solution of y' = g·x' with y_0 = y0, for a
// known g.
func integrate(y, x, g []float64, w *SeriesWork, y0 float64) {
	xd := weighted(w, x)
	gr := revOf(w, g)
	y[0] = y0
	for j := 1; j < len(y); j++ {
		y[j] = integ(xd, gr, j)
	}
}

// inverseLike sets y to the solution of u·y' = x' with y_0 = y0:
// y_j = (x_j - (1/j) Σ_{i=1..j-1} i·y_i·u_{j-i}) / u_0.
func inverseLike(y, x, u []float64, y0 float64, w *SeriesWork) {
	ur := revOf(w, u)
	yd := w.take(len(y))
	y[0] = y0
	for j := 1; j < len(y); j++ {
		y[j] = (x[j] - ur.conv(yd, 1, j-1, j)/float64(j)) / u[0]
		yd[j] = float64(j) * y[j]
	}
}

// expSeries sets y to exp(x) with y_0 = y0 (exp(x_0), or a more accurate
// value the caller knows).
func expSeries(y, x []float64, y0 float64, w *SeriesWork) {
	ode(y, x, w, y0, func(j int) float64 { return y[j] })
}

func logSeries(y, x []float64, w *SeriesWork) { inverseLike(y, x, x, math.Log(x[0]), w) }

// sqrtSeries: y_j = (x_j - Σ_{i=1..j-1} y_i y_{j-i}) / (2 y_0).
func sqrtSeries(y, x []float64, w *SeriesWork) {
	yr := newRev(w, len(y))
	y[0] = math.Sqrt(x[0])
	yr.set(0, y[0])
	for j := 1; j < len(y); j++ {
		y[j] = (x[j] - yr.conv(y, 1, j-1, j)) / (2 * y[0])
		yr.set(j, y[j])
	}
}

// sincos sets s and c to sin(x) and cos(x) (hyp: sinh and cosh).
func sincos(s, c, x []float64, hyp bool, w *SeriesWork) {
	if hyp {
		s[0], c[0] = math.Sinh(x[0]), math.Cosh(x[0])
	} else {
		s[0], c[0] = math.Sincos(x[0])
	}
	xd := weighted(w, x)
	sr, cr := newRev(w, len(s)), newRev(w, len(s))
	sr.set(0, s[0])
	cr.set(0, c[0])
	for j := 1; j < len(s); j++ {
		s[j] = integ(xd, cr, j)
		c[j] = integ(xd, sr, j)
		if !hyp {
			c[j] = -c[j]
		}
		sr.set(j, s[j])
		cr.set(j, c[j])
	}
}

// squareSeries sets z to x².
func squareSeries(z, x []float64, w *SeriesWork) { cauchy(z, x, x, w) }

// squares solves y' = (a + b·y²)·x' (tan: a = b = 1; tanh: a = 1, b = -1)
// or, with lin, y' = (y + b·y²)·x' (sigmoid: b = -1).
func squares(y, x []float64, w *SeriesWork, y0, a, b float64, lin bool) {
	yr := newRev(w, len(y))
	ode(y, x, w, y0, func(j int) float64 {
		yr.set(j, y[j])
		g := b * yr.conv(y, 0, j, j)
		switch {
		case lin:
			g += y[j]
		case j == 0:
			g += a
		}
		return g
	})
}

// asinLike sets y to asin(x) (y_0 = y0): asin' = 1/sqrt(1 - x²).
func asinLike(y, x []float64, w *SeriesWork, y0 float64) {
	n := len(y)
	s, u := w.take(n), w.take(n)
	squareSeries(s, x, w)
	for j := range s {
		s[j] = -s[j]
	}
	s[0]++
	sqrtSeries(u, s, w)
	inverseLike(y, x, u, y0, w)
}

// Unary kernels: y = f(x) on the K coefficients of one element, with
// len(y) = len(x) = K ≥ 1.

// SeriesFunc1 is the signature of the unary kernels.
type SeriesFunc1 func(y, x []float64, w *SeriesWork)

// SeriesExp sets y to the series of exp(x).
func SeriesExp(y, x []float64, w *SeriesWork) {
	mark := w.off
	expSeries(y, x, math.Exp(x[0]), w)
	w.release(mark)
}

// SeriesLog sets y to the series of log(x).
func SeriesLog(y, x []float64, w *SeriesWork) {
	mark := w.off
	logSeries(y, x, w)
	w.release(mark)
}

// SeriesSqrt sets y to the series of sqrt(x).
func SeriesSqrt(y, x []float64, w *SeriesWork) {
	mark := w.off
	sqrtSeries(y, x, w)
	w.release(mark)
}

// SeriesSin sets y to the series of sin(x).
func SeriesSin(y, x []float64, w *SeriesWork) { sincosOne(y, x, false, true, w) }

// SeriesCos sets y to the series of cos(x).
func SeriesCos(y, x []float64, w *SeriesWork) { sincosOne(y, x, false, false, w) }

// SeriesSinh sets y to the series of sinh(x).
func SeriesSinh(y, x []float64, w *SeriesWork) { sincosOne(y, x, true, true, w) }

// SeriesCosh sets y to the series of cosh(x).
func SeriesCosh(y, x []float64, w *SeriesWork) { sincosOne(y, x, true, false, w) }

// sincosOne sets y to sin(x) (sin) or cos(x), or with hyp to sinh(x) or
// cosh(x), computing the other into scratch.
func sincosOne(y, x []float64, hyp, sin bool, w *SeriesWork) {
	mark := w.off
	other := w.take(len(y))
	if sin {
		sincos(y, other, x, hyp, w)
	} else {
		sincos(other, y, x, hyp, w)
	}
	w.release(mark)
}

// SeriesTan sets y to the series of tan(x): tan' = 1 + tan².
func SeriesTan(y, x []float64, w *SeriesWork) {
	mark := w.off
	squares(y, x, w, math.Tan(x[0]), 1, 1, false)
	w.release(mark)
}

// SeriesTanh sets y to the series of tanh(x): tanh' = 1 - tanh².
func SeriesTanh(y, x []float64, w *SeriesWork) {
	mark := w.off
	squares(y, x, w, math.Tanh(x[0]), 1, -1, false)
	w.release(mark)
}

// SeriesSigmoid sets y to the series of Sigmoid(x): σ' = σ - σ².
func SeriesSigmoid(y, x []float64, w *SeriesWork) {
	mark := w.off
	squares(y, x, w, Sigmoid(x[0]), 0, -1, true)
	w.release(mark)
}

// SeriesSoftplus sets y to the series of Softplus(x): softplus' = σ.
func SeriesSoftplus(y, x []float64, w *SeriesWork) {
	mark := w.off
	s := w.take(len(y))
	SeriesSigmoid(s, x, w)
	integrate(y, x, s, w, Softplus(x[0]))
	w.release(mark)
}

// SeriesAtan sets y to the series of atan(x): atan' = 1/(1 + x²).
func SeriesAtan(y, x []float64, w *SeriesWork) {
	mark := w.off
	u := w.take(len(y))
	squareSeries(u, x, w)
	u[0]++
	inverseLike(y, x, u, math.Atan(x[0]), w)
	w.release(mark)
}

// SeriesAsin sets y to the series of asin(x).
func SeriesAsin(y, x []float64, w *SeriesWork) {
	mark := w.off
	asinLike(y, x, w, math.Asin(x[0]))
	w.release(mark)
}

// SeriesAcos sets y to the series of acos(x) = π/2 - asin(x).
func SeriesAcos(y, x []float64, w *SeriesWork) {
	mark := w.off
	asinLike(y, x, w, 0)
	for j := range y {
		y[j] = -y[j]
	}
	y[0] = math.Acos(x[0])
	w.release(mark)
}

// SeriesLog1p sets y to the series of log1p(x): log1p' = 1/(1 + x).
func SeriesLog1p(y, x []float64, w *SeriesWork) {
	mark := w.off
	u := w.take(len(y))
	copy(u, x)
	u[0]++
	inverseLike(y, x, u, math.Log1p(x[0]), w)
	w.release(mark)
}

// SeriesExpm1 sets y to the series of expm1(x): that of exp(x) but for an
// accurate coefficient 0.
func SeriesExpm1(y, x []float64, w *SeriesWork) {
	mark := w.off
	expSeries(y, x, math.Exp(x[0]), w)
	y[0] = math.Expm1(x[0])
	w.release(mark)
}

// SeriesErf sets y to the series of erf(x): erf' = 2/√π · exp(-x²).
func SeriesErf(y, x []float64, w *SeriesWork) {
	mark := w.off
	n := len(y)
	s, g := w.take(n), w.take(n)
	squareSeries(s, x, w)
	for j := range s {
		s[j] = -s[j]
	}
	expSeries(g, s, math.Exp(s[0]), w)
	for j := range g {
		g[j] *= 2 / math.SqrtPi
	}
	integrate(y, x, g, w, math.Erf(x[0]))
	w.release(mark)
}

// SeriesAbs sets y to sign(x_0)·x, with y_0 = |x_0|: abs'(0) = 0, as in
// the derivative rule.
func SeriesAbs(y, x []float64, w *SeriesWork) {
	sgn := Sign(x[0])
	for j := range y {
		y[j] = sgn * x[j]
	}
	y[0] = math.Abs(x[0])
}

// SeriesRelu sets y to x where x_0 > 0, else to zero.
func SeriesRelu(y, x []float64, w *SeriesWork) {
	if x[0] > 0 {
		copy(y, x)
		return
	}
	clear(y)
}

// Binary kernels: z = f(x, y) on K coefficients; xs and ys say which
// operands are series.

// SeriesFunc2 is the signature of the binary kernels.
type SeriesFunc2 func(z, x, y []float64, xs, ys bool, w *SeriesWork)

// SeriesAdd sets z to x + y.
func SeriesAdd(z, x, y []float64, xs, ys bool, w *SeriesWork) {
	for j := range z {
		z[j] = x[j] + y[j]
	}
}

// SeriesSub sets z to x - y.
func SeriesSub(z, x, y []float64, xs, ys bool, w *SeriesWork) {
	for j := range z {
		z[j] = x[j] - y[j]
	}
}

// SeriesMul sets z to x·y: the Cauchy product z_j = Σ_{i≤j} x_i y_{j-i} of
// two series, a scaling where one operand is a constant.
func SeriesMul(z, x, y []float64, xs, ys bool, w *SeriesWork) {
	switch {
	case !xs:
		for j := range z {
			z[j] = x[0] * y[j]
		}
	case !ys:
		for j := range z {
			z[j] = x[j] * y[0]
		}
	default:
		mark := w.off
		cauchy(z, x, y, w)
		w.release(mark)
	}
}

// SeriesDiv sets z to x/y.
func SeriesDiv(z, x, y []float64, xs, ys bool, w *SeriesWork) {
	if !ys {
		for j := range z {
			z[j] = x[j] / y[0]
		}
		return
	}
	mark := w.off
	seriesQuotient(z, x, y, w)
	w.release(mark)
}

// SeriesPow sets z to x^y. A constant exponent uses the power recurrence
// (exact also at x_0 = 0, see powConst); a constant base c gives
// exp(y·log c) (zero beyond coefficient 0 where c = 0, as the derivative
// rule has it); the general case is exp(y·log x). An operand whose
// coefficients beyond 0 are all zero counts as a constant.
func SeriesPow(z, x, y []float64, xs, ys bool, w *SeriesWork) {
	mark := w.off
	pow(z, x, y, xs, ys, w)
	w.release(mark)
}

func pow(z, x, y []float64, xs, ys bool, w *SeriesWork) {
	n := len(z)
	if !ys || allZero(y[1:]) {
		powConst(z, x, y[0], w)
		return
	}
	if !xs || allZero(x[1:]) {
		c := x[0]
		if c == 0 {
			clear(z)
			z[0] = math.Pow(c, y[0])
			return
		}
		p := w.take(n)
		lc := math.Log(c)
		for j := range p {
			p[j] = y[j] * lc
		}
		expSeries(z, p, math.Pow(c, y[0]), w)
		return
	}
	l, p := w.take(n), w.take(n)
	logSeries(l, x, w)
	cauchy(p, y, l, w)
	expSeries(z, p, math.Pow(x[0], y[0]), w)
}

// powRec sets z to u^r for u_0 ≠ 0: from u·z' = r·u'·z,
// z_j = Σ_{i=1..j} (r·i - (j-i))·u_i·z_{j-i} / (j·u_0)
//
//	= ((r+1)·Σ i·u_i·z_{j-i} - j·Σ u_i·z_{j-i}) / (j·u_0).
func powRec(z, u []float64, r float64, w *SeriesWork) {
	ud := weighted(w, u)
	zr := newRev(w, len(z))
	z[0] = math.Pow(u[0], r)
	zr.set(0, z[0])
	for j := 1; j < len(z); j++ {
		s := (r+1)*zr.conv(ud, 1, j, j) - float64(j)*zr.conv(u, 1, j, j)
		z[j] = s / (float64(j) * u[0])
		zr.set(j, z[j])
	}
}

// powConst sets z to x^r for a constant r. Where x_0 = 0 the recurrence
// divides by zero, so the series is factored: x = t^v·u with u_0 ≠ 0 gives
// x^r = t^(v·r)·u^r, a power series when v·r is an integer (r > 0). Other
// cases have no power series (a pole or a fractional power): their
// coefficients that do not exist are NaN; so are those that would need
// coefficients of x beyond the truncation.
func powConst(z, x []float64, r float64, w *SeriesWork) {
	n := len(z)
	switch {
	case r == 0:
		clear(z)
		z[0] = 1
		return
	case r == 1:
		copy(z, x)
		return
	case r == 2:
		squareSeries(z, x, w)
		return
	case x[0] != 0:
		powRec(z, x, r, w)
		return
	}
	z0 := math.Pow(x[0], r)
	v := 0
	for j := 1; j < n; j++ {
		if x[j] != 0 {
			v = j
			break
		}
	}
	fill := func(f func(j int) float64) {
		for j := 1; j < n; j++ {
			z[j] = f(j)
		}
		z[0] = z0
	}
	nan := math.NaN()
	switch {
	case v == 0 && r > 0: // x vanishes to the order kept
		fill(func(int) float64 { return 0 })
		return
	case v == 0 || r < 0:
		fill(func(int) float64 { return nan })
		return
	}
	m := float64(v) * r
	if m != math.Trunc(m) {
		fill(func(j int) float64 {
			if float64(j) < m {
				return 0
			}
			return nan
		})
		return
	}
	mi := int(m)
	need := n - mi // coefficients of u^r used: 0 .. need-1
	if need <= 0 {
		fill(func(int) float64 { return 0 })
		return
	}
	known := min(need, n-v) // u_i = x_{v+i} is known for i < n-v
	ur := w.take(need)
	powRec(ur[:known], x[v:v+known], r, w)
	for i := known; i < need; i++ {
		ur[i] = nan
	}
	fill(func(j int) float64 {
		if j < mi {
			return 0
		}
		return ur[j-mi]
	})
}

// SeriesAtan2 sets z to the series of atan2(x, y), the angle of the point
// (y, x), from z' = (y·x' - x·y')/(x² + y²): with u = x² + y² and
// num_k = Σ_{i≤k} (k+1-i)·(y_i·x_{k+1-i} - x_i·y_{k+1-i}), the coefficient
// k of y·x' - x·y', z_j = (num/u)_{j-1} / j.
func SeriesAtan2(z, x, y []float64, xs, ys bool, w *SeriesWork) {
	n := len(z)
	z[0] = math.Atan2(x[0], y[0])
	if n == 1 {
		return
	}
	mark := w.off
	m := n - 1
	xr, yr := revOf(w, x), revOf(w, y)
	xdr, ydr := revOf(w, weighted(w, x)), revOf(w, weighted(w, y))
	u, num, q := w.take(m), w.take(m), w.take(m)
	for k := 0; k < m; k++ {
		u[k] = xr.conv(x, 0, k, k) + yr.conv(y, 0, k, k)
		num[k] = xdr.conv(y, 0, k, k+1) - ydr.conv(x, 0, k, k+1)
	}
	seriesQuotient(q, num, u, w)
	for j := 1; j < n; j++ {
		z[j] = q[j-1] / float64(j)
	}
	w.release(mark)
}

// SeriesMod sets z to x - q·y with q = trunc(x_0/y_0) =
// (x_0 - mod(x_0, y_0))/y_0, a constant (the derivative rule's
// -(a - y)/b), and z_0 = mod(x_0, y_0).
func SeriesMod(z, x, y []float64, xs, ys bool, w *SeriesWork) {
	z0 := math.Mod(x[0], y[0])
	q := (x[0] - z0) / y[0]
	for j := range z {
		z[j] = x[j] - q*y[j]
	}
	z[0] = z0
}

// SeriesMax sets z to the operand whose coefficient 0 Max2 picks (x on
// ties, a NaN if there is one).
func SeriesMax(z, x, y []float64, xs, ys bool, w *SeriesWork) {
	if y[0] > x[0] || math.IsNaN(y[0]) {
		copy(z, y)
		return
	}
	copy(z, x)
}

// SeriesMin sets z to the operand whose coefficient 0 Min2 picks.
func SeriesMin(z, x, y []float64, xs, ys bool, w *SeriesWork) {
	if y[0] < x[0] || math.IsNaN(y[0]) {
		copy(z, y)
		return
	}
	copy(z, x)
}

// SeriesProd sets z to the series of the product of all elements of x, a
// series of an array stored coefficient-major: K = len(z) rows of
// len(x)/K elements. The product of no elements is 1.
func SeriesProd(z, x []float64, w *SeriesWork) {
	k := len(z)
	if k == 0 {
		return
	}
	start := w.off
	a := SeriesArg{Series: true, F: x, N: len(x) / k}
	xbuf, t := w.take(k), w.take(k)
	clear(z)
	z[0] = 1
	mark := w.off
	for e := 0; e < a.N; e++ {
		w.off = mark
		cauchy(t, z, a.coefs(xbuf, k, e), w)
		copy(z, t)
	}
	w.release(start)
}

// SeriesArg is one operand of SeriesMap2: a series of K coefficient rows
// of N elements each, or a constant of N elements (its coefficient 0; the
// others are zero). An operand of one element (N = 1) broadcasts.
type SeriesArg struct {
	Series bool
	F      []float64 // the storage; nil for a scalar constant
	C      float64   // the scalar constant, where F is nil
	N      int       // elements per coefficient
}

// contiguous reports whether coefs needs no buffer.
func (a *SeriesArg) contiguous() bool { return a.Series && a.N == 1 }

// coefs returns element e's k coefficients: a view of the storage when
// they are contiguous, else gathered into buf.
func (a *SeriesArg) coefs(buf []float64, k, e int) []float64 {
	if a.N == 1 {
		e = 0
	}
	switch {
	case a.F == nil:
		clear(buf)
		buf[0] = a.C
		return buf
	case !a.Series:
		clear(buf)
		buf[0] = a.F[e]
		return buf
	case a.N == 1:
		return a.F[:k:k]
	}
	for j := range buf {
		buf[j] = a.F[j*a.N+e]
	}
	return buf
}

// SeriesMap1 applies f to every element of x, a series of K rows of
// len(x)/K elements, storing the result in y of the same layout. Elements
// are strided, so each is gathered into a buffer, f runs on it, and the
// result is scattered; a series of a scalar (one element) runs f in place.
func SeriesMap1(y, x []float64, k int, f SeriesFunc1, w *SeriesWork) {
	_ = SeriesMap1Polled(nil, y, x, k, f, w)
}

// SeriesMap1Polled is SeriesMap1 under m: the elements, each independent
// of the others, are done in pieces of about PollChunk/k² elements with a
// look at m's context between them.
func SeriesMap1Polled(m *Machine, y, x []float64, k int, f SeriesFunc1, w *SeriesWork) error {
	checkLen("SeriesMap1", len(y), len(x))
	if k == 0 {
		return nil
	}
	a := SeriesArg{Series: true, F: x, N: len(x) / k}
	return Pieces(m, a.N, k*k, func(lo, hi int) error {
		mapSeries(y, k, a.N, lo, hi, &a, nil, f, nil, w)
		return nil
	})
}

// SeriesMap2 applies f to every element of x and y, storing the result in
// z: K rows of len(z)/K elements, the element count of the operands that
// are not scalars.
func SeriesMap2(z []float64, k int, x, y SeriesArg, f SeriesFunc2, w *SeriesWork) {
	_ = SeriesMap2Polled(nil, z, k, x, y, f, w)
}

// SeriesMap2Polled is SeriesMap2 under m, in pieces as SeriesMap1Polled.
func SeriesMap2Polled(m *Machine, z []float64, k int, x, y SeriesArg, f SeriesFunc2, w *SeriesWork) error {
	if k == 0 {
		return nil
	}
	n := len(z) / k
	x.check(k, n)
	y.check(k, n)
	return Pieces(m, n, k*k, func(lo, hi int) error {
		mapSeries(z, k, n, lo, hi, &x, &y, nil, f, w)
		return nil
	})
}

// check panics unless a is an operand of n elements or a broadcast one.
func (a *SeriesArg) check(k, n int) {
	if a.N != 1 {
		checkLen("SeriesMap2", n, a.N)
	}
	switch {
	case a.Series:
		checkLen("SeriesMap2", k*a.N, len(a.F))
	case a.F != nil:
		checkLen("SeriesMap2", a.N, len(a.F))
	}
}

// mapSeries runs f1(x) or f2(x, y) for elements lo to hi-1 of the n
// elements of a result of k coefficients stored in out: into out itself
// for one element, otherwise into a cleared buffer scattered to out
// afterwards.
func mapSeries(out []float64, k, n, lo, hi int, x, y *SeriesArg, f1 SeriesFunc1, f2 SeriesFunc2, w *SeriesWork) {
	start := w.off
	var xbuf, ybuf, zbuf []float64
	if !x.contiguous() {
		xbuf = w.take(k)
	}
	if y != nil && !y.contiguous() {
		ybuf = w.take(k)
	}
	if n > 1 {
		zbuf = w.take(k)
	}
	mark := w.off
	for e := lo; e < hi; e++ {
		w.off = mark
		z := out[:k:k]
		if n > 1 {
			clear(zbuf)
			z = zbuf
		}
		if f1 != nil {
			f1(z, x.coefs(xbuf, k, e), w)
		} else {
			f2(z, x.coefs(xbuf, k, e), y.coefs(ybuf, k, e), x.Series, y.Series, w)
		}
		if n > 1 {
			for j, v := range zbuf {
				out[j*n+e] = v
			}
		}
	}
	w.release(start)
}
