package runtime_test

import (
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// TestArenaReuse: a second call of the same shape walks the chunks the
// first one allocated, so it allocates nothing and holds no more memory;
// what it is handed is zeroed, whatever the first call left there.
func TestArenaReuse(t *testing.T) {
	a := new(runtime.Arena)
	call := func() {
		a.Reset()
		for _, n := range []int{10, 3000, 70000} { // past the first chunks
			f := a.F64(n)
			for i, x := range f {
				if x != 0 {
					t.Fatalf("F64(%d)[%d] = %v, not zeroed", n, i, x)
				}
				f[i] = 1
			}
			is, bs := a.I64(n), a.Bool(n)
			if len(is) != n || len(bs) != n || is[n-1] != 0 || bs[n-1] {
				t.Fatalf("I64/Bool(%d): lengths %d, %d or not zeroed", n, len(is), len(bs))
			}
			is[n-1], bs[n-1] = 7, true
		}
	}
	call()
	f0, i0, b0 := a.Held()
	if f0 < 10+3000+70000 || i0 < 10+3000+70000 || b0 < 10+3000+70000 {
		t.Fatalf("Held = %d, %d, %d after cutting 73010 of each", f0, i0, b0)
	}
	if n := testing.AllocsPerRun(20, call); n != 0 {
		t.Errorf("a call in steady state allocates %v times", n)
	}
	if f, i, b := a.Held(); f != f0 || i != i0 || b != b0 {
		t.Errorf("Held grew from %d, %d, %d to %d, %d, %d", f0, i0, b0, f, i, b)
	}
}

// TestArenaCuts: cuts do not overlap, and their capacity is their
// length, so that an append copies instead of writing over the next cut.
func TestArenaCuts(t *testing.T) {
	a := new(runtime.Arena)
	x, y := a.F64w(5), a.F64(5)
	if cap(x) != 5 || cap(y) != 5 {
		t.Fatalf("capacities %d, %d, want 5", cap(x), cap(y))
	}
	for i := range x {
		x[i] = 1
	}
	if slices.ContainsFunc(y, func(v float64) bool { return v != 0 }) {
		t.Errorf("writing x changed y: %v", y)
	}
	_ = append(x, 9)
	if y[0] != 0 {
		t.Error("appending to x wrote into y")
	}
}

// TestArenaMarkRelease: releasing a mark frees what was cut since, also
// across chunks, and the next cut reuses that memory; marks of a nil
// arena are harmless.
func TestArenaMarkRelease(t *testing.T) {
	a := new(runtime.Arena)
	keep := a.F64(100)
	m := a.Mark()
	first := a.F64(50)
	a.F64(5000) // a second chunk
	a.Release(m)
	again := a.F64(50)
	if &again[0] != &first[0] {
		t.Error("the cut after Release does not reuse the released memory")
	}
	if &keep[0] == &again[0] {
		t.Error("Release freed what was cut before the mark")
	}
	// A loop that marks and releases every iteration holds one
	// iteration's memory.
	before, _, _ := a.Held()
	for i := 0; i < 1000; i++ {
		m := a.Mark()
		a.F64(700)
		a.I64(700)
		a.Release(m)
	}
	if after, _, _ := a.Held(); after != before {
		t.Errorf("1000 released iterations grew the arena from %d to %d elements", before, after)
	}
	var nilArena *runtime.Arena
	nilArena.Release(nilArena.Mark())
	if s := nilArena.F64(3); len(s) != 3 {
		t.Errorf("nil arena F64(3) has length %d", len(s))
	}
	if f, i, b := nilArena.Held(); f+i+b != 0 {
		t.Errorf("nil arena holds %d, %d, %d", f, i, b)
	}
}

// TestArenaKeep: Keep moves a call's results down to its mark and frees
// the rest; results that share storage, or a call that cut little, stay
// where they are.
func TestArenaKeep(t *testing.T) {
	a := new(runtime.Arena)
	a.F64(10) // the caller's
	m := a.Mark()
	tmp := a.F64(20000)
	r1, r2 := a.F64w(3), a.F64w(2)
	copy(r1, []float64{1, 2, 3})
	copy(r2, []float64{4, 5})
	tmp[0] = 99
	a.Keep(m, &r1, &r2)
	if !slices.Equal(r1, []float64{1, 2, 3}) || !slices.Equal(r2, []float64{4, 5}) {
		t.Fatalf("results after Keep: %v, %v", r1, r2)
	}
	next := a.F64(1)
	if &next[0] == &r1[0] || &next[0] == &r2[0] {
		t.Fatal("the next cut overlaps a kept result")
	}
	// The results sit right above the mark: a cut after Keep lands on
	// what was tmp's memory, before 20000 elements.
	a.Release(m)
	probe := a.F64w(5)
	if &probe[0] != &r1[0] {
		t.Error("Keep did not move the first result down to the mark")
	}

	// Little cut: nothing moves.
	b := new(runtime.Arena)
	m = b.Mark()
	s := b.F64(4)
	old := &s[0]
	b.Keep(m, &s)
	if &s[0] != old {
		t.Error("Keep moved a result of a call that cut 4 elements")
	}
	// Shared storage: nothing moves.
	c := new(runtime.Arena)
	m = c.Mark()
	c.F64(10000)
	whole := c.F64(10)
	u, v := whole[:6], whole[4:]
	c.Keep(m, &u, &v)
	if &u[0] != &whole[0] || &v[0] != &whole[4] {
		t.Error("Keep moved results that share storage")
	}
	var nilArena *runtime.Arena
	nilArena.Keep(nilArena.Mark(), &s) // nothing to do, no panic
}

// TestArenaOuter: Keep leaves results in place at the mark an exported
// function recorded with Outer (it copies them out itself), still moves
// those of a def called inside (another mark), and compacts again once
// Reset forgets the outer mark.
func TestArenaOuter(t *testing.T) {
	a := new(runtime.Arena)
	a.F64(10) // the exported function's flattened arguments
	a.Outer()
	outer := a.Mark()
	a.F64(20000)
	inner := a.Mark()
	a.F64(20000)
	r := a.F64w(3)
	copy(r, []float64{1, 2, 3})
	at := &r[0]
	a.Keep(inner, &r) // a callee's results still move down
	if &r[0] == at || !slices.Equal(r, []float64{1, 2, 3}) {
		t.Fatalf("Keep at an inner mark: moved %v, values %v", &r[0] != at, r)
	}
	at = &r[0]
	a.Keep(outer, &r)
	if &r[0] != at || !slices.Equal(r, []float64{1, 2, 3}) {
		t.Fatalf("Keep at the outer mark: moved %v, values %v", &r[0] != at, r)
	}

	// After Reset the same mark is an ordinary one again.
	a.Reset()
	a.F64(10)
	m := a.Mark()
	a.F64(20000)
	s := a.F64w(2)
	at = &s[0]
	a.Keep(m, &s)
	if &s[0] == at {
		t.Error("Keep after Reset did not move a result at the old outer mark")
	}
	var nilArena *runtime.Arena
	nilArena.Outer() // nothing to record, no panic
}

// TestArenaPool: the pool hands back the arena returned last, keeps at
// most MaxIdleArenas, and serves concurrent callers.
func TestArenaPool(t *testing.T) {
	var p runtime.ArenaPool
	a := p.Get()
	p.Put(a)
	if p.Get() != a {
		t.Error("Get after Put gave another arena")
	}
	var all []*runtime.Arena
	for i := 0; i < runtime.MaxIdleArenas+5; i++ {
		all = append(all, new(runtime.Arena))
	}
	for _, a := range all {
		p.Put(a)
	}
	seen := map[*runtime.Arena]bool{}
	for i := 0; i < runtime.MaxIdleArenas; i++ {
		seen[p.Get()] = true
	}
	if len(seen) != runtime.MaxIdleArenas || seen[all[len(all)-1]] {
		t.Errorf("pool kept %d distinct arenas (the ones past the limit: %v)", len(seen), seen[all[len(all)-1]])
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				a := runtime.Arenas.Get()
				a.Reset()
				a.F64(64)[0] = 1
				runtime.Arenas.Put(a)
			}
		}()
	}
	wg.Wait()
}

