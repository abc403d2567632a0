package nabla_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nabla-lang/nabla"
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// limitsSrc allocates in the ways the memory limit must tell apart. Line
// numbers matter: errors are checked by position.
const limitsSrc = `def churn(x: [n]f64, k: i64): f64 =
  loop s = 0.0 for i < k do s + sum(exp(x * f64(i) / 1000.0))
def hold(k: i64): f64 =
  let a = [(fill(1000, f64(i)), i) for i < k] in sum(a[k - 1].0) + f64(a[0].1)
def big(n: i64): f64 = sum(zeros(n))
def square(n: i64): f64 = sum(outer(ones(n), ones(n)))
def spin(x: f64): f64 = loop y = x while true do y + 1.0
`

func compileLimits(t testing.TB, opts ...nabla.Option) *nabla.Program {
	t.Helper()
	p, err := nabla.Compile("limits.nab", []byte(limitsSrc), opts...)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// TestMemoryLimitIsLive: the memory limit bounds what a call holds, not
// what it allocated: churning through a thousand times the limit works,
// holding more than the limit does not.
func TestMemoryLimitIsLive(t *testing.T) {
	p := compileLimits(t, nabla.WithLimits(0, 1<<20))
	x1k := make([]float64, 1000)    // 8 KB
	x16k := make([]float64, 16<<10) // 128 KiB
	for _, tc := range []struct {
		name   string
		def    string
		args   []any
		target error // nil: must succeed
		line   int
	}{
		{"8 KB a thousand times", "churn", []any{x1k, 1000}, nil, 0},
		// Three 128 KiB temporaries an iteration: 1000 times the limit in all.
		{"1000 times the limit", "churn", []any{x16k, 2700}, nil, 0},
		{"holding 400 KB", "hold", []any{50}, nil, 0},
		{"holding 1.6 MB", "hold", []any{200}, nabla.ErrMemoryLimit, 4},
		{"an array larger than the limit", "big", []any{1 << 20}, nabla.ErrMemoryLimit, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := p.Func(tc.def)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.Call(context.Background(), tc.args...)
			if tc.target == nil {
				if err != nil {
					t.Fatalf("%s: %v", tc.def, err)
				}
				return
			}
			if !errors.Is(err, tc.target) {
				t.Fatalf("%s: error %v; want %v", tc.def, err, tc.target)
			}
			var ie *ir.Error
			if !errors.As(err, &ie) || ie.Pos.Line != tc.line {
				t.Errorf("%s: error %v; want it positioned on line %d", tc.def, err, tc.line)
			}
		})
	}
}

// TestImpossibleAllocations: arrays that cannot exist are positioned
// errors matching ErrMemoryLimit under the default options and with no
// limit at all, never a crash.
func TestImpossibleAllocations(t *testing.T) {
	for _, opts := range [][]nabla.Option{nil, {nabla.WithLimits(0, -1)}} {
		p := compileLimits(t, opts...)
		for _, tc := range []struct {
			def  string
			n    int64
			want string
		}{
			{"big", 1_000_000_000_000, "does not fit in"},
			{"big", 1 << 62, "size 4611686018427387904 is too large"},
			{"square", 1_000_000, "does not fit in"},
			{"square", 1 << 40, "does not fit in"},
		} {
			f, _ := p.Func(tc.def)
			_, err := f.Call(context.Background(), tc.n)
			var ie *ir.Error
			if !errors.Is(err, nabla.ErrMemoryLimit) || !errors.As(err, &ie) || !ie.Pos.IsValid() || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s(%d) with options %d: %v; want a positioned ErrMemoryLimit saying %q", tc.def, tc.n, len(opts), err, tc.want)
			}
		}
	}
}

// TestDefaultMemoryLimit: without WithLimits a call has the default
// memory limit.
func TestDefaultMemoryLimit(t *testing.T) {
	d := nabla.DefaultMemoryLimit()
	if sys := nabla.SystemMemory(); sys > 0 && d != sys/4 {
		t.Errorf("DefaultMemoryLimit = %d; want a quarter of SystemMemory %d", d, sys)
	}
	f, _ := compileLimits(t).Func("big")
	_, err := f.Call(context.Background(), d/8+1)
	if !errors.Is(err, nabla.ErrMemoryLimit) {
		t.Errorf("an array just over the default limit: %v", err)
	}
}

// TestDeadlineInsidePrimitives: a deadline stops a call inside one large
// primitive, not only between steps.
func TestDeadlineInsidePrimitives(t *testing.T) {
	if sys := nabla.SystemMemory(); sys > 0 && sys < 8<<30 {
		t.Skipf("needs 2.4 GB of array storage; this machine offers %d bytes", sys)
	}
	p := compileLimits(t, nabla.WithLimits(0, 4<<30))
	for _, tc := range []struct {
		def string
		n   int64
	}{
		{"big", 300_000_000},
		{"square", 15_000},
	} {
		f, _ := p.Func(tc.def)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		_, err := f.Call(ctx, tc.n)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s(%d) with a 100 ms deadline: %v; want context.DeadlineExceeded", tc.def, tc.n, err)
		}
	}
}

// TestNilContext: a call needs a context it can be stopped by.
func TestNilContext(t *testing.T) {
	f, _ := compileLimits(t).Func("spin")
	//lint:ignore SA1012 a nil context is what is tested
	_, err := f.Call(nil, 0.0)
	var ie *ir.Error
	if !errors.Is(err, nabla.ErrNilContext) || !errors.As(err, &ie) || ie.Pos.Line != 7 {
		t.Errorf("Call(nil, ...): %v; want ErrNilContext at spin's declaration", err)
	}
	//lint:ignore SA1012 a nil context is what is tested
	_, err = f.CallValues(nil, []runtime.Value{runtime.F64(0)})
	if !errors.Is(err, nabla.ErrNilContext) {
		t.Errorf("CallValues(nil, ...): %v; want ErrNilContext", err)
	}
}

// TestLimitsConcurrent: calls running at once are limited separately; a
// call holding most of its limit does not make another fail.
func TestLimitsConcurrent(t *testing.T) {
	p := compileLimits(t, nabla.WithLimits(0, 1<<20))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name, args := "churn", []any{make([]float64, 1000), 300}
			if g%2 == 0 {
				name, args = "hold", []any{100} // 800 KB held at the end
			}
			f, _ := p.Func(name)
			if _, err := f.Call(context.Background(), args...); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
