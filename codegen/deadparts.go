package codegen

import (
	"regexp"
	"strings"
)

// copyRE matches an assignment whose right side is only names and
// literals, `a, b = x, 0.0`: what the emitter writes to move a tuple
// (a loop's state, an if's result) from one set of locals to another.
var copyRE = func() *regexp.Regexp {
	atom := `(?:[A-Za-z_][A-Za-z0-9_]*|-?[0-9][0-9.eE+-]*|(?:int64|int|float64)\(-?[0-9][0-9.eE+-]*\))`
	return regexp.MustCompile(`^(\s*)((?:[A-Za-z0-9_]+, )*[A-Za-z0-9_]+) = (` + atom + `(?:, ` + atom + `)*)$`)
}()

// A loop carrying a state part in a buffer (loop_save's and loops'
// per-iteration release) writes
//
//	if S == len(B) {
//		copy(B, X)
//		X = B
//		...
//	}
//
// (the condition a conjunction, one such test per carried part), which
// reads X only to keep it: copyIntoRE and carryTestRE let dropDeadParts see
// the copy as a move of X into B and the length test as no use of B, so
// that a part nothing else reads is dead with its buffer; its test goes
// from the condition (a block with none left runs unconditionally, which
// is what the release wants once nothing reads the dead part).
var (
	copyIntoRE  = regexp.MustCompile(`^\s*copy\((buf_[0-9]+), ([A-Za-z0-9_]+)\)$`)
	carryIfRE   = regexp.MustCompile(`^(\s*)if (.*) \{$`)
	carryTestRE = regexp.MustCompile(`^[A-Za-z0-9_*]+ == len\((buf_[0-9]+)\)$`)
)

// carryTests splits the condition of an if line into its && terms and
// says, for each, the buffer it tests the length of ("" for other terms).
func carryTests(l string) (indent string, terms, bufs []string, ok bool) {
	m := carryIfRE.FindStringSubmatch(l)
	if m == nil {
		return "", nil, nil, false
	}
	terms = strings.Split(m[2], " && ")
	bufs = make([]string, len(terms))
	found := false
	for i, t := range terms {
		if tm := carryTestRE.FindStringSubmatch(t); tm != nil && localRE.MatchString(tm[1]) {
			bufs[i], found = tm[1], true
		}
	}
	return m[1], terms, bufs, found
}

// dropDeadParts removes the stores to locals whose value never reaches a
// real use: a part of a loop's state that the body copies through an if
// into the next iteration's state but never reads (an array's size, say).
// Each part of a tuple gets its own local, so such a part is a cycle of
// copies that only staticcheck notices (SA4006). A local is live when a
// line other than a copy reads it, or a copy moves it into a live local;
// the copies into the others are dropped (their right sides are names
// and literals: nothing is lost), another `=` stores into `_` instead,
// and their `var` declarations go once nothing mentions them.
func dropDeadParts(code string) string {
	lines := strings.Split(code, "\n")
	edges := map[string][]string{}
	var work []string
	live := map[string]bool{}
	use := func(id string) {
		if !live[id] {
			live[id] = true
			work = append(work, id)
		}
	}
	for _, l := range lines {
		if m := copyRE.FindStringSubmatch(l); m != nil {
			lhs, rhs := strings.Split(m[2], ", "), strings.Split(m[3], ", ")
			if len(lhs) == len(rhs) {
				for i, dst := range lhs {
					if localRE.MatchString(dst) {
						edges[dst] = append(edges[dst], rhs[i])
					} else {
						use(rhs[i])
					}
				}
				continue
			}
		}
		if m := copyIntoRE.FindStringSubmatch(l); m != nil && localRE.MatchString(m[1]) {
			edges[m[1]] = append(edges[m[1]], m[2])
			continue
		}
		if _, terms, bufs, ok := carryTests(l); ok {
			for i, t := range terms {
				if bufs[i] != "" { // the size tested, not the buffer
					t, _, _ = strings.Cut(t, " == ")
				}
				for _, id := range identRE.FindAllString(t, -1) {
					use(id)
				}
			}
			continue
		}
		_, _, rest := splitStore(l)
		for _, id := range identRE.FindAllString(rest, -1) {
			use(id)
		}
	}
	for len(work) > 0 {
		id := work[len(work)-1]
		work = work[:len(work)-1]
		for _, src := range edges[id] {
			use(src)
		}
	}
	dead := func(id string) bool { return localRE.MatchString(id) && !live[id] }
	var out []string
	changed := false
	for _, l := range lines {
		if m := copyIntoRE.FindStringSubmatch(l); m != nil && dead(m[1]) {
			changed = true
			continue
		}
		if indent, terms, bufs, ok := carryTests(l); ok {
			var kept []string
			for i, t := range terms {
				if bufs[i] == "" || !dead(bufs[i]) {
					kept = append(kept, t)
				}
			}
			if len(kept) < len(terms) {
				changed = true
				if len(kept) == 0 {
					out = append(out, indent+"{")
				} else {
					out = append(out, indent+"if "+strings.Join(kept, " && ")+" {")
				}
				continue
			}
		}
		if m := copyRE.FindStringSubmatch(l); m != nil {
			lhs, rhs := strings.Split(m[2], ", "), strings.Split(m[3], ", ")
			if len(lhs) == len(rhs) {
				var kl, kr []string
				for i, dst := range lhs {
					if !dead(dst) {
						kl, kr = append(kl, dst), append(kr, rhs[i])
					}
				}
				if len(kl) < len(lhs) {
					changed = true
					if len(kl) > 0 {
						out = append(out, m[1]+strings.Join(kl, ", ")+" = "+strings.Join(kr, ", "))
					}
					continue
				}
			}
		} else if names, op, rest := splitStore(l); op == ":=" && len(names) == 1 && dead(names[0]) {
			// A fresh value that only fed dead parts: evaluated for its
			// checks and errors, kept nowhere.
			changed = true
			indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
			l = indent + "_ = " + rest
		} else if op == "=" {
			hit := false
			for i, n := range names {
				if dead(n) {
					names[i], hit = "_", true
				}
			}
			if hit {
				changed = true
				indent := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
				l = indent + strings.Join(names, ", ") + " = " + rest
			}
		}
		out = append(out, l)
	}
	if !changed {
		return code
	}
	// Declarations of dead locals nothing mentions any more.
	mentions := map[string]int{}
	for _, l := range out {
		for _, id := range identRE.FindAllString(l, -1) {
			mentions[id]++
		}
	}
	lines = out[:0:0]
	for _, l := range out {
		if m := varDecRE.FindStringSubmatch(l); m != nil && dead(m[1]) && mentions[m[1]] == 1 && !strings.Contains(l, " = ") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}
