package runtime_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

const mib = 1 << 20

// TestMemoryLimitCountsLive allocates, under a 1 MiB limit, arrays that
// are dropped at once: far more than the limit in total, never more than
// one array at a time alive.
func TestMemoryLimitCountsLive(t *testing.T) {
	for _, c := range []struct {
		name  string
		elems int // f64 elements per array
		count int
	}{
		{"8 KB a thousand times", 1024, 1000},
		{"100 times the limit in 128 KiB arrays", 16 << 10, 800},
		{"100 MB in 104-byte arrays", 13, 1_000_000},
		{"half the limit again and again", 64 << 10, 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := runtime.NewMachine(context.Background(), runtime.Limits{Memory: mib})
			for i := range c.count {
				a, err := runtime.NewF64(m, c.elems)
				if err != nil {
					t.Fatalf("allocation %d of %d bytes: %v", i, 8*c.elems, err)
				}
				a.F[0] = float64(i)
			}
		})
	}
}

// TestMemoryLimitHolds keeps every array alive: the limit must stop the
// call once about a limit's worth is held, not much before or after.
func TestMemoryLimitHolds(t *testing.T) {
	for _, c := range []struct {
		name  string
		elems int
		// the held bytes at failure must lie in [lo, hi] × the limit: exact
		// for tracked arrays, within the sampling error for small ones
		lo, hi float64
	}{
		{"8 KB arrays", 1024, 0.99, 1.0},
		{"64 KB arrays", 8 << 10, 0.93, 1.0},
		{"104-byte arrays", 13, 0.7, 1.3},
		{"1 KB arrays", 128, 0.7, 1.3},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := runtime.NewMachine(context.Background(), runtime.Limits{Memory: mib})
			var held []*runtime.Array
			var err error
			for len(held) < 4*mib/(8*c.elems) {
				var a *runtime.Array
				if a, err = runtime.NewF64(m, c.elems); err != nil {
					break
				}
				held = append(held, a)
			}
			if !errors.Is(err, runtime.ErrMemoryLimit) {
				t.Fatalf("holding %d bytes: err = %v, want ErrMemoryLimit", len(held)*8*c.elems, err)
			}
			got := float64(len(held)*8*c.elems) / mib
			if got < c.lo || got > c.hi {
				t.Errorf("failed holding %.3f × the limit; want between %.2f and %.2f", got, c.lo, c.hi)
			}
			if !strings.HasPrefix(err.Error(), "memory limit exceeded: ") {
				t.Errorf("message %q", err)
			}
		})
	}
}

// TestMemoryLimitBeforeAllocating: sizes that cannot fit fail before
// anything is allocated, with or without a limit, and match
// ErrMemoryLimit whether they pass the limit or overflow.
func TestMemoryLimitBeforeAllocating(t *testing.T) {
	limited := runtime.NewMachine(context.Background(), runtime.Limits{Memory: mib})
	unlimited := runtime.NewMachine(context.Background(), runtime.Limits{})
	for _, c := range []struct {
		name  string
		m     *runtime.Machine
		shape []int
		want  string
	}{
		{"over the limit", limited, []int{mib/8 + 1}, "memory limit exceeded: an array of 1048584 bytes (1 MiB) does not fit in the limit of 1048576 bytes (1 MiB)"},
		{"a terabyte", limited, []int{1 << 37}, "does not fit in the limit of 1048576 bytes"},
		{"overflowing shape", unlimited, []int{1 << 40, 1 << 40}, "memory limit exceeded: size [1099511627776][1099511627776] is too large"},
		{"overflowing with no machine", nil, []int{1 << 62}, "memory limit exceeded: size [4611686018427387904] is too large"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := runtime.NewF64(c.m, c.shape...)
			if !errors.Is(err, runtime.ErrMemoryLimit) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("NewF64%v: %v; want ErrMemoryLimit with %q", c.shape, err, c.want)
			}
		})
	}
	if _, err := runtime.CheckSize(1 << 62); !errors.Is(err, runtime.ErrMemoryLimit) {
		t.Errorf("CheckSize(2^62) = %v; want ErrMemoryLimit", err)
	}
	if _, err := runtime.NewF64(unlimited, 0, 1<<62); err != nil {
		t.Errorf("an empty array with a huge dimension: %v", err)
	}
	if sys := runtime.SystemMemory(); sys > 0 {
		_, err := runtime.NewF64(unlimited, int(sys/8)+1)
		if !errors.Is(err, runtime.ErrMemoryLimit) {
			t.Errorf("an array larger than the machine (%d bytes) with no limit: %v", sys, err)
		}
	}
}

// TestMemoryMeasure: Live is an upper bound that Measure brings down to
// what is held.
func TestMemoryMeasure(t *testing.T) {
	m := runtime.NewMachine(context.Background(), runtime.Limits{Memory: 64 * mib})
	keep, err := runtime.NewF64(m, mib) // 8 MiB, tracked exactly
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := runtime.NewF64(m, mib); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Live(); got != 40*mib {
		t.Errorf("Live before measuring = %d; want %d", got, 40*mib)
	}
	if got := m.Measure(); got != 8*mib {
		t.Errorf("Measure = %d; want %d (the array kept)", got, 8*mib)
	}
	keep.F[0] = 1
}

// TestMemoryLimitConcurrent runs calls at once, each churning through
// many times its limit while holding a part of it: each is measured on
// its own, so none fails for what the others hold.
func TestMemoryLimitConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := runtime.NewMachine(context.Background(), runtime.Limits{Memory: mib})
			held, err := runtime.NewF64(m, mib/16) // half the limit
			if err != nil {
				errs[g] = err
				return
			}
			for range 200 {
				if _, err := runtime.NewF64(m, 4096); err != nil {
					errs[g] = err
					return
				}
			}
			held.F[0] = 1
		}()
	}
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", g, err)
		}
	}
}

func TestDefaultMemoryLimit(t *testing.T) {
	d := runtime.DefaultMemoryLimit()
	if sys := runtime.SystemMemory(); sys > 0 && d != sys/4 {
		t.Errorf("DefaultMemoryLimit = %d; want a quarter of %d", d, sys)
	}
	if d <= 0 {
		t.Errorf("DefaultMemoryLimit = %d", d)
	}
}
