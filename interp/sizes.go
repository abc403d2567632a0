package interp

import (
	"fmt"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// sizeBind is a size variable of a def, compiled: where its value comes
// from and which further dimensions must equal it (SPEC §2: sizes not
// known statically are checked on entry, naming both sizes).
type sizeBind struct {
	name      string
	slot      int  // the size variable's slot (for an i64 parameter, the parameter's)
	fromParam bool // the size variable is an i64 parameter (def f(n: i64, x: [n]f64))
	param     int  // otherwise: the size is dimension axis of the array at path in parameter param
	path      []int
	axis      int
	checks    []dimCheck
}

// dimCheck is a dimension that must equal a size variable.
type dimCheck struct {
	param, axis int
	path        []int
	pos         ir.Pos
}

// constDim is a parameter dimension of constant size (x: [3]f64), checked
// on entry because a caller's argument may have a size known only at run
// time.
type constDim struct {
	param, axis int
	n           int64
	pos         ir.Pos
}

// compileSizes prepares the entry checks of a function def and gives its
// size variables slots right after the parameters.
func (dc *defCode) compileSizes(c *fnComp) error {
	d := dc.def
	paramIndex := make(map[*ir.Var]int, len(d.Params))
	for i, p := range d.Params {
		paramIndex[p] = i
	}
	checkAxis := func(param int, path []int, axis int, pos ir.Pos) error {
		if param < 0 || param >= len(d.Params) || axis < 0 || axis >= ir.Rank(ir.PathType(d.Params[param].T, path)) {
			return ir.Errorf(orPos(pos, d.P), "def %s: size variable refers to axis %d of parameter %d, which does not exist", d.Name, axis, param+1)
		}
		return nil
	}
	for _, sv := range d.SizeVars {
		if sv.Var == nil {
			return ir.Errorf(d.P, "def %s: size variable without a variable", d.Name)
		}
		sb := sizeBind{name: sv.Var.Name, param: sv.Param, path: sv.Path, axis: sv.Axis}
		if sv.Param < 0 {
			i, isParam := paramIndex[sv.Var]
			if !isParam {
				return ir.Errorf(orPos(sv.Var.P, d.P), "def %s: size variable %s has no source", d.Name, sv.Var.Name)
			}
			sb.fromParam, sb.slot = true, i
		} else {
			if err := checkAxis(sv.Param, sv.Path, sv.Axis, sv.Var.P); err != nil {
				return err
			}
			sb.slot = c.alloc(1)
			c.bind(sv.Var, sb.slot)
		}
		for _, r := range sv.Checks {
			if err := checkAxis(r.Param, r.Path, r.Axis, r.P); err != nil {
				return err
			}
			sb.checks = append(sb.checks, dimCheck{param: r.Param, path: r.Path, axis: r.Axis, pos: orPos(r.P, d.P)})
		}
		dc.sizes = append(dc.sizes, sb)
	}
	for i, p := range d.Params {
		for axis, dim := range ir.Dims(p.T) {
			if dim.Known() {
				dc.dims = append(dc.dims, constDim{param: i, axis: axis, n: dim.N, pos: orPos(p.P, d.P)})
			}
		}
	}
	return nil
}

// bindSizes sets the size variables of a def from its arguments and checks
// that every dimension agrees with them.
func (dc *defCode) bindSizes(fr *frame) error {
	for i := range dc.sizes {
		sb := &dc.sizes[i]
		var val int64
		if sb.fromParam {
			val = fr.slots[sb.slot].I
		} else {
			d, err := dc.dimOf(fr, sb.param, sb.path, sb.axis)
			if err != nil {
				return err
			}
			val = d
			fr.slots[sb.slot] = runtime.I64(val)
		}
		for _, c := range sb.checks {
			d, err := dc.dimOf(fr, c.param, c.path, c.axis)
			if err != nil {
				return err
			}
			if d != val {
				return &ir.Error{Pos: c.pos, Msg: dc.mismatch(sb, val, c, d)}
			}
		}
	}
	for _, cd := range dc.dims {
		d, err := dc.dimOf(fr, cd.param, nil, cd.axis)
		if err != nil {
			return err
		}
		if d != cd.n {
			return ir.Errorf(cd.pos, "size mismatch: %s has size %d but its type %s says %d",
				dc.dimName(cd.param, nil, cd.axis), d, dc.params[cd.param], cd.n)
		}
	}
	return nil
}

// mismatch words a failed size check, naming both sizes and where each
// comes from: "size mismatch: n is 2 (x) but y has size 3".
func (dc *defCode) mismatch(sb *sizeBind, val int64, c dimCheck, got int64) string {
	if sb.fromParam {
		return fmt.Sprintf("size mismatch: %s is %d but %s has size %d", sb.name, val, dc.dimName(c.param, c.path, c.axis), got)
	}
	return fmt.Sprintf("size mismatch: %s is %d (%s) but %s has size %d",
		sb.name, val, dc.dimName(sb.param, sb.path, sb.axis), dc.dimName(c.param, c.path, c.axis), got)
}

// dimName names dimension axis of the array at path in a parameter: "x",
// "dimension 2 of x", "field 1 of p".
func (dc *defCode) dimName(param int, path []int, axis int) string {
	name := dc.def.Params[param].Name
	for _, i := range path {
		name = fmt.Sprintf("field %d of %s", i, name)
	}
	if axis == 0 {
		return name
	}
	return fmt.Sprintf("dimension %d of %s", axis+1, name)
}

func (dc *defCode) dimOf(fr *frame, param int, path []int, axis int) (int64, error) {
	v := fr.slots[param]
	for _, i := range path {
		t, ok := v.R.(runtime.Tuple)
		if !ok || i >= len(t) {
			return 0, internalErrorf(dc.pos, "parameter %s of %s has no field %v", dc.def.Params[param].Name, dc.name, path)
		}
		v = t[i]
	}
	a, ok := v.R.(*runtime.Array)
	if !ok || a == nil || axis >= len(a.Shape) {
		return 0, internalErrorf(dc.pos, "parameter %s of %s is not an array of rank %d", dc.def.Params[param].Name, dc.name, axis+1)
	}
	return int64(a.Shape[axis]), nil
}

// checkArgs checks the arguments of an entry call against the parameter
// types, so that a value of the wrong shape from an embedder is a clear
// error at the def rather than a failure somewhere inside it. Internal
// calls are well typed by construction and skip this.
func (dc *defCode) checkArgs(args []runtime.Value, params []ir.Type) error {
	if len(args) != len(params) {
		return ir.Errorf(dc.pos, "%s takes %d argument%s, got %d", dc.name, len(params), plural(len(params)), len(args))
	}
	for i, t := range params {
		if msg := checkValue(args[i], t); msg != "" {
			pos, what := dc.pos, fmt.Sprintf("argument %d", i+1)
			if dc.def.HasParams {
				p := dc.def.Params[i]
				pos, what = orPos(p.P, dc.pos), fmt.Sprintf("argument %d (%s)", i+1, p.Name)
			}
			return ir.Errorf(pos, "%s of %s: %s", what, dc.name, msg)
		}
	}
	return nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// checkValue reports how v fails to be a value of type t, or "".
func checkValue(v runtime.Value, t ir.Type) string {
	switch t := t.(type) {
	case ir.Scalar:
		if v.R != nil {
			return fmt.Sprintf("want %s, got %s", t, describe(v))
		}
		if t.Kind == ir.Bool && v.I != 0 && v.I != 1 {
			return fmt.Sprintf("want bool (0 or 1), got %d", v.I)
		}
	case *ir.Array:
		a, ok := v.R.(*runtime.Array)
		if !ok || a == nil {
			return fmt.Sprintf("want %s, got %s", t, describe(v))
		}
		// The dimensions, walked without ir.Dims, which allocates: this
		// runs on every call.
		var leaf ir.Type = t
		n, rank := 1, 0
		for {
			at, ok := leaf.(*ir.Array)
			if !ok {
				break
			}
			if rank == len(a.Shape) {
				return fmt.Sprintf("want %s, got %s", t, describe(v))
			}
			d := a.Shape[rank]
			if d < 0 || (at.Dim.Known() && int64(d) != at.Dim.N) {
				return fmt.Sprintf("want %s, got %s", t, describe(v))
			}
			n *= d
			rank++
			leaf = at.Elem
		}
		if rank != len(a.Shape) {
			return fmt.Sprintf("want %s, got %s", t, describe(v))
		}
		want, length := runtime.ElemBox, len(a.Box)
		if s, ok := leaf.(ir.Scalar); ok {
			switch s.Kind {
			case ir.F64:
				want, length = runtime.ElemF64, len(a.F)
			case ir.I64:
				want, length = runtime.ElemI64, len(a.I)
			default:
				want, length = runtime.ElemBool, len(a.B)
			}
		}
		if a.Kind != want {
			return fmt.Sprintf("want %s, got %s", t, describe(v))
		}
		if length != n {
			return fmt.Sprintf("malformed array: shape %s but %d elements", runtime.ShapeString(a.Shape), length)
		}
		if want == runtime.ElemBox {
			for _, e := range a.Box {
				if msg := checkValue(e, leaf); msg != "" {
					return "element: " + msg
				}
			}
		}
	case *ir.Tuple:
		tv, ok := v.R.(runtime.Tuple)
		if !ok || len(tv) != len(t.Elems) {
			return fmt.Sprintf("want %s, got %s", t, describe(v))
		}
		for i, e := range t.Elems {
			if msg := checkValue(tv[i], e); msg != "" {
				return fmt.Sprintf("field %d: %s", i, msg)
			}
		}
	case *ir.Func:
		if f, ok := v.R.(runtime.Func); !ok || f == nil {
			return fmt.Sprintf("want %s, got %s", t, describe(v))
		}
	default:
		return fmt.Sprintf("unsupported parameter type %v", t)
	}
	return ""
}

// describe names the kind of a run-time value for error messages.
func describe(v runtime.Value) string {
	switch r := v.R.(type) {
	case nil:
		return "a scalar"
	case *runtime.Array:
		if r == nil {
			return "a nil array"
		}
		kind := [...]string{"f64", "i64", "bool", "boxed"}[r.Kind&3]
		return "an array " + runtime.ShapeString(r.Shape) + kind
	case runtime.Tuple:
		return fmt.Sprintf("a tuple of %d", len(r))
	case runtime.Func:
		return "a function"
	}
	return fmt.Sprintf("a %T", v.R)
}
