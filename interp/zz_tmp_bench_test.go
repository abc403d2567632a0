package interp_test

import (
	"context"
	"os"
	"sort"
	"syscall"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/interp"
	"github.com/nabla-lang/nabla/runtime"
)

func cpu() float64 {
	var r syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &r)
	return float64(r.Utime.Nano()+r.Stime.Nano()) / 1e9
}

func TestTmpGMMOnOff(t *testing.T) {
	ctx := context.Background()
	src, _ := os.ReadFile("../cmd/nablabench/gmm.nab")
	res, err := pipeline.Compile(ctx, "gmm.nab", src, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := interp.New(res.Opt)
	if err != nil {
		t.Fatal(err)
	}
	args := func() []runtime.Value {
		return []runtime.Value{flatArray(13, 10), flatArray(14, 10, 2), flatArray(15, 10, 3), flatArray(16, 1000, 2), runtime.F64(1.5), runtime.I64(0)}
	}
	call := func(off bool) float64 {
		var done func()
		if off {
			done = interp.SetNoSVBlock()
		}
		t0 := cpu()
		for k := 0; k < 3; k++ {
			if _, err := p.Call(ctx, "gmm_grad", args(), runtime.Limits{}); err != nil {
				t.Fatal(err)
			}
		}
		d := (cpu() - t0) / 3
		if off {
			done()
		}
		return d
	}
	call(false)
	call(true)
	var rs, on, offs []float64
	for i := 0; i < 30; i++ {
		var a, b float64
		if i%2 == 0 {
			a = call(false)
			b = call(true)
		} else {
			b = call(true)
			a = call(false)
		}
		rs, on, offs = append(rs, a/b), append(on, a), append(offs, b)
	}
	sort.Float64s(rs)
	sort.Float64s(on)
	sort.Float64s(offs)
	t.Logf("on/off median %.3f [%.3f %.3f]; on %.2f ms off %.2f ms", rs[15], rs[7], rs[22], on[15]*1e3, offs[15]*1e3)
}
