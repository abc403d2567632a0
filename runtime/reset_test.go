package runtime

import (
	"context"
	"testing"
)

// TestResetAndOffer checks the pieces a pooled entry call relies on: a
// reset machine is a new one that keeps no array, an offered array serves
// the next allocation of its size (zeroed by NewVec, as it is by
// NewVecToFill's caller), and swapped-out arrays are out of reach.
func TestResetAndOffer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := NewMachine(ctx, Limits{Steps: 10, Memory: 1 << 20})
	if _, err := NewF64(m, 100); err != nil {
		t.Fatal(err)
	}
	_ = m.Step(5)
	m.Recycle(FromF64(make([]float64, 3)))
	m.Reset(context.Background(), Limits{})
	if m.Ctx != context.Background() || m.Limits != (Limits{}) || m.Steps() != 0 || m.Live() != 0 || len(m.free) != 0 || len(m.mem.tracked) != 0 {
		t.Errorf("Reset left state behind: ctx %v, limits %v, steps %d, live %d, %d recycled, %d tracked", m.Ctx, m.Limits, m.Steps(), m.Live(), len(m.free), len(m.mem.tracked))
	}

	buf := []float64{1, 2, 3}
	m.Offer(FromF64(buf))
	a, err := NewVecToFill(m, ElemF64, 3)
	if err != nil || &a.F[0] != &buf[0] || a.F[0] != 1 {
		t.Errorf("NewVecToFill did not take the offered array as it was: %v, %v", a.F, err)
	}
	m.Offer(FromF64(buf))
	if a, err := NewVec(m, ElemF64, 3); err != nil || &a.F[0] != &buf[0] || buf[0] != 0 {
		t.Errorf("NewVec did not take the offered array zeroed: %v, %v", a.F, err)
	}

	m.Offer(FromF64(buf))
	saved := m.SwapRecycled(nil)
	if a, _ := NewVecToFill(m, ElemF64, 3); &a.F[0] == &buf[0] {
		t.Errorf("an array set aside by SwapRecycled was reused")
	}
	m.SwapRecycled(saved)
	if a, _ := NewVecToFill(m, ElemF64, 3); &a.F[0] != &buf[0] {
		t.Errorf("SwapRecycled did not restore the offered array")
	}
}
