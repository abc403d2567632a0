package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestQuick runs the command on tiny sizes and checks the table's shape.
func TestQuick(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-quick", "-gmm", t.TempDir()}, &out, &errs); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs.String())
	}
	s := out.String()
	for _, want := range []string{"| program | size | f | grad f | grad f / f |", "| rosenbrock | n = 10 |", "| rosenbrock | n = 100 |", "| gmm | n = 10, d = 2, K = 3 (random) |", "| gmm | n = 20, d = 3, K = 2 (random) |", "rosenbrock: ratios"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-runs", "0"}, {"-rosen", "x"}, {"extra"}, {"-nosuchflag"}} {
		var out, errs bytes.Buffer
		if code := run(args, &out, &errs); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// TestGMMSourceInSync keeps the embedded GMM program equal to the tested
// one in tests/testdata.
func TestGMMSourceInSync(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "tests", "testdata", "gmm.nab"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gmmSrc, want) {
		t.Errorf("cmd/nablabench/gmm.nab differs from tests/testdata/gmm.nab: copy it over")
	}
}

// TestReadGMM reads a small instance in the ADBench format.
func TestReadGMM(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.txt")
	data := "2 2 3\n0.1\n0.2\n1 2\n3 4\n0.5 0.6 0.7\n0.8 0.9 1.0\n1 1\n2 2\n3 3\n1.5 2\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := readGMM(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.d != 2 || g.k != 2 || g.n != 3 || g.icf[1][2] != 1.0 || g.x[2][1] != 3 || g.gamma != 1.5 || g.m != 2 {
		t.Errorf("read %+v", g)
	}
	if err := os.WriteFile(path, []byte("2 2 3\n0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readGMM(path); err == nil {
		t.Error("truncated file: no error")
	}
}

// TestQuickGo runs the -go mode on tiny sizes.
func TestQuickGo(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-go", "-quick", "-gmm", t.TempDir()}, &out, &errs); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs.String())
	}
	s := out.String()
	for _, want := range []string{"| program | size | hand-written Go |", "| Rosenbrock | n = 10 |", "| GMM | n = 10, d = 2, K = 3 |", "| LSTM | l = 1, c = 4, b = 3 |", "| BA | n = 2, m = 3, p = 5 |"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}

// TestGoOnly selects programs with -only and rejects unknown ones.
func TestGoOnly(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"-go", "-quick", "-only", "lstm"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs.String())
	}
	if s := out.String(); !strings.Contains(s, "| LSTM |") || strings.Contains(s, "| GMM |") || strings.Contains(s, "| Rosenbrock |") {
		t.Errorf("-only lstm printed other programs:\n%s", s)
	}
	errs.Reset()
	if code := run([]string{"-go", "-only", "bogus"}, &out, &errs); code != 2 || !strings.Contains(errs.String(), `unknown program "bogus"`) {
		t.Errorf("-only bogus: exit %d, stderr %q", code, errs.String())
	}
}

// TestOptimQuick runs the optim mode, on the generated Go package and
// with -interp on the interpreter, on two problems and checks the tables'
// shape and that both libraries solve them.
func TestOptimQuick(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"optim", "-quick"}, []string{"| problem | n | method | gonum ok |", "| Rosenbrock | 2 | L-BFGS (m = 10) | yes |", "| Beale | 2 | Newton | yes |"}},
		{[]string{"optim", "-quick", "-interp"}, []string{"| problem | n | method |", "| Rosenbrock | 2 | L-BFGS (m = 10) | yes |", "| Beale | 2 | Newton | yes |"}},
	} {
		var out, errs bytes.Buffer
		if code := run(c.args, &out, &errs); code != 0 {
			t.Fatalf("%v: exit %d\nstderr:\n%s", c.args, code, errs.String())
		}
		s := out.String()
		for _, want := range c.want {
			if !strings.Contains(s, want) {
				t.Errorf("%v: output lacks %q:\n%s", c.args, want, s)
			}
		}
	}
	var out, errs bytes.Buffer
	if code := run([]string{"optim", "extra"}, &out, &errs); code != 2 {
		t.Errorf("optim extra: exit %d, want 2", code)
	}
}

// TestADBenchQuick runs the adbench mode on tiny sizes and checks that
// every program has its row.
func TestADBenchQuick(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"adbench", "-quick", "-gmm", t.TempDir()}, &out, &errs); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errs.String())
	}
	s := out.String()
	for _, want := range []string{"| GMM elem | d=2 K=3 n=10 |", "| GMM vec | d=2 K=3 n=10 |", "| LSTM |", "| BA (jacrev) |", "| Rosenbrock | n=10 |", "| a*x + y | n=10 |", "| sum(a*x + y) | n=10 |", "make + gonum"} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
