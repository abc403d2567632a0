package gengo

import "math"

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
