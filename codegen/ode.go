package codegen

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
)

// lowerODE integrates y' = f(t, y) by runtime.Dopri5, the interpreter's
// solver, so that both backends take the same steps. f is a Go func
// literal whose body is the inlined function; it reports errors by
// returning them. The arrays one evaluation of f allocates are released
// when the next one starts (Dopri5 has copied its result by then), so a
// solve's memory does not grow with its number of steps (TestODEArena). A run harness
// reports the attempted steps, as the builtin progress does, unless the
// call is quiet (differentiated code).
func lowerODE(f *fn, e *ir.PrimCall) val {
	sf := f.staticFn(e.Args[0])
	var args [5]string
	for i := range args {
		args[i] = f.compile(e.Args[i+1]).parts[0]
	}
	y0t := e.Args[1].Type()
	mark, rhs, t, y := f.fresh("mark"), f.fresh("rhs"), f.fresh("t"), f.fresh("y")
	f.line("%s := ar.Mark()", mark)
	f.line("%s := func(%s float64, %s []float64) ([]float64, error) {", rhs, t, y)
	// A fresh mark each time: a release is a no-op once the arena has
	// moved to a larger chunk since the mark (runtime.Arena), and the next
	// evaluation must still release this one's arrays.
	f.line("ar.Release(%s)", mark)
	f.line("%s = ar.Mark()", mark)
	saveHook, saveEnv, saveFenv := f.errHook, f.env, f.fenv
	f.env, f.fenv = cloneEnv(saveEnv), cloneFenv(saveFenv)
	f.errHook = func(errExpr string) string { return "return nil, " + errExpr }
	out := f.callStatic(sf, []val{valOf(ir.TF64, t), valOf(y0t, y, "len("+y+")")}, e.P, y0t)
	f.line("return %s, nil", out.parts[0])
	f.errHook, f.env, f.fenv = saveHook, saveEnv, saveFenv
	f.line("}")
	report := "nil"
	if f.g.opts.Main && e.Aux != ir.ODEQuiet {
		f.g.helper("nbProgress")
		report = `func(it int64, t, e, h float64) {
	if nbProgressOut != nil {
		nbReport("dopri5", it, t, e, h)
	}
}`
	}
	res, errv := f.fresh("y"), f.fresh("err")
	f.line("%s, %s := runtime.Dopri5(%s, %s, %s, %s, %s, %s, %s)", res, errv, rhs, args[0], args[1], args[2], args[3], args[4], report)
	f.line("ar.Release(%s)", mark)
	f.line("if %s != nil {", errv)
	f.retErr(fmt.Sprintf("runtime.WithPos(%q, %s)", posString(e.P), errv))
	f.line("}")
	return valOf(e.T, res, "len("+res+")")
}
