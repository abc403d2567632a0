package ir

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/nabla-lang/nabla/runtime"
)

// Series primitives: the arithmetic of truncated power series that Taylor
// mode (package ad, taylor.go) emits. Users cannot name them; they appear
// in `nabla ir --stage ad` output.
//
// A series of K coefficients of a value of type T is a value of type [K]T,
// coefficient-major: coefficient j is s[j], so a series of an [n]f64 is a
// [K][n]f64 and coefficient-wise operations are operations on rows. The
// nonlinear primitives run the classic O(K²) recurrences (Griewank and
// Walther, "Evaluating Derivatives", ch. 13) natively, independently for
// every element of the trailing shape.
//
// Binary primitives take an Aux SeriesMode saying which operands are
// series and which are constants (values that do not depend on the series
// variable: their coefficient 0 is the value, the others zero), so that
// x + c and c·x cost O(K) and a constant is never expanded into a series.
// Element shapes must be equal, or one of them a scalar, which broadcasts.
//
// Linear structural primitives (index, slice, sum, dot with a constant
// side, ...) are applied per coefficient by series_coef, and bilinear ones
// with two series operands by series_cauchy.
//
// The series primitives are deliberately not in the table of Register:
// they are internal to Taylor mode, have no derivative rules (package ad
// differentiates their recurrences written in ordinary IR instead:
// ad/lower_series.go), and are listed by SeriesPrims.

// SeriesMode says which operands of a binary series primitive are series
// (s) and which are constants (c).
type SeriesMode uint8

const (
	SeriesSS SeriesMode = iota // both operands are series
	SeriesSC                   // a series and a constant
	SeriesCS                   // a constant and a series
)

func (m SeriesMode) String() string { return [...]string{"ss", "sc", "cs"}[m] }

// isSeries reports whether operand i (0 or 1) is a series.
func (m SeriesMode) isSeries(i int) bool {
	switch m {
	case SeriesSC:
		return i == 0
	case SeriesCS:
		return i == 1
	}
	return true
}

func seriesModeOf(aux any) (SeriesMode, error) {
	switch a := aux.(type) {
	case nil:
		return SeriesSS, nil
	case SeriesMode:
		if a <= SeriesCS {
			return a, nil
		}
	}
	return 0, fmt.Errorf("bad series mode %v", aux)
}

// SeriesCoef is the Aux of series_coef and series_cauchy: the primitive
// applied per coefficient (with its own Aux), and which arguments are
// series (the others are passed unchanged to every application).
type SeriesCoef struct {
	Prim   *Prim
	Aux    any
	Series []bool
}

func (c *SeriesCoef) String() string {
	var b strings.Builder
	b.WriteString(c.Prim.Name)
	if c.Aux != nil {
		b.WriteString("[" + formatAux(c.Aux) + "]")
	}
	b.WriteByte(' ')
	for _, s := range c.Series {
		if s {
			b.WriteByte('s')
		} else {
			b.WriteByte('c')
		}
	}
	return b.String()
}

var seriesPrims []*Prim

// seriesPrim records a series primitive (see the note above on why it is
// not registered).
func seriesPrim(p *Prim) *Prim {
	seriesPrims = append(seriesPrims, p)
	return p
}

// SeriesPrims lists the series primitives of Taylor mode.
func SeriesPrims() []*Prim { return append([]*Prim(nil), seriesPrims...) }

// seriesOf maps an elementwise primitive to its series version.
var seriesOf = map[*Prim]*Prim{}

// SeriesOf returns the series version of a smooth (or piecewise smooth)
// elementwise f64 primitive, or nil. Unary ones take a series; binary ones
// take two operands and an Aux SeriesMode.
func SeriesOf(p *Prim) *Prim { return seriesOf[p] }

// seriesOperandType checks that t is a series [K]T of an f64 tensor T.
func seriesOperandType(name string, i int, t Type) (*Array, error) {
	a, ok := t.(*Array)
	if !ok || !IsF64Tensor(t) {
		return nil, fmt.Errorf("%s: operand %d has type %s; want a series [K]T of f64 or an f64 array T", name, i+1, t)
	}
	return a, nil
}

// ---- types ----

func seriesUnaryType(name string) func(args []Type, _ any) (Type, error) {
	return func(args []Type, _ any) (Type, error) {
		a, err := seriesOperandType(name, 0, args[0])
		if err != nil {
			return nil, err
		}
		return a, nil
	}
}

// seriesBinaryType: the result is [K] of the broadcast element shape.
func seriesBinaryType(name string) func(args []Type, aux any) (Type, error) {
	return func(args []Type, aux any) (Type, error) {
		mode, err := seriesModeOf(aux)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		var elems [2]Type
		var kd Dim
		found := false
		for i := 0; i < 2; i++ {
			if mode.isSeries(i) {
				a, err := seriesOperandType(name, i, args[i])
				if err != nil {
					return nil, err
				}
				if found && a.Dim.DiffersStatically(kd) {
					return nil, fmt.Errorf("%s: series of %s and %s coefficients", name, kd, a.Dim)
				}
				if !found {
					kd, found = a.Dim, true
				}
				elems[i] = a.Elem
				continue
			}
			if !IsF64Tensor(args[i]) {
				return nil, fmt.Errorf("%s: operand %d has type %s; want f64 or an f64 array", name, i+1, args[i])
			}
			elems[i] = args[i]
		}
		switch {
		case Rank(elems[0]) == 0:
			return ArrayOf(kd, elems[1]), nil
		case Rank(elems[1]) == 0:
			return ArrayOf(kd, elems[0]), nil
		case !Equal(elems[0], elems[1]):
			return nil, fmt.Errorf("%s: shapes %s and %s differ", name, elems[0], elems[1])
		}
		return ArrayOf(kd, elems[0]), nil
	}
}

