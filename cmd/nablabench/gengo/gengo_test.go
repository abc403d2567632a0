package gengo

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
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

// TestModelsMatchBench keeps models.nab's defs those of nablabench.
func TestModelsMatchBench(t *testing.T) {
	models, _ := os.ReadFile("models.nab")
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
