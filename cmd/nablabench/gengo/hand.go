package gengo

import (
	"math"
	"math/rand/v2"
)

// RosenHand is Rosenbrock's function as a careful person writes it in Go.
func RosenHand(x []float64) float64 {
	s := 0.0
	for i := 0; i+1 < len(x); i++ {
		t := x[i+1] - x[i]*x[i]
		u := 1 - x[i]
		s += 100*t*t + u*u
	}
	return s
}

// GMMHand is the ADBench Gaussian mixture objective (see models.nab) as a
// careful person writes it in Go: alphas [k], means [k][d], icf [k][p]
// (p = d + d(d-1)/2) and x [n][d] are flat row-major slices. Scratch is
// allocated once per call.
func GMMHand(d, k, n int, alphas, means, icf, x []float64, gamma float64, m int) float64 {
	p := d + d*(d-1)/2
	diag := make([]float64, k*d)
	sumq := make([]float64, k)
	for j := 0; j < k; j++ {
		for r := 0; r < d; r++ {
			q := icf[j*p+r]
			diag[j*d+r] = math.Exp(q)
			sumq[j] += q
		}
	}
	xc := make([]float64, d)
	y := make([]float64, d)
	terms := make([]float64, k)
	data := 0.0
	for i := 0; i < n; i++ {
		xi := x[i*d : (i+1)*d]
		for j := 0; j < k; j++ {
			mu := means[j*d : (j+1)*d]
			for c := range xc {
				xc[c] = xi[c] - mu[c]
			}
			dj := diag[j*d : (j+1)*d]
			for r := range y {
				y[r] = dj[r] * xc[r]
			}
			l := icf[j*p+d : (j+1)*p]
			idx := 0
			for c := 0; c < d; c++ {
				for r := c + 1; r < d; r++ {
					y[r] += l[idx] * xc[c]
					idx++
				}
			}
			sq := 0.0
			for _, v := range y {
				sq += v * v
			}
			terms[j] = alphas[j] + sumq[j] - 0.5*sq
		}
		data += logSumExp(terms)
	}
	prior := 0.0
	for j := 0; j < k; j++ {
		s := 0.0
		for r := 0; r < d; r++ {
			s += diag[j*d+r] * diag[j*d+r]
		}
		for _, v := range icf[j*p+d : (j+1)*p] {
			s += v * v
		}
		prior += 0.5*gamma*gamma*s - float64(m)*sumq[j]
	}
	const log2pi = 1.8378770664093453
	return -0.5*float64(n*d)*log2pi + data - float64(n)*logSumExp(alphas) + prior - float64(k)*wishartC(d, gamma, m)
}

func logSumExp(x []float64) float64 {
	mx := math.Inf(-1)
	for _, v := range x {
		mx = max(mx, v)
	}
	s := 0.0
	for _, v := range x {
		s += math.Exp(v - mx)
	}
	return mx + math.Log(s)
}

// wishartC is the normalizing constant of the Wishart prior.
func wishartC(d int, gamma float64, m int) float64 {
	n := d + m + 1
	lmg := 0.25 * float64(d*(d-1)) * math.Log(math.Pi)
	for j := 0; j < d; j++ {
		lg, _ := math.Lgamma(0.5*float64(n) - 0.5*float64(j))
		lmg += lg
	}
	return float64(n*d)*(math.Log(gamma)-0.5*math.Ln2) - lmg
}

