package logreg

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/nabla-lang/nabla/codegen"
)

// TestGeneratedUpToDate checks that go generate would not change
// logreg_nabla.go.
func TestGeneratedUpToDate(t *testing.T) {
	got, err := codegen.GenerateFiles(context.Background(), []string{"logreg.nab"}, codegen.Options{Package: "logreg"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("logreg_nabla.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("logreg_nabla.go is stale: run go generate ./examples/logreg")
	}
}

// data makes n points in d dimensions labelled by a known hyperplane.
func data(n, d int) ([][]float64, []float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([][]float64, n)
	y := make([]float64, n)
	for i := range x {
		x[i] = make([]float64, d)
		s := 0.3
		for j := range x[i] {
			x[i][j] = rng.NormFloat64()
			s += float64(j+1) * x[i][j]
		}
		if s > 0 {
			y[i] = 1
		}
	}
	return x, y
}

func TestTrainSeparates(t *testing.T) {
	x, y := data(200, 3)
	w, b, err := Train(x, y, 1e-3, 0.5, 300)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Predict(w, b, x)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i := range p {
		if (p[i] > 0.5) == (y[i] == 1) {
			correct++
		}
	}
	if correct < 190 {
		t.Errorf("%d of 200 points classified correctly", correct)
	}
	// The gradient agrees with central differences of the loss.
	gw, gb, err := LossGrad(w, b, x, y, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	const h = 1e-6
	for j := range w {
		wp := append([]float64(nil), w...)
		wm := append([]float64(nil), w...)
		wp[j] += h
		wm[j] -= h
		lp, _ := Loss(wp, b, x, y, 1e-3)
		lm, _ := Loss(wm, b, x, y, 1e-3)
		if fd := (lp - lm) / (2 * h); math.Abs(fd-gw[j]) > 1e-6 {
			t.Errorf("d loss/d w[%d] = %v, finite differences %v", j, gw[j], fd)
		}
	}
	lp, _ := Loss(w, b+h, x, y, 1e-3)
	lm, _ := Loss(w, b-h, x, y, 1e-3)
	if fd := (lp - lm) / (2 * h); math.Abs(fd-gb) > 1e-6 {
		t.Errorf("d loss/d b = %v, finite differences %v", gb, fd)
	}
}

func TestIntoAllocatesNothing(t *testing.T) {
	x, y := data(100, 4)
	w := []float64{0.1, -0.2, 0.3, 0.4}
	dst := make([]float64, 4)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := LossGradInto(dst, w, 0.1, x, y, 1e-3); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("LossGradInto allocates %v times per call", allocs)
	}
}

func TestErrors(t *testing.T) {
	x, y := data(10, 2)
	// w of the wrong length: the interpreter's size check, positioned.
	_, err := Loss([]float64{1, 2, 3}, 0, x, y, 0)
	want := "logreg.nab:6:43: size mismatch: d is 3 (w) but dimension 2 of x has size 2\n\tin loss (logreg.nab:6:12)"
	if err == nil || err.Error() != want {
		t.Errorf("got error %v, want %q", err, want)
	}
	if _, _, err := Train([][]float64{{1, 2}, {3}}, []float64{1, 0}, 0, 0.1, 1); err == nil {
		t.Error("ragged x: no error")
	}
}

func Example() {
	x := [][]float64{{1, 2}, {2, 1}, {-1, -2}, {-2, -1}}
	y := []float64{1, 1, 0, 0}
	w, b, err := Train(x, y, 0.01, 0.5, 100)
	if err != nil {
		panic(err)
	}
	p, _ := Predict(w, b, [][]float64{{1, 1}, {-1, -1}})
	fmt.Printf("%.3f %.3f\n", p[0], p[1])
	// Output: 0.953 0.047
}