// TestMappedArena: a mapped arena's large chunks work as any other, and
// after Unmap new chunks are ordinary memory.
func TestMappedArena(t *testing.T) {
	a := runtime.NewMappedArena()
	big := a.F64(1 << 19)
	big[len(big)-1] = 1
	a.Unmap()
	more := a.F64(1 << 20)
	more[0] = 2
	if f, _, _ := a.Held(); f < 1<<19+1<<20 {
		t.Errorf("Held = %d", f)
	}
}

// TestOutInto: results copied out and into the caller's slices, with the
// shape checks of the Into forms.
func TestOutInto(t *testing.T) {
	r := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99}
	if got := runtime.Out1(r, 3); !slices.Equal(got, []float64{1, 2, 3}) {
		t.Errorf("Out1 = %v", got)
	}
	m := runtime.Out2(r, 3, 4)
	if len(m) != 3 || !slices.Equal(m[2], []float64{9, 10, 11, 12}) || cap(m[0]) != 4 {
		t.Errorf("Out2 = %v (cap of row 0: %d)", m, cap(m[0]))
	}
	r[0] = -1
	if m[0][0] != 1 {
		t.Error("Out2 shares storage with the arena")
	}
	c := runtime.Out3(r, 2, 3, 2)
	if len(c) != 2 || len(c[1]) != 3 || !slices.Equal(c[1][2], []float64{11, 12}) {
		t.Errorf("Out3 = %v", c)
	}
	if e := runtime.Out2[int64](nil, 0, 5); len(e) != 0 {
		t.Errorf("Out2 of 0 rows = %v", e)
	}

	grid := func(rows ...int) [][]float64 {
		var g [][]float64
		for _, n := range rows {
			g = append(g, make([]float64, n))
		}
		return g
	}
	cases := []struct {
		name string
		ok   bool
		into func() bool
	}{
		{"Into1", true, func() bool { return runtime.Into1(make([]float64, 3), r, 3) }},
		{"Into1 short", false, func() bool { return runtime.Into1(make([]float64, 2), r, 3) }},
		{"Into2", true, func() bool { return runtime.Into2(grid(4, 4, 4), r, 3, 4) }},
		{"Into2 rows", false, func() bool { return runtime.Into2(grid(4, 4), r, 3, 4) }},
		{"Into2 ragged", false, func() bool { return runtime.Into2(grid(4, 3, 4), r, 3, 4) }},
		{"Into3", true, func() bool { return runtime.Into3([][][]float64{grid(2, 2, 2), grid(2, 2, 2)}, r, 2, 3, 2) }},
		{"Into3 ragged", false, func() bool { return runtime.Into3([][][]float64{grid(2, 2, 2), grid(2, 2)}, r, 2, 3, 2) }},
		{"Into3 short row", false, func() bool { return runtime.Into3([][][]float64{grid(2, 2, 2), grid(2, 1, 2)}, r, 2, 3, 2) }},
	}
	for _, c := range cases {
		if got := c.into(); got != c.ok {
			t.Errorf("%s = %v, want %v", c.name, got, c.ok)
		}
	}
	dst := grid(2, 2, 2)
	three := [][][]float64{grid(2, 2, 2), dst}
	if !runtime.Into3(three, r, 2, 3, 2) || !slices.Equal(dst[2], []float64{11, 12}) {
		t.Errorf("Into3 wrote %v", dst)
	}
}