// ---- workspace and shared kernels ----

// sws hands out zeroed scratch slices; reset makes its storage reusable.
type sws struct {
	buf []float64
	off int
}

func (w *sws) take(n int) []float64 {
	if w.off+n > len(w.buf) {
		w.buf = make([]float64, 2*(w.off+n)+16)
		w.off = 0
	}
	s := w.buf[w.off : w.off+n : w.off+n]
	w.off += n
	clear(s)
	return s
}

func (w *sws) reset() { w.off = 0 }

// dot is Σ a_i·b_i (len(b) ≥ len(a)): an unrolled loop for the short
// vectors of low orders, the runtime's kernel for long ones.
func dot(a, b []float64) float64 {
	if len(a) >= 16 {
		return runtime.Dot(a, b[:len(a)])
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

func newRev(w *sws, k int) rev { return rev(w.take(k)) }

// revOf is g reversed.
func revOf(w *sws, g []float64) rev {
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
	return dot(x[lo:hi+1], r[k-1-j+lo:])
}

// cauchy sets z to the truncated product x·y: z_j = Σ_{i≤j} x_i y_{j-i}.
func cauchy(z, x, y []float64, w *sws) {
	yr := revOf(w, y)
	for j := range z {
		z[j] = yr.conv(x, 0, j, j)
	}
}

// seriesQuotient sets q to a/b: q_j = (a_j - Σ_{i=1..j} b_i q_{j-i}) / b_0.
func seriesQuotient(q, a, b []float64, w *sws) {
	qr := newRev(w, len(q))
	for j := range q {
		q[j] = (a[j] - qr.conv(b, 1, j, j)) / b[0]
		qr.set(j, q[j])
	}
}

// weighted is xd_i = i·x_i, the coefficients of t·x'(t).
func weighted(w *sws, x []float64) []float64 {
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
func ode(y, x []float64, w *sws, y0 float64, next func(j int) float64) {
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
func integrate(y, x, g []float64, w *sws, y0 float64) {
	xd := weighted(w, x)
	gr := revOf(w, g)
	y[0] = y0
	for j := 1; j < len(y); j++ {
		y[j] = integ(xd, gr, j)
	}
}

// inverseLike sets y to the solution of u·y' = x' with y_0 = y0:
// y_j = (x_j - (1/j) Σ_{i=1..j-1} i·y_i·u_{j-i}) / u_0.
func inverseLike(y, x, u []float64, y0 float64, w *sws) {
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
func expSeries(y, x []float64, y0 float64, w *sws) {
	ode(y, x, w, y0, func(j int) float64 { return y[j] })
}

func logSeries(y, x []float64, w *sws) { inverseLike(y, x, x, math.Log(x[0]), w) }

// sqrtSeries: y_j = (x_j - Σ_{i=1..j-1} y_i y_{j-i}) / (2 y_0).
func sqrtSeries(y, x []float64, w *sws) {
	yr := newRev(w, len(y))
	y[0] = math.Sqrt(x[0])
	yr.set(0, y[0])
	for j := 1; j < len(y); j++ {
		y[j] = (x[j] - yr.conv(y, 1, j-1, j)) / (2 * y[0])
		yr.set(j, y[j])
	}
}

// sincos sets s and c to sin(x) and cos(x) (hyp: sinh and cosh).
func sincos(s, c, x []float64, hyp bool, w *sws) {
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
func squareSeries(z, x []float64, w *sws) { cauchy(z, x, x, w) }

// ---- unary kernels: y = f(x) on one element's K coefficients ----

type unaryKernel func(y, x []float64, w *sws)

func kExp(y, x []float64, w *sws)  { expSeries(y, x, math.Exp(x[0]), w) }
func kLog(y, x []float64, w *sws)  { logSeries(y, x, w) }
func kSqrt(y, x []float64, w *sws) { sqrtSeries(y, x, w) }
func kSin(y, x []float64, w *sws)  { sincos(y, w.take(len(y)), x, false, w) }
func kCos(y, x []float64, w *sws)  { sincos(w.take(len(y)), y, x, false, w) }
func kSinh(y, x []float64, w *sws) { sincos(y, w.take(len(y)), x, true, w) }
func kCosh(y, x []float64, w *sws) { sincos(w.take(len(y)), y, x, true, w) }

// squares solves y' = (a + b·y²)·x' (tan: a = b = 1; tanh: a = 1, b = -1)
// or, with lin, y' = (y + b·y²)·x' (sigmoid: b = -1).
func squares(y, x []float64, w *sws, y0, a, b float64, lin bool) {
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

func kTan(y, x []float64, w *sws)     { squares(y, x, w, math.Tan(x[0]), 1, 1, false) }
func kTanh(y, x []float64, w *sws)    { squares(y, x, w, math.Tanh(x[0]), 1, -1, false) }
func kSigmoid(y, x []float64, w *sws) { squares(y, x, w, Sigmoid(x[0]), 0, -1, true) }

func kSoftplus(y, x []float64, w *sws) { // softplus' = σ
	s := w.take(len(y))
	kSigmoid(s, x, w)
	integrate(y, x, s, w, Softplus(x[0]))
}

func kAtan(y, x []float64, w *sws) { // atan' = 1/(1 + x²)
	u := w.take(len(y))
	squareSeries(u, x, w)
	u[0]++
	inverseLike(y, x, u, math.Atan(x[0]), w)
}

// asinLike sets y to asin(x) (y_0 = y0): asin' = 1/sqrt(1 - x²).
func asinLike(y, x []float64, w *sws, y0 float64) {
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

func kAsin(y, x []float64, w *sws) { asinLike(y, x, w, math.Asin(x[0])) }

func kAcos(y, x []float64, w *sws) { // acos = π/2 - asin
	asinLike(y, x, w, 0)
	for j := range y {
		y[j] = -y[j]
	}
	y[0] = math.Acos(x[0])
}

func kLog1p(y, x []float64, w *sws) { // log1p' = 1/(1 + x)
	u := w.take(len(y))
	copy(u, x)
	u[0]++
	inverseLike(y, x, u, math.Log1p(x[0]), w)
}

func kExpm1(y, x []float64, w *sws) {
	expSeries(y, x, math.Exp(x[0]), w)
	y[0] = math.Expm1(x[0])
}

func kErf(y, x []float64, w *sws) { // erf' = 2/√π · exp(-x²)
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
}

// kAbs is sign(x_0)·x: abs'(0) = 0, as in the derivative rule.
func kAbs(y, x []float64, _ *sws) {
	sgn := PrimSign.F1(x[0])
	for j := range y {
		y[j] = sgn * x[j]
	}
	y[0] = math.Abs(x[0])
}

// kRelu is x where x_0 > 0, else zero.
func kRelu(y, x []float64, _ *sws) {
	if x[0] > 0 {
		copy(y, x)
		return
	}
	clear(y)
}

// ---- binary kernels: z = f(x, y); xs, ys say which are series (a
// constant arrives as [c, 0, ..., 0]) ----

type binaryKernel func(z, x, y []float64, xs, ys bool, w *sws)

func kAdd(z, x, y []float64, _, _ bool, _ *sws) {
	for j := range z {
		z[j] = x[j] + y[j]
	}
}

func kSub(z, x, y []float64, _, _ bool, _ *sws) {
	for j := range z {
		z[j] = x[j] - y[j]
	}
}

func kMul(z, x, y []float64, xs, ys bool, w *sws) {
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
		cauchy(z, x, y, w)
	}
}

func kDiv(z, x, y []float64, _, ys bool, w *sws) {
	if !ys {
		for j := range z {
			z[j] = x[j] / y[0]
		}
		return
	}
	seriesQuotient(z, x, y, w)
}

func allZero(x []float64) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

// kPow is x^y. A constant exponent uses the power recurrence (exact also
// at x_0 = 0, see powConst); a constant base c gives exp(y·log c) (zero
// beyond coefficient 0 where c = 0, as the derivative rule has it); the
// general case is exp(y·log x).
func kPow(z, x, y []float64, xs, ys bool, w *sws) {
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
func powRec(z, u []float64, r float64, w *sws) {
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
func powConst(z, x []float64, r float64, w *sws) {
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

// kAtan2 is atan2(x, y) (the angle of the point (y, x)), from
// z' = (y·x' - x·y')/(x² + y²): with u = x² + y² and
// num_k = Σ_{i≤k} (k+1-i)·(y_i·x_{k+1-i} - x_i·y_{k+1-i}), the coefficient
// k of y·x' - x·y', z_j = (num/u)_{j-1} / j.
func kAtan2(z, x, y []float64, _, _ bool, w *sws) {
	n := len(z)
	z[0] = math.Atan2(x[0], y[0])
	if n == 1 {
		return
	}
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
}

// kMod is x - q·y with q = trunc(x_0/y_0) = (x_0 - mod(x_0, y_0))/y_0, a
// constant (the derivative rule's -(a - y)/b).
func kMod(z, x, y []float64, _, _ bool, _ *sws) {
	z0 := math.Mod(x[0], y[0])
	q := (x[0] - z0) / y[0]
	for j := range z {
		z[j] = x[j] - q*y[j]
	}
	z[0] = z0
}

// kMax and kMin pick the series whose coefficient 0 the primitive picks
// (x on ties, a NaN if there is one).
func kMax(z, x, y []float64, _, _ bool, _ *sws) {
	if y[0] > x[0] || math.IsNaN(y[0]) {
		copy(z, y)
		return
	}
	copy(z, x)
}

func kMin(z, x, y []float64, _, _ bool, _ *sws) {
	if y[0] < x[0] || math.IsNaN(y[0]) {
		copy(z, y)
		return
	}
	copy(z, x)
}

// ---- evaluators of elementwise series primitives ----

// soperand is one operand of an elementwise series primitive at run time:
// a series (K rows of n elements) or a constant (n elements).
type soperand struct {
	series bool
	f      []float64 // the storage (nil for a scalar constant, in c)
	c      float64
	n      int   // elements per coefficient
	k      int   // coefficients (series only)
	shape  []int // element shape
}

func readOperand(v runtime.Value, series, scalar bool) soperand {
	if scalar {
		return soperand{c: v.F, n: 1}
	}
	a := v.Array()
	if series {
		return soperand{series: true, f: a.F, n: a.RowSize(), k: a.Shape[0], shape: a.Shape[1:]}
	}
	return soperand{f: a.F, n: a.N(), shape: a.Shape}
}

// contiguous reports whether coefs needs no buffer.
func (o *soperand) contiguous() bool { return o.series && o.n == 1 }

// coefs returns element e's k coefficients: a view of the storage when
// they are contiguous, else gathered into buf.
func (o *soperand) coefs(buf []float64, e int) []float64 {
	if o.n == 1 {
		e = 0
	}
	switch {
	case o.f == nil:
		clear(buf)
		buf[0] = o.c
		return buf
	case !o.series:
		clear(buf)
		buf[0] = o.f[e]
		return buf
	case o.n == 1:
		return o.f[:o.k:o.k]
	}
	for j := range buf {
		buf[j] = o.f[j*o.n+e]
	}
	return buf
}

// swsPool recycles the workspaces of series kernels.
var swsPool = sync.Pool{New: func() any { return new(sws) }}

// elementLoop runs a kernel for each of the n elements of a result of k
// coefficients stored in out. bufs operands need gathering into a buffer;
// step(z, e, bufs, w) runs the kernel for element e into z (cleared), with
// the workspace w reset.
type elementLoop struct {
	w    *sws
	z    []float64
	bufs [2][]float64
	mark int
}

func newElementLoop(k, n int, needBuf [2]bool) elementLoop {
	l := elementLoop{w: swsPool.Get().(*sws)}
	l.w.reset()
	for i, need := range needBuf {
		if need {
			l.bufs[i] = l.w.take(k)
		}
	}
	if n > 1 {
		l.z = l.w.take(k)
	}
	l.mark = l.w.off
	return l
}

// dst is where element e's coefficients go before scatter.
func (l *elementLoop) dst(out []float64, k, n int) []float64 {
	l.w.off = l.mark
	if n == 1 {
		return out[:k:k]
	}
	clear(l.z)
	return l.z
}

func (l *elementLoop) scatter(out []float64, n, e int) {
	if n == 1 {
		return
	}
	for j, v := range l.z {
		out[j*n+e] = v
	}
}

func (l *elementLoop) done() { swsPool.Put(l.w) }

func evalSeriesUnary(kern unaryKernel) func(*Site) (Impl, error) {
	return func(*Site) (Impl, error) {
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			a := readOperand(args[0], true, false)
			out, err := runtime.NewF64(m, append([]int{a.k}, a.shape...)...)
			if err != nil || a.k == 0 {
				return runtime.Arr(out), err
			}
			if err := m.Step(int64(a.k * a.k * a.n)); err != nil {
				return errValue, err
			}
			k, n := a.k, a.n
			l := newElementLoop(k, n, [2]bool{!a.contiguous()})
			for e := 0; e < n; e++ {
				z := l.dst(out.F, k, n)
				kern(z, a.coefs(l.bufs[0], e), l.w)
				l.scatter(out.F, n, e)
			}
			l.done()
			return runtime.Arr(out), nil
		}, nil
	}
}

func evalSeriesBinary(name string, kern binaryKernel) func(*Site) (Impl, error) {
	return func(s *Site) (Impl, error) {
		mode, err := seriesModeOf(s.Aux)
		if err != nil {
			return nil, err
		}
		xs, ys := mode.isSeries(0), mode.isSeries(1)
		scalar := [2]bool{!xs && Rank(s.Args[0]) == 0, !ys && Rank(s.Args[1]) == 0}
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			a := readOperand(args[0], xs, scalar[0])
			b := readOperand(args[1], ys, scalar[1])
			k := a.k
			if !xs {
				k = b.k
			} else if ys && b.k != k {
				return errValue, fmt.Errorf("%s: series of %d and %d coefficients", name, a.k, b.k)
			}
			shape, n := a.shape, a.n
			switch {
			case len(a.shape) > 0 && len(b.shape) > 0:
				if !runtime.SameShape(a.shape, b.shape) {
					return errValue, fmt.Errorf("%s: shapes %s and %s differ", name, runtime.ShapeString(a.shape), runtime.ShapeString(b.shape))
				}
			case len(b.shape) > 0:
				shape, n = b.shape, b.n
			}
			out, err := runtime.NewF64(m, append([]int{k}, shape...)...)
			if err != nil || k == 0 {
				return runtime.Arr(out), err
			}
			if err := m.Step(int64(k * k * n)); err != nil {
				return errValue, err
			}
			l := newElementLoop(k, n, [2]bool{!a.contiguous(), !b.contiguous()})
			for e := 0; e < n; e++ {
				z := l.dst(out.F, k, n)
				kern(z, a.coefs(l.bufs[0], e), b.coefs(l.bufs[1], e), xs, ys, l.w)
				l.scatter(out.F, n, e)
			}
			l.done()
			return runtime.Arr(out), nil
		}, nil
	}
}

func seriesUnary(name, doc string, of *Prim, kern unaryKernel) *Prim {
	p := seriesPrim(&Prim{Name: name, Arity: 1, Doc: doc, Type: seriesUnaryType(name), Eval: evalSeriesUnary(kern)})
	if of != nil {
		seriesOf[of] = p
	}
	return p
}

func seriesBinary(name, doc string, of *Prim, kern binaryKernel) *Prim {
	p := seriesPrim(&Prim{Name: name, Arity: 2, Doc: doc, Type: seriesBinaryType(name), Eval: evalSeriesBinary(name, kern)})
	if of != nil {
		seriesOf[of] = p
	}
	return p
}

// Elementwise series primitives.
var (
	PrimSeriesExp      = seriesUnary("series_exp", "series of exp(x)", PrimExp, kExp)
	PrimSeriesLog      = seriesUnary("series_log", "series of log(x)", PrimLog, kLog)
	PrimSeriesSqrt     = seriesUnary("series_sqrt", "series of sqrt(x)", PrimSqrt, kSqrt)
	PrimSeriesSin      = seriesUnary("series_sin", "series of sin(x)", PrimSin, kSin)
	PrimSeriesCos      = seriesUnary("series_cos", "series of cos(x)", PrimCos, kCos)
	PrimSeriesTan      = seriesUnary("series_tan", "series of tan(x)", PrimTan, kTan)
	PrimSeriesSinh     = seriesUnary("series_sinh", "series of sinh(x)", PrimSinh, kSinh)
	PrimSeriesCosh     = seriesUnary("series_cosh", "series of cosh(x)", PrimCosh, kCosh)
	PrimSeriesTanh     = seriesUnary("series_tanh", "series of tanh(x)", PrimTanh, kTanh)
	PrimSeriesAsin     = seriesUnary("series_asin", "series of asin(x)", PrimAsin, kAsin)
	PrimSeriesAcos     = seriesUnary("series_acos", "series of acos(x)", PrimAcos, kAcos)
	PrimSeriesAtan     = seriesUnary("series_atan", "series of atan(x)", PrimAtan, kAtan)
	PrimSeriesLog1p    = seriesUnary("series_log1p", "series of log1p(x)", PrimLog1p, kLog1p)
	PrimSeriesExpm1    = seriesUnary("series_expm1", "series of expm1(x)", PrimExpm1, kExpm1)
	PrimSeriesErf      = seriesUnary("series_erf", "series of erf(x)", PrimErf, kErf)
	PrimSeriesSigmoid  = seriesUnary("series_sigmoid", "series of sigmoid(x)", PrimSigmoid, kSigmoid)
	PrimSeriesSoftplus = seriesUnary("series_softplus", "series of softplus(x)", PrimSoftplus, kSoftplus)
	PrimSeriesAbs      = seriesUnary("series_abs", "series of abs(x): sign(x_0)·x", PrimAbs, kAbs)
	PrimSeriesRelu     = seriesUnary("series_relu", "series of relu(x): x where x_0 > 0, else 0", PrimRelu, kRelu)

	PrimSeriesAdd   = seriesBinary("series_add", "series of x + y", PrimAdd, kAdd)
	PrimSeriesSub   = seriesBinary("series_sub", "series of x - y", PrimSub, kSub)
	PrimSeriesMul   = seriesBinary("series_mul", "series of x * y: the Cauchy product, or a scaling by a constant", PrimMul, kMul)
	PrimSeriesDiv   = seriesBinary("series_div", "series of x / y", PrimDiv, kDiv)
	PrimSeriesPow   = seriesBinary("series_pow", "series of x ^ y", PrimPow, kPow)
	PrimSeriesAtan2 = seriesBinary("series_atan2", "series of atan2(x, y)", PrimAtan2, kAtan2)
	PrimSeriesMod   = seriesBinary("series_mod", "series of x % y", PrimMod, kMod)
	PrimSeriesMin   = seriesBinary("series_min", "series of min(x, y): the series whose coefficient 0 min picks", PrimMin, kMin)
	PrimSeriesMax   = seriesBinary("series_max", "series of max(x, y): the series whose coefficient 0 max picks", PrimMax, kMax)
)

// ---- construction, per-coefficient application, products, accumulators ----

var (
	// PrimSeries makes a series from its leading coefficients:
	// series(K, c0, c1, ...) = [c0, c1, ..., 0, ..., 0] of length K (the
	// zeros of the coefficients' type and shape; coefficients beyond K are
	// dropped). Aux is the static Dim of K.
	PrimSeries = seriesPrim(&Prim{Name: "series", Arity: -1, MinArgs: 2, Doc: "series(K, c0, c1, ...): the K coefficients c0, c1, ..., then zeros",
		Type: func(args []Type, aux any) (Type, error) {
			if err := needKind("series", 0, args[0], I64); err != nil {
				return nil, err
			}
			for i, a := range args[1:] {
				if _, isFn := a.(*Func); isFn {
					return nil, fmt.Errorf("series: coefficient %d is a function", i)
				}
				if !Equal(a, args[1]) {
					return nil, fmt.Errorf("series: coefficient %d has type %s, coefficient 0 has type %s", i, a, args[1])
				}
			}
			return ArrayOf(dimAux(aux), args[1]), nil
		},
		Eval: func(s *Site) (Impl, error) {
			st := newStacker("series", s.Args[1])
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				k, err := checkSize(args[0].I)
				if err != nil {
					return errValue, err
				}
				cs := args[1:]
				var zero runtime.Value
				if k > len(cs) {
					if zero, err = zeroLike(m, cs[0]); err != nil {
						return errValue, err
					}
				}
				a, err := st.stack(m, k, func(j int) (runtime.Value, error) {
					if j < len(cs) {
						return cs[j], nil
					}
					return zero, nil
				})
				if err != nil {
					return errValue, err
				}
				return runtime.Arr(a), nil
			}, nil
		}})

	// PrimSeriesCoef applies a primitive linear in its series arguments
	// coefficient by coefficient: result[j] = p(args with each series
	// argument s replaced by s[j]).
	PrimSeriesCoef = seriesPrim(&Prim{Name: "series_coef", Arity: -1, MinArgs: 1, Doc: "series_coef[p](args): p applied to coefficient j of the series arguments, for each j",
		Type: func(args []Type, aux any) (Type, error) {
			kd, inner, err := seriesCoefTypes("series_coef", args, aux)
			if err != nil {
				return nil, err
			}
			return ArrayOf(kd, inner), nil
		},
		Eval: evalSeriesCoef})

	// PrimSeriesCauchy is the series of a bilinear primitive (dot, outer,
	// matmul, ...) of two series: result[j] = Σ_{i≤j} p(a[i], b[j-i]).
	PrimSeriesCauchy = seriesPrim(&Prim{Name: "series_cauchy", Arity: 2, Doc: "series_cauchy[p](a, b): the Cauchy product of two series under a bilinear p",
		Type: func(args []Type, aux any) (Type, error) {
			c, ok := aux.(*SeriesCoef)
			if !ok || len(c.Series) != 2 || !c.Series[0] || !c.Series[1] {
				return nil, fmt.Errorf("series_cauchy: want two series operands")
			}
			kd, inner, err := seriesCoefTypes("series_cauchy", args, aux)
			if err != nil {
				return nil, err
			}
			if !IsF64Tensor(inner) {
				return nil, fmt.Errorf("series_cauchy: %s gives %s; want f64 or an f64 array", c.Prim.Name, inner)
			}
			return ArrayOf(kd, inner), nil
		},
		Eval: evalSeriesCauchy})

	// PrimSeriesProd is the series of prod: the product of all elements.
	PrimSeriesProd = seriesPrim(&Prim{Name: "series_prod", Arity: 1, Doc: "series_prod(s): the series of the product of all elements",
		Type: func(args []Type, _ any) (Type, error) {
			a, err := seriesOperandType("series_prod", 0, args[0])
			if err != nil {
				return nil, err
			}
			if Rank(a.Elem) == 0 {
				return nil, fmt.Errorf("series_prod: operand has type %s; want a series of an array", args[0])
			}
			return ArrayOf(a.Dim, TF64), nil
		},
		Eval: func(*Site) (Impl, error) {
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				a := readOperand(args[0], true, false)
				out, err := runtime.NewF64(m, a.k)
				if err != nil || a.k == 0 {
					return runtime.Arr(out), err
				}
				if err := m.Step(int64(a.k * a.k * max(a.n, 1))); err != nil {
					return errValue, err
				}
				w := swsPool.Get().(*sws)
				defer swsPool.Put(w)
				w.reset()
				r, xbuf, t := out.F, w.take(a.k), w.take(a.k)
				r[0] = 1
				mark := w.off
				for e := 0; e < a.n; e++ {
					w.off = mark
					cauchy(t, r, a.coefs(xbuf, e), w)
					copy(r, t)
				}
				return runtime.Arr(out), nil
			}, nil
		}})

	// PrimSeriesAccAdd is acc_add on series, in place: acc += v, where v is
	// a series of acc's shape, a series of scalars (added to each row), or
	// with Aux SeriesSC a constant (added to coefficient 0).
	PrimSeriesAccAdd = seriesPrim(&Prim{Name: "series_acc_add", Arity: 2, InPlace: true, Doc: "series_acc_add(acc, v): acc += v in place on series; returns acc",
		Type: func(args []Type, aux any) (Type, error) {
			mode, err := seriesModeOf(aux)
			if err != nil || mode == SeriesCS {
				return nil, fmt.Errorf("series_acc_add: bad mode %v", aux)
			}
			acc, err := seriesOperandType("series_acc_add", 0, args[0])
			if err != nil || Rank(acc.Elem) == 0 {
				return nil, fmt.Errorf("series_acc_add: accumulator has type %s; want a series of an f64 array", args[0])
			}
			if mode == SeriesSS {
				if !Equal(args[0], args[1]) && !Equal(args[1], ArrayOf(acc.Dim, TF64)) {
					return nil, fmt.Errorf("series_acc_add: value has type %s; want %s or [%s]f64", args[1], args[0], acc.Dim)
				}
			} else if !Equal(acc.Elem, args[1]) && !Identical(args[1], TF64) {
				return nil, fmt.Errorf("series_acc_add: value has type %s; want %s or f64", args[1], acc.Elem)
			}
			return args[0], nil
		},
		Eval: func(s *Site) (Impl, error) {
			mode, _ := seriesModeOf(s.Aux)
			perRow := Rank(s.Args[1]) < Rank(s.Args[0])
			if mode == SeriesSC {
				perRow = Rank(s.Args[1]) == 0
			}
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				acc := args[0].Array()
				k, rs := acc.Shape[0], acc.RowSize()
				if err := m.Step(int64(acc.N())); err != nil {
					return errValue, err
				}
				if mode == SeriesSC {
					if k == 0 {
						return args[0], nil
					}
					row := acc.F[:rs]
					if perRow {
						for i := range row {
							row[i] += args[1].F
						}
						return args[0], nil
					}
					v := args[1].Array()
					if !runtime.SameShape(acc.Shape[1:], v.Shape) {
						return errValue, fmt.Errorf("series_acc_add: shapes %s and %s differ", runtime.ShapeString(acc.Shape[1:]), runtime.ShapeString(v.Shape))
					}
					runtime.AddTo(row, row, v.F)
					return args[0], nil
				}
				v := args[1].Array()
				if perRow {
					if v.Len() != k {
						return errValue, fmt.Errorf("series_acc_add: series of %d and %d coefficients", k, v.Len())
					}
					for j := 0; j < k; j++ {
						row := acc.F[j*rs : (j+1)*rs]
						for i := range row {
							row[i] += v.F[j]
						}
					}
					return args[0], nil
				}
				if !runtime.SameShape(acc.Shape, v.Shape) {
					return errValue, fmt.Errorf("series_acc_add: shapes %s and %s differ", runtime.ShapeString(acc.Shape), runtime.ShapeString(v.Shape))
				}
				runtime.AddTo(acc.F, acc.F, v.F)
				return args[0], nil
			}, nil
		}})

	// PrimSeriesAccAddAt is acc_add_at on series, in place: acc[j][i] +=
	// v[j] for every coefficient j, or with Aux SeriesSC acc[0][i] += v.
	PrimSeriesAccAddAt = seriesPrim(&Prim{Name: "series_acc_add_at", Arity: 3, InPlace: true, Doc: "series_acc_add_at(acc, i, v): acc[·][i] += v in place on series; returns acc",
		Type: func(args []Type, aux any) (Type, error) {
			mode, err := seriesModeOf(aux)
			if err != nil || mode == SeriesCS {
				return nil, fmt.Errorf("series_acc_add_at: bad mode %v", aux)
			}
			acc, err := seriesOperandType("series_acc_add_at", 0, args[0])
			var inner *Array
			ok := false
			if err == nil {
				inner, ok = acc.Elem.(*Array)
			}
			if !ok {
				return nil, fmt.Errorf("series_acc_add_at: accumulator has type %s; want a series of an f64 array", args[0])
			}
			if err := needKind("series_acc_add_at", 1, args[1], I64); err != nil {
				return nil, err
			}
			want := inner.Elem
			if mode == SeriesSS {
				want = ArrayOf(acc.Dim, inner.Elem)
			}
			if !Equal(want, args[2]) {
				return nil, fmt.Errorf("series_acc_add_at: value has type %s; want %s", args[2], want)
			}
			return args[0], nil
		},
		Eval: func(s *Site) (Impl, error) {
			mode, _ := seriesModeOf(s.Aux)
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				acc, i := args[0].Array(), args[1].I
				k, n := acc.Shape[0], acc.Shape[1]
				if err := checkIndex(i, n); err != nil {
					return errValue, err
				}
				cs := acc.RowSize()
				es := runtime.Size(acc.Shape[2:])
				if err := m.Step(int64(k * max(es, 1))); err != nil {
					return errValue, err
				}
				if mode == SeriesSC {
					if k == 0 {
						return args[0], nil
					}
					if len(acc.Shape) == 2 {
						acc.F[i] += args[2].F
						return args[0], nil
					}
					v := args[2].Array()
					if !runtime.SameShape(v.Shape, acc.Shape[2:]) {
						return errValue, fmt.Errorf("series_acc_add_at: value has shape %s; elements have shape %s", runtime.ShapeString(v.Shape), runtime.ShapeString(acc.Shape[2:]))
					}
					dst := acc.F[int(i)*es : (int(i)+1)*es]
					runtime.AddTo(dst, dst, v.F)
					return args[0], nil
				}
				v := args[2].Array()
				if v.Len() != k {
					return errValue, fmt.Errorf("series_acc_add_at: series of %d and %d coefficients", k, v.Len())
				}
				for j := 0; j < k; j++ {
					if len(acc.Shape) == 2 {
						acc.F[j*cs+int(i)] += v.F[j]
						continue
					}
					if !runtime.SameShape(v.Shape[1:], acc.Shape[2:]) {
						return errValue, fmt.Errorf("series_acc_add_at: value has shape %s; elements have shape %s", runtime.ShapeString(v.Shape[1:]), runtime.ShapeString(acc.Shape[2:]))
					}
					dst := acc.F[j*cs+int(i)*es : j*cs+(int(i)+1)*es]
					runtime.AddTo(dst, dst, v.F[j*es:(j+1)*es])
				}
				return args[0], nil
			}, nil
		}})
)

// seriesCoefTypes is the coefficient count and the per-coefficient result
// type of series_coef and series_cauchy.
func seriesCoefTypes(name string, args []Type, aux any) (Dim, Type, error) {
	c, ok := aux.(*SeriesCoef)
	if !ok || c.Prim == nil || len(c.Series) != len(args) {
		return Dim{}, nil, fmt.Errorf("%s: want a SeriesCoef Aux with one flag per argument", name)
	}
	if err := c.Prim.CheckArity(len(args)); err != nil {
		return Dim{}, nil, fmt.Errorf("%s: %v", name, err)
	}
	elems := make([]Type, len(args))
	kd, found := Unknown, false
	for i, a := range args {
		if !c.Series[i] {
			elems[i] = a
			continue
		}
		arr, ok := a.(*Array)
		if !ok {
			return Dim{}, nil, fmt.Errorf("%s: argument %d has type %s; want a series [K]T", name, i+1, a)
		}
		if found && arr.Dim.DiffersStatically(kd) {
			return Dim{}, nil, fmt.Errorf("%s: series of %s and %s coefficients", name, kd, arr.Dim)
		}
		if !found {
			kd, found = arr.Dim, true
		}
		elems[i] = arr.Elem
	}
	if !found {
		return Dim{}, nil, fmt.Errorf("%s: no series argument", name)
	}
	inner, err := c.Prim.Type(elems, c.Aux)
	if err != nil {
		return Dim{}, nil, fmt.Errorf("%s: %v", name, err)
	}
	return kd, inner, nil
}

// innerSite is the site of the primitive a series_coef or series_cauchy
// applies.
func innerSite(s *Site) (*SeriesCoef, *Site, error) {
	c, ok := s.Aux.(*SeriesCoef)
	if !ok {
		return nil, nil, fmt.Errorf("%s: bad Aux %v", s.Prim.Name, s.Aux)
	}
	elems := make([]Type, len(s.Args))
	for i, a := range s.Args {
		elems[i] = a
		if c.Series[i] {
			elems[i] = a.(*Array).Elem
		}
	}
	res, ok := s.Result.(*Array)
	if !ok {
		return nil, nil, fmt.Errorf("%s: result type %s is not a series", s.Prim.Name, s.Result)
	}
	if c.Prim.Eval == nil {
		return nil, nil, fmt.Errorf("%s: %s has no evaluator", s.Prim.Name, c.Prim.Name)
	}
	return c, &Site{Prim: c.Prim, Args: elems, Result: res.Elem, Aux: c.Aux}, nil
}

// seriesLen is the common coefficient count of the series arguments.
func seriesLen(name string, c *SeriesCoef, args []runtime.Value) (int, error) {
	k := -1
	for i, a := range args {
		if !c.Series[i] {
			continue
		}
		n := a.Array().Len()
		if k >= 0 && n != k {
			return 0, fmt.Errorf("%s: series of %d and %d coefficients", name, k, n)
		}
		k = n
	}
	return k, nil
}

func evalSeriesCoef(s *Site) (Impl, error) {
	c, in, err := innerSite(s)
	if err != nil {
		return nil, err
	}
	if c.Prim == PrimIndex && c.Series[0] && !c.Series[1] {
		return evalSeriesIndex, nil
	}
	impl, err := c.Prim.Eval(in)
	if err != nil {
		return nil, err
	}
	st := newStacker(c.Prim.Name, in.Result)
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		k, err := seriesLen("series_coef", c, args)
		if err != nil {
			return errValue, err
		}
		a, err := st.stack(m, k, func(j int) (runtime.Value, error) {
			aj := make([]runtime.Value, len(args))
			for i, v := range args {
				aj[i] = v
				if c.Series[i] {
					aj[i] = v.Array().At(j)
				}
			}
			return impl(m, aj)
		})
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(a), nil
	}, nil
}

// evalSeriesIndex is series_coef of index(s, i): element i of every
// coefficient, copied in one pass (the common x[i] in loops).
func evalSeriesIndex(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
	a, i := args[0].Array(), args[1].I
	k, n := a.Shape[0], a.Shape[1]
	if err := checkIndex(i, n); err != nil {
		return errValue, err
	}
	es := runtime.Size(a.Shape[2:])
	if err := m.Step(int64(k * max(es, 1))); err != nil {
		return errValue, err
	}
	out, err := runtime.New(m, a.Kind, append([]int{k}, a.Shape[2:]...)...)
	if err != nil {
		return errValue, err
	}
	if a.Kind == runtime.ElemF64 && es == 1 {
		for j := range out.F {
			out.F[j] = a.F[j*n+int(i)]
		}
		return runtime.Arr(out), nil
	}
	moveBlocks(out, a, es, func(j int) int { return j*n + int(i) })
	return runtime.Arr(out), nil
}

func evalSeriesCauchy(s *Site) (Impl, error) {
	c, in, err := innerSite(s)
	if err != nil {
		return nil, err
	}
	impl, err := c.Prim.Eval(in)
	if err != nil {
		return nil, err
	}
	rank := Rank(in.Result)
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		k, err := seriesLen("series_cauchy", c, args)
		if err != nil {
			return errValue, err
		}
		a, b := args[0].Array(), args[1].Array()
		var out *runtime.Array
		for j := 0; j < k; j++ {
			for i := 0; i <= j; i++ {
				r, err := impl(m, []runtime.Value{a.At(i), b.At(j - i)})
				if err != nil {
					return errValue, err
				}
				if rank == 0 {
					if out == nil {
						if out, err = runtime.NewF64(m, k); err != nil {
							return errValue, err
						}
					}
					out.F[j] += r.F
					continue
				}
				ra := r.Array()
				if out == nil {
					if out, err = runtime.NewF64(m, append([]int{k}, ra.Shape...)...); err != nil {
						return errValue, err
					}
				}
				rs := out.RowSize()
				if ra.N() != rs {
					return errValue, fmt.Errorf("series_cauchy: %s gives shapes %s and %s", c.Prim.Name, runtime.ShapeString(ra.Shape), runtime.ShapeString(out.Shape[1:]))
				}
				row := out.F[j*rs : (j+1)*rs]
				runtime.AddTo(row, row, ra.F)
			}
		}
		if out == nil { // k = 0
			shape := []int{0}
			for _, d := range Dims(in.Result) {
				shape = append(shape, int(max(d.N, 0)))
			}
			if out, err = runtime.NewF64(m, shape...); err != nil {
				return errValue, err
			}
		}
		return runtime.Arr(out), nil
	}, nil
}

// IsSeriesPrim reports whether p is one of the series primitives.
func IsSeriesPrim(p *Prim) bool {
	for _, q := range seriesPrims {
		if q == p {
			return true
		}
	}
	return false
}
