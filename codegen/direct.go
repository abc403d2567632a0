package codegen

import (
	"bytes"
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// Exported functions that hold their def's body. An exported function
// normally converts its arguments, calls the def's internal function and
// converts the results back. Where there is nothing to convert — the
// arguments are scalars and vectors, passed as they are, the results are
// scalars, and the def allocates nothing, so there is no arena to take —
// the call is all the exported function does, and for a short def (a
// Rosenbrock of ten elements, ~10 ns) that call and the second frame
// cost a fifth of the time. Such an exported function is the def's body
// compiled a second time, in place of the call: the same code, the
// parameters' parts bound from the exported arguments at the top, and
// every error given, as it leaves the function, the frame the call's
// caller would have added (fn.top). So the values and the errors are
// those of the call, bit for bit and word for word (TestDirectExports).
// The internal function stays for the def's other callers.

// direct reports whether the exported function of di can hold its body:
// the conditions above, a def with parameters (not a value or lambda
// def), no function parameters, and no column blocks (columns.go, whose
// wrapper the call goes through).
func (g *gen) direct(di *defInfo, params []exportParam, results []leaf) bool {
	if g.opts.noDirect || di.value || di.lambda != nil || !di.def.HasParams || di.arena || g.cols[di.def.Name] != nil {
		return false
	}
	for _, p := range params {
		if p.fn != nil || p.l.rank > 1 {
			return false
		}
	}
	for _, l := range results {
		if l.rank > 0 {
			return false
		}
	}
	return true
}

// emitDirectBody writes the body of di's exported function as the def's
// own code (see above) and reports true, or writes nothing and reports
// false, so that the caller emits the call instead, when the second
// compilation does not match the first (it fails or allocates where the
// first did not) or when the code uses a name that an exported
// parameter would shadow.
func (g *gen) emitDirectBody(w *bytes.Buffer, di *defInfo, name string, params []exportParam) bool {
	// Calls resolve in the def's own program (run emits the exported
	// functions after every program, with the last one's defs in g.defs).
	saveDefs := g.defs
	g.defs = di.scope
	_, code, _, f := g.defCode(di, di.def.Params, di.def.Body, frameArgs(di, ir.Pos{}), name)
	g.defs = saveDefs
	if f.fails != di.fails || f.arena {
		return false
	}
	// The parts of the parameters, bound as the call would pass them: a
	// vector's elements and length, a scalar as it is. A part the code
	// never mentions is not bound (Go rejects unused locals).
	mentioned := map[string]bool{}
	for _, id := range identRE.FindAllString(blankStrings(code), -1) {
		mentioned[id] = true
	}
	for _, p := range params {
		if mentioned[p.name] {
			// The code names something the parameter would hide (a
			// parameter called float64, copy or nbLoop3): call instead.
			return false
		}
	}
	k := 0
	for _, p := range di.def.Params {
		_, lp := f.env[p].leafParts()
		for _, parts := range lp {
			name := params[k].name
			k++
			values := []string{name}
			if len(parts) == 2 {
				values = append(values, "len("+name+")")
			}
			for j, part := range parts {
				if mentioned[part] {
					fmt.Fprintf(w, "%s := %s\n", part, values[j])
				}
			}
		}
	}
	if mentioned["ar"] {
		// Passed on to callees that allocate nothing either (or only
		// declared again by a parallel chunk: hence the blank use).
		w.WriteString("var ar *runtime.Arena // nothing to allocate\n_ = ar\n")
	}
	w.WriteString(code)
	return true
}