// LSTMHand is GradBench's LSTM loss (see lstm.nab) as a careful person
// writes it in Go: l layers of b cells, c characters; mainParams [2l][4b],
// extraParams [3][b], state [2l][b] and sequence [c][b] are flat
// row-major slices. state is not modified; scratch is allocated once per
// call.
func LSTMHand(l, b, c int, mainParams, extraParams, state, sequence []float64) float64 {
	s := append([]float64(nil), state...)
	v := make([]float64, b)
	y := make([]float64, b)
	inW, outW, outB := extraParams[:b], extraParams[b:2*b], extraParams[2*b:3*b]
	total := 0.0
	for t := 0; t < c-1; t++ {
		x := sequence[t*b : (t+1)*b]
		for j := range v {
			v[j] = x[j] * inW[j]
		}
		for i := 0; i < l; i++ {
			w := mainParams[2*i*4*b : (2*i+1)*4*b]
			bias := mainParams[(2*i+1)*4*b : (2*i+2)*4*b]
			h := s[2*i*b : (2*i+1)*b]
			cell := s[(2*i+1)*b : (2*i+2)*b]
			for j := 0; j < b; j++ {
				forget := sigmoid(v[j]*w[j] + bias[j])
				ingate := sigmoid(h[j]*w[b+j] + bias[b+j])
				outgate := sigmoid(v[j]*w[2*b+j] + bias[2*b+j])
				change := math.Tanh(h[j]*w[3*b+j] + bias[3*b+j])
				cell[j] = cell[j]*forget + ingate*change
				h[j] = outgate * math.Tanh(cell[j])
				v[j] = h[j]
			}
		}
		se := 0.0
		for j := range y {
			y[j] = v[j]*outW[j] + outB[j]
			se += math.Exp(y[j])
		}
		lse := math.Log(se + 2)
		next := sequence[(t+1)*b : (t+2)*b]
		for j := range y {
			total += next[j] * (y[j] - lse)
		}
	}
	return -total / float64((c-1)*b)
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// BAInstance is a bundle-adjustment instance of n cameras, m points and
// p observations, as nablabench times them: observation i links camera
// i mod n with point i mod m, as GradBench's eval builds it, and every
// camera, point, weight and feature is GradBench's value for ba1
// perturbed by up to 1% (so that no two are the same, and the rotation
// angles and depths are realistic: random numbers would send sin and
// cos down their slow path).
func BAInstance(rng *rand.Rand, n, m, p int) (cams, pts [][]float64, w []float64, feats [][]float64, camIdx, ptIdx []int64) {
	jitter := func(v float64) float64 { return v * (1 + 0.02*(rng.Float64()-0.5)) }
	rowsOf := func(k int, base ...float64) [][]float64 {
		out := make([][]float64, k)
		for i := range out {
			out[i] = make([]float64, len(base))
			for j, v := range base {
				out[i][j] = jitter(v)
			}
		}
		return out
	}
	cams = rowsOf(n, -0.758453, -1.109613, -0.845551, 34.556073, 39.676747, 53.881673, 419.194514, 5.864426, -8.51887, 0.087812, 0.002739)
	pts, feats = rowsOf(m, 7.203245, 0.001144, 3.023326), rowsOf(p, 271.760969, 834.209256)
	w = make([]float64, p)
	camIdx, ptIdx = make([]int64, p), make([]int64, p)
	for i := range w {
		w[i] = jitter(0.417022)
		camIdx[i], ptIdx[i] = int64(i%n), int64(i%m)
	}
	return
}

// BAHand is GradBench's bundle-adjustment residuals (see ba.nab) as a
// careful person writes them in Go, one observation at a time: cams
// [n][11], pts [m][3], w [p] and feats [p][2] are flat row-major slices;
// it writes the reprojection errors into reproj ([2][p], as ba.nab
// returns them) and the weight errors into werr ([p]).
func BAHand(cams, pts, w, feats []float64, camIdx, ptIdx []int64, reproj, werr []float64) {
	p := len(w)
	for i := 0; i < p; i++ {
		cam := cams[11*camIdx[i] : 11*camIdx[i]+11]
		pt := pts[3*ptIdx[i] : 3*ptIdx[i]+3]
		x := [3]float64{pt[0] - cam[3], pt[1] - cam[4], pt[2] - cam[5]}
		r := [3]float64{cam[0], cam[1], cam[2]}
		var y [3]float64
		if sq := r[0]*r[0] + r[1]*r[1] + r[2]*r[2]; sq != 0 {
			theta := math.Sqrt(sq)
			cost, sint := math.Cos(theta), math.Sin(theta)
			a := [3]float64{r[0] / theta, r[1] / theta, r[2] / theta}
			ax := cross3(a, x)
			tmp := (a[0]*x[0] + a[1]*x[1] + a[2]*x[2]) * (1 - cost)
			for j := range y {
				y[j] = x[j]*cost + ax[j]*sint + a[j]*tmp
			}
		} else {
			rx := cross3(r, x)
			for j := range y {
				y[j] = x[j] + rx[j]
			}
		}
		u0, u1 := y[0]/y[2], y[1]/y[2]
		rsq := u0*u0 + u1*u1
		distort := 1 + cam[9]*rsq + cam[10]*rsq*rsq
		reproj[i] = w[i] * (cam[6]*u0*distort + cam[7] - feats[2*i])
		reproj[p+i] = w[i] * (cam[6]*u1*distort + cam[8] - feats[2*i+1])
		werr[i] = 1 - w[i]*w[i]
	}
}

// (BAHand and BAJacobianHand repeat the observation's set-up and the
// rotation's small-angle branch rather than share helpers: through
// small inlined helpers returning arrays, BAHand measured twice as slow.)

func cross3(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

// BAJacobianHand is BA's Jacobian (see ba.nab's jacobian) as a careful
// person writes it in Go: for each observation, the forward pass keeps
// its few intermediates in locals and one reverse pass per reprojection
// residual gives that residual's derivatives with respect to the
// observation's 15 parameters (camera, point, weight). Arguments are as
// BAHand's; jac ([2][15][p], flat) receives element [j][s][i] at
// (j*15+s)*p+i, and dwerr ([p]) the weight errors' derivatives.
func BAJacobianHand(cams, pts, w, feats []float64, camIdx, ptIdx []int64, jac, dwerr []float64) {
	p := len(w)
	for i := 0; i < p; i++ {
		cam := cams[11*camIdx[i] : 11*camIdx[i]+11]
		pt := pts[3*ptIdx[i] : 3*ptIdx[i]+3]
		x := [3]float64{pt[0] - cam[3], pt[1] - cam[4], pt[2] - cam[5]}
		r := [3]float64{cam[0], cam[1], cam[2]}
		sq := r[0]*r[0] + r[1]*r[1] + r[2]*r[2]
		turned := sq != 0
		var theta, itheta, cost, sint, dot, tmp float64
		var a, ax, y [3]float64
		if turned {
			theta = math.Sqrt(sq)
			itheta = 1 / theta
			cost, sint = math.Cos(theta), math.Sin(theta)
			a = [3]float64{r[0] * itheta, r[1] * itheta, r[2] * itheta}
			ax = cross3(a, x)
			dot = a[0]*x[0] + a[1]*x[1] + a[2]*x[2]
			tmp = dot * (1 - cost)
			for k := range y {
				y[k] = x[k]*cost + ax[k]*sint + a[k]*tmp
			}
		} else {
			rx := cross3(r, x)
			for k := range y {
				y[k] = x[k] + rx[k]
			}
		}
		iy2 := 1 / y[2]
		u := [2]float64{y[0] * iy2, y[1] * iy2}
		rsq := u[0]*u[0] + u[1]*u[1]
		distort := 1 + cam[9]*rsq + cam[10]*rsq*rsq
		for j := range 2 {
			var g [15]float64
			pbar := w[i] // d residual j / d proj j
			g[14] = cam[6]*u[j]*distort + cam[7+j] - feats[2*i+j]
			g[6] = pbar * u[j] * distort
			g[7+j] = pbar
			var ubar [2]float64
			ubar[j] = pbar * cam[6] * distort
			dbar := pbar * cam[6] * u[j]
			g[9], g[10] = dbar*rsq, dbar*rsq*rsq
			rsqbar := dbar * (cam[9] + 2*cam[10]*rsq)
			ubar[0] += 2 * u[0] * rsqbar
			ubar[1] += 2 * u[1] * rsqbar
			ybar := [3]float64{ubar[0] * iy2, ubar[1] * iy2, -(ubar[0]*u[0] + ubar[1]*u[1]) * iy2}
			var xbar, rbar [3]float64
			if turned {
				var cbar, sbar, tbar float64
				var abar, axbar [3]float64
				for k := range 3 {
					xbar[k] = ybar[k] * cost
					cbar += ybar[k] * x[k]
					axbar[k] = ybar[k] * sint
					sbar += ybar[k] * ax[k]
					abar[k] = ybar[k] * tmp
					tbar += ybar[k] * a[k]
				}
				dotbar := tbar * (1 - cost)
				cbar -= tbar * dot
				xa, ax2 := cross3(x, axbar), cross3(axbar, a)
				for k := range 3 {
					abar[k] += dotbar*x[k] + xa[k]
					xbar[k] += dotbar*a[k] + ax2[k]
				}
				thetabar := -sint*cbar + cost*sbar
				for k := range 3 {
					rbar[k] = abar[k] * itheta
					thetabar -= abar[k] * a[k] * itheta
				}
				sqbar := 0.5 * thetabar * itheta
				for k := range 3 {
					rbar[k] += 2 * r[k] * sqbar
				}
			} else {
				xy, yr := cross3(x, ybar), cross3(ybar, r)
				for k := range 3 {
					rbar[k] = xy[k]
					xbar[k] = ybar[k] + yr[k]
				}
			}
			for k := range 3 {
				g[k] = rbar[k]
				g[3+k] = -xbar[k]
				g[11+k] = xbar[k]
			}
			for s, v := range g {
				jac[(j*15+s)*p+i] = v
			}
		}
		dwerr[i] = -2 * w[i]
	}
}
