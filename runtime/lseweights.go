package runtime

import "math"

// LogSumExpWeights is the kernel generated code calls where reverse mode
// would compute logsumexp's weights exp(x[i] - y) a second time from its
// tape (codegen/softweights.go).

// LogSumExpWeights returns y = LogSumExp(x), to the bit, and stores in
// w[i] the weight exp(x[i] - y) that y's derivative needs, computed as
// e[i] / s from the exps e[i] = exp(x[i] - max) and their sum s that y
// is made of: no exp beyond LogSumExp's own. Where y is not finite (no
// elements, all -Inf, a +Inf or a NaN) w[i] is exp(x[i] - y) itself. w
// and x must have the same length; they may be the same slice.
func LogSumExpWeights(w, x []float64) float64 {
	checkLen("LogSumExpWeights", len(w), len(x))
	m := Max(x)
	if math.IsInf(m, 0) || m != m {
		expMinus(w, x, m)
		return m
	}
	// With m finite, 1 <= s <= len(x) (the largest element adds
	// exp(0) = 1), so y is finite: log(s) is far below half an ulp of
	// any m it could carry past math.MaxFloat64.
	s := expShiftFrom(0, w, x, m)
	y := m + math.Log(s)
	w = w[:len(x)]
	for i := range w {
		w[i] /= s
	}
	return y
}

// expMinus stores exp(x[i] - y) in w[i].
func expMinus(w, x []float64, y float64) {
	x = x[:len(w)]
	for i, v := range x {
		w[i] = math.Exp(v - y)
	}
}