// TestFlatten: rectangular input flattens row-major into the arena;
// ragged input (at any depth) is reported, never read out of bounds.
func TestFlatten(t *testing.T) {
	a := new(runtime.Arena)
	flat, dims, ok := runtime.Flatten2(a, [][]float64{{1, 2}, {3, 4}, {5, 6}})
	if !ok || dims != [2]int{3, 2} || !slices.Equal(flat, []float64{1, 2, 3, 4, 5, 6}) {
		t.Errorf("Flatten2 = %v, %v, %v", flat, dims, ok)
	}
	ints, idims, ok := runtime.Flatten2(a, [][]int64{{7}, {8}})
	if !ok || idims != [2]int{2, 1} || !slices.Equal(ints, []int64{7, 8}) {
		t.Errorf("Flatten2[int64] = %v, %v, %v", ints, idims, ok)
	}
	// Rows longer than copyRow's hand-copied ones, into a dirty arena:
	// every element is written.
	long := [][]float64{make([]float64, 10), make([]float64, 10)}
	for i := range 20 {
		long[i/10][i%10] = float64(i + 1)
	}
	a.Reset()
	dirty := a.F64w(64)
	for i := range dirty {
		dirty[i] = -1
	}
	a.Reset()
	lflat, ldims, ok := runtime.Flatten2(a, long)
	if !ok || ldims != [2]int{2, 10} || !slices.Equal(lflat, append(slices.Clone(long[0]), long[1]...)) {
		t.Errorf("Flatten2(long rows) = %v, %v, %v", lflat, ldims, ok)
	}
	if _, d, ok := runtime.Flatten2[float64](a, nil); !ok || d != [2]int{} {
		t.Errorf("Flatten2(nil) = %v, %v", d, ok)
	}
	// An element type the arena does not keep is made with make.
	strs, _, ok := runtime.Flatten2(a, [][]string{{"a"}, {"b"}})
	if !ok || !slices.Equal(strs, []string{"a", "b"}) {
		t.Errorf("Flatten2[string] = %v, %v", strs, ok)
	}
	c3, d3, ok := runtime.Flatten3(nil, [][][]bool{{{true, false}}, {{false, true}}})
	if !ok || d3 != [3]int{2, 1, 2} || !slices.Equal(c3, []bool{true, false, false, true}) {
		t.Errorf("Flatten3 = %v, %v, %v", c3, d3, ok)
	}
	bad2 := [][][]float64{{{1, 2}, {3}}, {{1}, {}}, {{}, {1}}}
	for _, x := range bad2 {
		if _, _, ok := runtime.Flatten2(a, x); ok {
			t.Errorf("Flatten2(%v): ragged input accepted", x)
		}
	}
	bad3 := [][][][]float64{
		{{{1}}, {}},             // second matrix has no rows
		{{{1}, {2}}, {{3}}},     // second matrix has fewer rows
		{{{1, 2}}, {{3}}},       // a short row in the second matrix
		{{{1}, {2, 3}}},         // a long row in the first
		{{}, {{1}}},             // the first matrix empty, the second not
		{{{1, 2}, {3, 4}}, nil}, // a nil matrix
	}
	for _, x := range bad3 {
		if _, _, ok := runtime.Flatten3(a, x); ok {
			t.Errorf("Flatten3(%v): ragged input accepted", x)
		}
	}
}

