package gengo

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"regexp"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
)

// TestGeneratedUpToDate checks that regenerating models_nabla.go gives the
// checked-in bytes, as go generate would.
func TestGeneratedUpToDate(t *testing.T) {
	got, err := codegen.GenerateFiles(context.Background(), []string{"models.nab"}, codegen.Options{Package: "gengo"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("models_nabla.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("models_nabla.go is stale: run go generate in cmd/nablabench/gengo")
	}
}

// TestModelsMatchBench keeps models.nab's defs those of nablabench and of
// GradBench's lstm and ba modules.
func TestModelsMatchBench(t *testing.T) {
	models, _ := os.ReadFile("models.nab")
	for _, module := range []string{"lstm", "ba"} {
		b, err := os.ReadFile("../../../bench/gradbench/" + module + ".nab")
		if err != nil {
			t.Fatal(err)
		}
		// The module as models.nab holds it: objective and jacobian
		// prefixed by its name, and exported.
		for _, f := range []string{"objective", "jacobian"} {
			b = regexp.MustCompile(`\b`+f+`\b`).ReplaceAll(b, []byte(module+"_"+f))
			b = bytes.ReplaceAll(b, []byte("def "+module+"_"+f), []byte("export def "+module+"_"+f))
		}
		if !bytes.Contains(models, b) {
			t.Errorf("models.nab does not hold bench/gradbench/%s.nab as it is now", module)
		}
	}
	for _, f := range []string{"../rosenbrock.nab", "../gmm.nab"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if bytes.HasPrefix(line, []byte("def ")) && !bytes.Contains(models, line) && !bytes.Contains(models, append([]byte("export "), line...)) {
				t.Errorf("%s: %q is not in models.nab", f, line)
			}
		}
	}
}

func TestAgreesWithHand(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float64, 100)
	for i := range x {
		x[i] = rng.Float64()*2 - 1
	}
	r, err := Rosen(x)
	if err != nil || math.Abs(r-RosenHand(x)) > 1e-12*math.Abs(r) {
		t.Errorf("Rosen = %v, %v; hand-written %v", r, err, RosenHand(x))
	}
	g, err := RosenGrad(x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x {
		h := 1e-6
		xp := append([]float64(nil), x...)
		xm := append([]float64(nil), x...)
		xp[i] += h
		xm[i] -= h
		fd := (RosenHand(xp) - RosenHand(xm)) / (2 * h)
		if math.Abs(fd-g[i]) > 1e-5*max(1, math.Abs(fd)) {
			t.Errorf("RosenGrad[%d] = %v, finite differences %v", i, g[i], fd)
		}
	}
	d, k, n := 3, 4, 20
	p := d + d*(d-1)/2
	rnd := func(c int) []float64 {
		v := make([]float64, c)
		for i := range v {
			v[i] = rng.Float64()*2 - 1
		}
		return v
	}
	alphas, means, icf, xs := rnd(k), rnd(k*d), rnd(k*p), rnd(n*d)
	rows := func(v []float64, c int) [][]float64 {
		var out [][]float64
		for i := 0; i < len(v); i += c {
			out = append(out, v[i:i+c])
		}
		return out
	}
	got, err := Gmm(alphas, rows(means, d), rows(icf, p), rows(xs, d), 1.5, 2)
	want := GMMHand(d, k, n, alphas, means, icf, xs, 1.5, 2)
	if err != nil || math.Abs(got-want) > 1e-10*math.Abs(want) {
		t.Errorf("Gmm = %v, %v; hand-written %v", got, err, want)
	}
}

// rowsOf cuts a flat slice into rows of c.
func rowsOf(v []float64, c int) [][]float64 {
	var out [][]float64
	for i := 0; i < len(v); i += c {
		out = append(out, v[i:i+c])
	}
	return out
}

// centralDiff is the derivative of f at x[i] by central differences.
func centralDiff(f func([]float64) float64, x []float64, i int) float64 {
	h := 1e-6 * max(1, math.Abs(x[i]))
	xp := append([]float64(nil), x...)
	xm := append([]float64(nil), x...)
	xp[i] += h
	xm[i] -= h
	return (f(xp) - f(xm)) / (2 * h)
}

func TestLSTMAgreesWithHand(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	l, b, c := 2, 3, 6
	uniform := func(k int) []float64 {
		v := make([]float64, k)
		for i := range v {
			v[i] = rng.Float64()
		}
		return v
	}
	mp, ep, state := uniform(2*l*4*b), uniform(3*b), uniform(2*l*b)
	seq := make([]float64, c*b)
	for i := range seq {
		seq[i] = float64(rng.IntN(2))
	}
	want := LSTMHand(l, b, c, mp, ep, state, seq)
	got, err := LstmObjective(rowsOf(mp, 4*b), rowsOf(ep, b), rowsOf(state, b), rowsOf(seq, b))
	if err != nil || math.Abs(got-want) > 1e-12*math.Abs(want) {
		t.Errorf("LstmObjective = %v, %v; hand-written %v", got, err, want)
	}
	dmp, dep, err := LstmJacobian(rowsOf(mp, 4*b), rowsOf(ep, b), rowsOf(state, b), rowsOf(seq, b))
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]float64(nil), mp...), ep...)
	loss := func(v []float64) float64 { return LSTMHand(l, b, c, v[:len(mp)], v[len(mp):], state, seq) }
	for i := range all {
		var g float64
		if i < len(mp) {
			g = dmp[i/(4*b)][i%(4*b)]
		} else {
			g = dep[(i-len(mp))/b][(i-len(mp))%b]
		}
		if fd := centralDiff(loss, all, i); math.Abs(fd-g) > 1e-6*max(1, math.Abs(fd)) {
			t.Errorf("LSTM gradient entry %d = %v, finite differences %v", i, g, fd)
		}
	}
}

