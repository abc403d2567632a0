package runtime

// Keep ends a call that cut its temporaries from a after m: the float64
// arrays it returns (*rs) move down to m (or, when they do not fit in
// m's chunk, to the start of the first later chunk of the call where
// they do) and all else the call cut there is released, so that a
// caller's arena holds what its callees return, not everything they
// computed. Nothing moves when the call cut little (moving would cost
// more than it frees), when two results share storage, or when there
// are more than 32 results, nor at the mark of an exported call's def
// (Outer), whose results the exported function copies out.
func (a *Arena) Keep(m ArenaMark, rs ...*[]float64) {
	if a == nil || len(a.f.all) == 0 || len(rs) > 32 || a.hasOuter && m == a.outer {
		return
	}
	c, k0 := &a.f, m.f.k
	start := func(k int) int {
		if k == k0 {
			return m.f.n
		}
		return 0
	}
	cut := len(c.cur) - start(c.k)
	for k := k0; k < c.k; k++ {
		cut += cap(c.all[k]) - start(k)
	}
	if cut < 1<<12 {
		return
	}
	// The results cut since m, by chunk and position. (They are kept by
	// index into rs, so that no pointer to a caller's local leaves the
	// stack.)
	type result struct{ i, k, off int }
	var ms [32]result
	nm, total := 0, 0
	for i, r := range rs {
		dup := false
		for _, x := range ms[:nm] {
			dup = dup || rs[x.i] == r
		}
		if dup || len(*r) == 0 {
			continue
		}
		for k := k0; k <= c.k; k++ {
			if off, ok := OffsetIn(c.all[k], *r); ok && off >= start(k) {
				ms[nm] = result{i, k, off}
				nm++
				total += len(*r)
				break
			}
		}
	}
	if 2*total > cut {
		return
	}
	t := k0
	for t <= c.k && start(t)+total > cap(c.all[t]) {
		t++
	}
	if t > c.k {
		return
	}
	// Insertion sort by place: there are few results.
	for i := 1; i < nm; i++ {
		for j := i; j > 0 && (ms[j].k < ms[j-1].k || ms[j].k == ms[j-1].k && ms[j].off < ms[j-1].off); j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	for i := 1; i < nm; i++ {
		if p := ms[i-1]; p.k == ms[i].k && p.off+len(*rs[p.i]) > ms[i].off {
			return // results sharing storage
		}
	}
	// Chunk t's results first, in order: each moves down, over nothing
	// it still needs; then the others, from other chunks.
	base, dst := c.all[t], start(t)
	for pass := 0; pass < 2; pass++ {
		for _, x := range ms[:nm] {
			if (x.k == t) != (pass == 0) {
				continue
			}
			r := rs[x.i]
			n := len(*r)
			copy(base[dst:dst+n], *r)
			*r = base[dst : dst+n : dst+n]
			dst += n
		}
	}
	c.k, c.cur = t, base[:dst]
}