// TestGeneratedError: the text of generated code's errors is the
// interpreter's, frames innermost first, and a positioned error keeps
// its position.
func TestGeneratedError(t *testing.T) {
	err := runtime.NewError("m.nab:3:7", "index 5 out of range [0, 2)")
	err = runtime.WithPos("m.nab:9:9", err) // already positioned: kept
	err = runtime.WithFrame(err, "inner", "m.nab:2:5", "m.nab:8:3")
	err = runtime.WithFrame(err, "outer", "m.nab:7:5", "")
	want := "m.nab:3:7: index 5 out of range [0, 2)\n\tin inner (m.nab:2:5), called at m.nab:8:3\n\tin outer (m.nab:7:5)"
	if err.Error() != want {
		t.Errorf("error text:\n%s\nwant\n%s", err, want)
	}
	var e *runtime.Error
	if !errors.As(err, &e) || e.Pos != "m.nab:3:7" || len(e.Frames) != 2 {
		t.Errorf("errors.As: %+v", e)
	}
	plain := errors.New("negative size -1")
	if got := runtime.WithPos("m.nab:1:2", plain).Error(); got != "m.nab:1:2: negative size -1" {
		t.Errorf("WithPos = %q", got)
	}
	if got := runtime.WithFrame(plain, "f", "m.nab:1:5", "").Error(); got != "m.nab:1:5: negative size -1\n\tin f (m.nab:1:5)" {
		t.Errorf("WithFrame of a plain error = %q", got)
	}
	if got := (&runtime.Error{Msg: "no position"}).Error(); got != "no position" {
		t.Errorf("unpositioned = %q", got)
	}
}