func TestBAAgreesWithHand(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n, m, p := 3, 4, 7
	cams := make([]float64, 11*n)
	for j := range n {
		c := cams[11*j : 11*j+11]
		for s := range c {
			c[s] = rng.Float64() - 0.5
		}
		c[5] -= 10  // the points are in front of the cameras
		c[6] += 100 // focal length
	}
	cams[0], cams[1], cams[2] = 0, 0, 0 // camera 0 does not rotate
	pts := make([]float64, 3*m)
	for i := range pts {
		pts[i] = rng.Float64()
	}
	w, feats := make([]float64, p), make([]float64, 2*p)
	camIdx, ptIdx := make([]int64, p), make([]int64, p)
	for i := range p {
		w[i] = rng.Float64()
		feats[2*i], feats[2*i+1] = 10*rng.Float64(), 10*rng.Float64()
		camIdx[i], ptIdx[i] = int64(i%n), int64(i%m)
	}
	reproj, werr := make([]float64, 2*p), make([]float64, p)
	BAHand(cams, pts, w, feats, camIdx, ptIdx, reproj, werr)
	gr, gw, err := BaObjective(rowsOf(cams, 11), rowsOf(pts, 3), w, rowsOf(feats, 2), camIdx, ptIdx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p {
		for j := range 2 {
			if want := reproj[j*p+i]; math.Abs(gr[j][i]-want) > 1e-12*max(1, math.Abs(want)) {
				t.Errorf("BaObjective reprojection [%d][%d] = %v; hand-written %v", j, i, gr[j][i], want)
			}
		}
		if gw[i] != werr[i] {
			t.Errorf("BaObjective weight error [%d] = %v; hand-written %v", i, gw[i], werr[i])
		}
	}
	jac, dw, err := BaJacobian(rowsOf(cams, 11), rowsOf(pts, 3), w, rowsOf(feats, 2), camIdx, ptIdx)
	if err != nil {
		t.Fatal(err)
	}
	hj, hdw := make([]float64, 2*15*p), make([]float64, p)
	BAJacobianHand(cams, pts, w, feats, camIdx, ptIdx, hj, hdw)
	for i := range p {
		if hdw[i] != dw[i] {
			t.Errorf("hand-written weight-error derivative [%d] = %v, generated %v", i, hdw[i], dw[i])
		}
		for j := range 2 {
			for s := range 15 {
				if h, g := hj[(j*15+s)*p+i], jac[j][s][i]; math.Abs(h-g) > 1e-10*max(1, math.Abs(g)) {
					t.Errorf("hand-written BA Jacobian [%d][%d][%d] = %v, generated %v", j, s, i, h, g)
				}
			}
		}
	}
	for i := range p {
		if want := -2 * w[i]; dw[i] != want {
			t.Errorf("weight-error derivative [%d] = %v, want %v", i, dw[i], want)
		}
		for j := range 2 {
			// slot s: the observation's camera parameters, point
			// coordinates, then its weight.
			for s := range 15 {
				vars, at := cams, 11*int(camIdx[i])+s
				if s >= 11 && s < 14 {
					vars, at = pts, 3*int(ptIdx[i])+s-11
				} else if s == 14 {
					vars, at = w, i
				}
				res := func(v []float64) float64 {
					c, x, ww := cams, pts, w
					switch {
					case s < 11:
						c = v
					case s < 14:
						x = v
					default:
						ww = v
					}
					BAHand(c, x, ww, feats, camIdx, ptIdx, reproj, werr)
					return reproj[j*p+i]
				}
				fd := centralDiff(res, vars, at)
				if g := jac[j][s][i]; math.Abs(fd-g) > 1e-5*max(1, math.Abs(fd)) {
					t.Errorf("BA Jacobian [%d][%d][%d] = %v, finite differences %v", j, s, i, g, fd)
				}
			}
		}
	}
}
