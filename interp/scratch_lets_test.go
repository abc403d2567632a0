package interp_test

// Tests of let-bound temporaries of tape bodies made outside the tape
// arena (scratch.go, storeLet), against the same programs with them
// carved from the arena as before (interp.SetNoTempLets).

import (
	"context"
	"os"
	goruntime "runtime"
	"testing"

	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/runtime"
)

// tempLetCases are forward sweeps with lets that die inside the body of
// a build of tuples, next to lets the tuple keeps.
var tempLetCases = []fastCase{
	{name: "GMM element-wise gradient", src: "gmm_elem", def: "gmm_elem_grad",
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(1, 4), flatArray(2, 4, 3), flatArray(3, 4, 6), flatArray(4, 7, 3), runtime.F64(1.5), runtime.I64(1)}
		}},
	{name: "GMM element-wise gradient, x too short", src: "gmm_elem", def: "gmm_elem_grad", wantErr: true,
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(1, 4), flatArray(2, 4, 3), flatArray(3, 4, 6), flatArray(4, 7, 2), runtime.F64(1.5), runtime.I64(1)}
		}},
	// Tuples saving a copy of a temporary, the temporary itself, and a
	// temporary read by a fused product (the only one kept: k).
	{name: "tuples of copies", src: tempLetSrc, def: "saved",
		args: func() []runtime.Value { return []runtime.Value{flatArray(5, 3, 2), flatArray(6, 4, 2), runtime.I64(0)} }},
	{name: "tuples of copies, index out of range", src: tempLetSrc, def: "saved", wantErr: true,
		args: func() []runtime.Value { return []runtime.Value{flatArray(5, 3, 2), flatArray(6, 4, 2), runtime.I64(1)} }},
	{name: "gradient through copies", src: tempLetSrc, def: "g",
		args: func() []runtime.Value { return []runtime.Value{flatArray(7, 3, 2), flatArray(8, 5, 2), runtime.I64(0)} }},
	{name: "gradient through copies, index out of range", src: tempLetSrc, def: "g", wantErr: true,
		args: func() []runtime.Value {
			return []runtime.Value{flatArray(7, 3, 2), flatArray(8, 5, 2), runtime.I64(-1)}
		}},
}

// tempLetSrc builds, per (i, j), a temporary t that dies after the copy
// u of it (s shifts the index of the copy's read), a vector v kept in the
// tuple, and a temporary w whose sum is kept.
const tempLetSrc = `
def saved(a: [k][d]f64, x: [n][d]f64, s: i64) =
  [ let t = [a[j][c] * x[i][c] for c < d] in
    let u = [t[c + s] for c < d] in
    let v = [x[i][c] - a[j][c] for c < d] in
    let w = [v[c] * t[c] for c < d] in
    (sum(w), u, v) for i < n, j < k ]
def f(a: [k][d]f64, x: [n][d]f64, s: i64): f64 =
  sum([ let t = [a[j][c] * x[i][c] for c < d] in
        let u = [t[c + s] for c < d] in
        sum([u[c] * u[c] for c < d]) for i < n, j < k ])
def g(a: [k][d]f64, x: [n][d]f64, s: i64) = grad(fn(a) => f(a, x, s))(a)`

// gmmElemSource is the GMM of cmd/nablabench: gmm.nab and the
// element-wise objective adbench appends to it (gmm_elem.nab).
func gmmElemSource(t *testing.T) string {
	t.Helper()
	var src []byte
	for _, f := range []string{"../cmd/nablabench/gmm.nab", "../cmd/nablabench/gmm_elem.nab"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		src = append(src, b...)
	}
	return string(src)
}

// TestTempLets checks each case with tape-body temporaries outside the
// arena against the arena's: bits or the positioned error, steps and
// the outcome under step limits; and that the GMM's and tempLetSrc's
// sweeps have such lets.
func TestTempLets(t *testing.T) {
	for _, c := range tempLetCases {
		t.Run(c.name, func(t *testing.T) {
			src := c.src
			if src == "gmm_elem" {
				src = gmmElemSource(t)
			}
			before := interp.TempLets()
			hot, ref := compileTwice(t, src, interp.SetNoTempLets)
			if interp.TempLets() == before {
				t.Fatal("no tape-body let was made outside the arena")
			}
			sameCalls(t, hot, ref, c.def, c.args, c.wantErr, false)
		})
	}
}

// TestTempLetsGMMBytes checks what the path is for: the element-wise GMM
// gradient allocates fewer bytes with it (its tape keeps two [d] vectors
// per point and component instead of three).
func TestTempLetsGMMBytes(t *testing.T) {
	hot, ref := compileTwice(t, gmmElemSource(t), interp.SetNoTempLets)
	args := func() []runtime.Value {
		return []runtime.Value{flatArray(1, 5), flatArray(2, 5, 2), flatArray(3, 5, 3), flatArray(4, 400, 2), runtime.F64(1.5), runtime.I64(1)}
	}
	bytes := func(it *interp.Interp) uint64 {
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		for range 10 {
			if _, err := it.Call(context.Background(), "gmm_elem_grad", args(), runtime.Limits{}); err != nil {
				t.Fatal(err)
			}
		}
		goruntime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	bytes(hot)
	bytes(ref)
	if h, r := bytes(hot), bytes(ref); h >= r {
		t.Errorf("%d bytes with temporaries outside the arena, %d with them carved", h, r)
	}
}
