package ir

import (
	"fmt"
	"math"
	"slices"

	"github.com/nabla-lang/nabla/runtime"
)

// Evaluators of the array primitives (prim_array.go) and of
// stop_gradient. The AD operators have none: the ad package expands them
// before a program runs. Each specializes its primitive for the static
// types and binds it to runtime's checks and kernels, charging steps and
// allocating around them; the numeric work is runtime's.
//
// Conventions shared by all of them:
//
//   - Arrays are immutable, so operations that only select (index, slice,
//     take, drop, flatten, reshape) return views sharing storage and cost
//     no steps; everything that writes n elements charges n steps before
//     it allocates, so a step limit stops a huge operation before its
//     memory is taken.
//   - Function arguments are called once per element, each call charged
//     one step on top of what the function itself costs. map and build
//     first offer the whole array to a runtime.BatchFunc.
//   - Sizes known only at run time are checked here; the messages name
//     both sizes. Errors carry no position: the interpreter adds it.
//   - Reductions over a multi-dimensional array (sum, prod, maximum,
//     minimum, mean, norm, logsumexp) take all its elements, as numpy and
//     JAX do without an axis. i64 sums and products wrap around on
//     overflow, like Go's integers.
//   - maximum and minimum propagate NaN (as max and min do, so that
//     maximum(x) equals reduce(max, -inf, x)); argmax and argmin count NaN
//     as the extreme and return the first NaN's index, as numpy does, so
//     that x[argmax(x)] and maximum(x) agree also when x holds a NaN.

// rowsOf is rows [lo, hi) of a, a itself when that is all of it (a piece
// of a short loop costs no header).
func rowsOf(a *runtime.Array, lo, hi int) *runtime.Array {
	if lo == 0 && hi == a.Len() {
		return a
	}
	return a.Slice(lo, hi)
}

// copyRows copies src's elements into dst's flat storage from off, in
// pieces that look at the call's context.
func copyRows(m *runtime.Machine, dst *runtime.Array, off int, src *runtime.Array) error {
	if src.Len() == 0 {
		return nil
	}
	rs := src.RowSize()
	return runtime.Pieces(m, src.Len(), max(rs, 1), func(lo, hi int) error {
		runtime.CopyFlat(dst, off+lo*rs, rowsOf(src, lo, hi))
		return nil
	})
}

// errValue is the value returned beside an error.
var errValue = runtime.Value{}

// storage is the Elem kind of the storage of an array whose elements have
// type t: the scalar at the bottom of nested arrays, or boxed values.
func storage(t Type) runtime.Elem {
	for {
		switch u := t.(type) {
		case *Array:
			t = u.Elem
		case Scalar:
			switch u.Kind {
			case F64:
				return runtime.ElemF64
			case I64:
				return runtime.ElemI64
			}
			return runtime.ElemBool
		default:
			return runtime.ElemBox
		}
	}
}

// funcArg is the static type of function-valued argument i.
func funcArg(name string, s *Site, i int) (*Func, error) {
	f, ok := s.Args[i].(*Func)
	if !ok {
		return nil, fmt.Errorf("%s: argument %d has type %s; want a function", name, i+1, s.Args[i])
	}
	return f, nil
}

// function reads a function-valued argument.
func function(name string, v runtime.Value) (runtime.Func, error) {
	f := v.Fn()
	if f == nil {
		return nil, fmt.Errorf("%s: argument is not a function", name)
	}
	return f, nil
}

// call calls f with a fresh argument slice: a Func may keep its arguments
// (a closure's frame), so one slice is never reused across calls.
func call(m *runtime.Machine, f runtime.Func, args ...runtime.Value) (runtime.Value, error) {
	if err := m.Step(1); err != nil {
		return errValue, err
	}
	return f.Call(m, args)
}

// StackerOf is the runtime.Stacker that build and map use for elements of
// type elem, for code that stacks such elements itself (the interpreter's
// inlined comprehensions).
func StackerOf(name string, elem Type) runtime.Stacker { return newStacker(name, elem) }

// newStacker is the runtime.Stacker of arrays of elem: the storage, and
// the static row shape for an empty result.
func newStacker(name string, elem Type) runtime.Stacker {
	st := runtime.Stacker{Name: name, Kind: storage(elem)}
	if _, ok := elem.(*Array); ok {
		st.Rows = true
		for _, d := range Dims(elem) {
			if d.Known() {
				st.Empty = append(st.Empty, int(d.N))
			} else {
				st.Empty = append(st.Empty, 0)
			}
		}
	}
	return st
}

func evalLen(*Site) (Impl, error) {
	return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		return runtime.I64(int64(args[0].Array().Len())), nil
	}, nil
}

func evalDim(s *Site) (Impl, error) {
	axis, ok := s.Aux.(int)
	if !ok || axis < 0 || axis >= Rank(s.Args[0]) {
		return nil, fmt.Errorf("dim: %s has no axis %v", s.Args[0], s.Aux)
	}
	return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		return runtime.I64(int64(args[0].Array().Shape[axis])), nil
	}, nil
}

func evalIota(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a, err := makeIota(m, args[0].I)
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(a), nil
	}, nil
}

func makeIota(m *runtime.Machine, size int64) (*runtime.Array, error) {
	n, err := runtime.CheckSize(size)
	if err != nil {
		return nil, err
	}
	if err := m.Step(int64(n)); err != nil {
		return nil, err
	}
	a, err := runtime.NewI64(m, n)
	if err != nil {
		return nil, err
	}
	return a, runtime.Pieces(m, n, 1, func(lo, hi int) error { runtime.IotaFrom(a.I[lo:hi], int64(lo)); return nil })
}

// evalConstF64 is zeros (c = 0) and ones (c = 1).
func evalConstF64(c float64) func(*Site) (Impl, error) {
	return func(*Site) (Impl, error) {
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			n, err := runtime.CheckSize(args[0].I)
			if err != nil {
				return errValue, err
			}
			if err := m.Step(int64(n)); err != nil {
				return errValue, err
			}
			a, err := runtime.NewF64(m, n)
			if err != nil {
				return errValue, err
			}
			if c != 0 {
				err = runtime.Pieces(m, n, 1, func(lo, hi int) error { runtime.Fill(a.F[lo:hi], c); return nil })
			}
			return runtime.Arr(a), err
		}, nil
	}
}

func evalFill(s *Site) (Impl, error) {
	st := newStacker("fill", s.Args[1])
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		n, err := runtime.CheckSize(args[0].I)
		if err != nil {
			return errValue, err
		}
		v := args[1]
		per := 1
		if a := v.Array(); a != nil {
			per = max(a.N(), 1)
		}
		total, err := runtime.MulSize(n, per)
		if err != nil {
			return errValue, err
		}
		if err := m.Step(int64(total)); err != nil {
			return errValue, err
		}
		if r := v.Array(); r != nil && n == 0 {
			// No row to stack, but the row shape is v's.
			a, err := runtime.New(m, r.Kind, append([]int{0}, r.Shape...)...)
			if err != nil {
				return errValue, err
			}
			return runtime.Arr(a), nil
		}
		a, err := st.Stack(m, n, func(int) (runtime.Value, error) { return v, nil })
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(a), nil
	}, nil
}

func evalBuild(s *Site) (Impl, error) {
	ft, err := funcArg("build", s, 1)
	if err != nil {
		return nil, err
	}
	st := newStacker("build", ft.Result)
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		n, err := runtime.CheckSize(args[0].I)
		if err != nil {
			return errValue, err
		}
		f, err := function("build", args[1])
		if err != nil {
			return errValue, err
		}
		if bf, ok := f.(runtime.BatchFunc); ok {
			idx, err := makeIota(m, int64(n))
			if err != nil {
				return errValue, err
			}
			if v, ok, err := bf.CallBatch(m, n, []runtime.Value{runtime.Arr(idx)}); err != nil || ok {
				return v, err
			}
		}
		a, err := st.Stack(m, n, func(i int) (runtime.Value, error) {
			return call(m, f, runtime.I64(int64(i)))
		})
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(a), nil
	}, nil
}

func evalArrayLit(s *Site) (Impl, error) {
	if len(s.Args) == 0 {
		return nil, fmt.Errorf("array literal: no elements")
	}
	st := newStacker("array literal", s.Args[0])
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		if err := m.Step(int64(len(args))); err != nil {
			return errValue, err
		}
		a, err := st.Stack(m, len(args), func(i int) (runtime.Value, error) { return args[i], nil })
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(a), nil
	}, nil
}

func evalIndex(*Site) (Impl, error) {
	return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a, i := args[0].Array(), args[1].I
		if err := runtime.CheckIndex(i, a.Len()); err != nil {
			return errValue, err
		}
		return a.At(int(i)), nil
	}, nil
}

func evalSlice(*Site) (Impl, error) {
	return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a, lo, hi := args[0].Array(), args[1].I, args[2].I
		if err := runtime.CheckSlice(lo, hi, a.Len()); err != nil {
			return errValue, err
		}
		return runtime.Arr(a.Slice(int(lo), int(hi))), nil
	}, nil
}

// evalTake and evalDrop are a[:k] and a[k:], with k in [0, len(a)].
func evalTake(*Site) (Impl, error) { return takeDrop("take", true), nil }
func evalDrop(*Site) (Impl, error) { return takeDrop("drop", false), nil }

func takeDrop(name string, take bool) Impl {
	return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a, k := args[0].Array(), args[1].I
		if err := runtime.CheckCount(name, k, a.Len()); err != nil {
			return errValue, err
		}
		if take {
			return runtime.Arr(a.Slice(0, int(k))), nil
		}
		return runtime.Arr(a.Slice(int(k), a.Len())), nil
	}
}

func evalUpdate(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a, i, v := args[0].Array(), args[1].I, args[2]
		if err := checkUpdate(m, a, i, v); err != nil {
			return errValue, err
		}
		b, err := runtime.New(m, a.Kind, slices.Clone(a.Shape)...)
		if err != nil {
			return errValue, err
		}
		if err := copyRows(m, b, 0, a); err != nil {
			return errValue, err
		}
		b.SetRow(int(i), v)
		return runtime.Arr(b), nil
	}, nil
}

// CheckUpdate is update(a, i, v)'s checks and steps, for an evaluator
// that makes the result itself (the interpreter's tape copies).
func CheckUpdate(m *runtime.Machine, a *runtime.Array, i int64, v runtime.Value) error {
	return checkUpdate(m, a, i, v)
}

// checkUpdate checks update(a, i, v) and charges its steps.
func checkUpdate(m *runtime.Machine, a *runtime.Array, i int64, v runtime.Value) error {
	if err := runtime.CheckIndex(i, a.Len()); err != nil {
		return err
	}
	if a.Rank() > 1 {
		if r := v.Array(); !runtime.SameShape(r.Shape, a.Shape[1:]) {
			return fmt.Errorf("update: value has shape %s; elements have shape %s", runtime.ShapeString(r.Shape), runtime.ShapeString(a.Shape[1:]))
		}
	}
	return m.Step(int64(a.N()))
}

// UpdateInPlace is update(a, i, v) writing into a itself, for an
// evaluator that knows nothing else refers to a (a fresh array that dies
// with the call): the same checks and steps, no copy.
func UpdateInPlace(m *runtime.Machine, a *runtime.Array, i int64, v runtime.Value) error {
	if err := checkUpdate(m, a, i, v); err != nil {
		return err
	}
	a.SetRow(int(i), v)
	return nil
}

func evalGather(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a, idx := args[0].Array(), args[1].Array().I
		if err := runtime.CheckIndices(idx, a.Len()); err != nil {
			return errValue, err
		}
		rs := a.RowSize()
		if err := m.Step(int64(len(idx) * max(rs, 1))); err != nil {
			return errValue, err
		}
		out, err := runtime.New(m, a.Kind, append([]int{len(idx)}, a.Shape[1:]...)...)
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(out), runtime.Pieces(m, len(idx), max(rs, 1), func(lo, hi int) error {
			runtime.GatherArray(rowsOf(out, lo, hi), a, idx[lo:hi])
			return nil
		})
	}, nil
}

// batch offers all n elements to a BatchFunc at once.
func batch(m *runtime.Machine, f runtime.Func, n int, arrays []runtime.Value) (runtime.Value, bool, error) {
	bf, ok := f.(runtime.BatchFunc)
	if !ok {
		return errValue, false, nil
	}
	return bf.CallBatch(m, n, arrays)
}

func evalMap(s *Site) (Impl, error) {
	ft, err := funcArg("map", s, 0)
	if err != nil {
		return nil, err
	}
	st := newStacker("map", ft.Result)
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		f, err := function("map", args[0])
		if err != nil {
			return errValue, err
		}
		arrays := make([]*runtime.Array, len(args)-1)
		for j, v := range args[1:] {
			arrays[j] = v.Array()
			if j > 0 && arrays[j].Len() != arrays[0].Len() {
				return errValue, fmt.Errorf("map: sizes %d and %d differ", arrays[0].Len(), arrays[j].Len())
			}
		}
		n := arrays[0].Len()
		if v, ok, err := batch(m, f, n, slices.Clone(args[1:])); err != nil || ok {
			return v, err
		}
		a, err := st.Stack(m, n, func(i int) (runtime.Value, error) {
			xs := make([]runtime.Value, len(arrays))
			for j, arr := range arrays {
				xs[j] = arr.At(i)
			}
			return call(m, f, xs...)
		})
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(a), nil
	}, nil
}

// evalReduce combines left to right from ne: ((ne op a[0]) op a[1]) ...
// The order is fixed so that results do not depend on how the array is
// split, even for an op that is only nearly associative (f64 +).
func evalReduce(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		return foldLeft(m, "reduce", args)
	}, nil
}

func evalFold(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		return foldLeft(m, "fold", args)
	}, nil
}

func foldLeft(m *runtime.Machine, name string, args []runtime.Value) (runtime.Value, error) {
	f, err := function(name, args[0])
	if err != nil {
		return errValue, err
	}
	acc, a := args[1], args[2].Array()
	for i := 0; i < a.Len(); i++ {
		if acc, err = call(m, f, acc, a.At(i)); err != nil {
			return errValue, err
		}
	}
	return acc, nil
}

// evalScan is the inclusive scan: out[i] = ne op a[0] op ... op a[i].
func evalScan(s *Site) (Impl, error) {
	at, ok := s.Args[2].(*Array)
	if !ok {
		return nil, fmt.Errorf("scan: argument 3 has type %s; want an array", s.Args[2])
	}
	st := newStacker("scan", at.Elem)
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		f, err := function("scan", args[0])
		if err != nil {
			return errValue, err
		}
		acc, a := args[1], args[2].Array()
		out, err := st.Stack(m, a.Len(), func(i int) (runtime.Value, error) {
			acc, err = call(m, f, acc, a.At(i))
			return acc, err
		})
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(out), nil
	}, nil
}

func evalZip(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		arrays := make([]*runtime.Array, len(args))
		for j, v := range args {
			arrays[j] = v.Array()
			if j > 0 && arrays[j].Len() != arrays[0].Len() {
				return errValue, fmt.Errorf("zip: sizes %d and %d differ", arrays[0].Len(), arrays[j].Len())
			}
		}
		n := arrays[0].Len()
		if err := m.Step(int64(n)); err != nil {
			return errValue, err
		}
		out, err := runtime.NewBox(m, n)
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(out), runtime.ZipPolled(m, out.Box, arrays)
	}, nil
}

func evalUnzip(s *Site) (Impl, error) {
	var elems []Type
	if at, ok := s.Args[0].(*Array); ok {
		if t, ok := at.Elem.(*Tuple); ok {
			elems = t.Elems
		}
	}
	if elems == nil {
		return nil, fmt.Errorf("unzip: argument has type %s; want an array of tuples", s.Args[0])
	}
	sts := make([]runtime.Stacker, len(elems))
	for j, e := range elems {
		sts[j] = newStacker("unzip", e)
	}
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a := args[0].Array()
		if err := m.Step(int64(a.Len() * len(sts))); err != nil {
			return errValue, err
		}
		out, err := runtime.Unzip(m, a.Box, sts)
		if err != nil {
			return errValue, err
		}
		return runtime.Value{R: out}, nil
	}, nil
}

// evalReduction is a reduction over all elements of an f64 array, or of an
// i64 array when i is not nil. Both are runtime's polled kernels, which
// look at the call's context while they run.
func evalReduction(name string, f func(*runtime.Machine, []float64) (float64, error), i func(*runtime.Machine, []int64) (int64, error)) func(*Site) (Impl, error) {
	return func(s *Site) (Impl, error) {
		k, ok := Leaf(s.Args[0])
		switch {
		case ok && k == F64:
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				a := args[0].Array()
				if err := m.Step(int64(len(a.F))); err != nil {
					return errValue, err
				}
				r, err := f(m, a.F)
				return runtime.F64(r), err
			}, nil
		case ok && k == I64 && i != nil:
			return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
				a := args[0].Array()
				if err := m.Step(int64(len(a.I))); err != nil {
					return errValue, err
				}
				r, err := i(m, a.I)
				return runtime.I64(r), err
			}, nil
		}
		return nil, fmt.Errorf("%s: argument has type %s; want an array of f64 or i64", name, s.Args[0])
	}
}

func evalArg(name string, f func(*runtime.Machine, []float64) (int, error), fi func(*runtime.Machine, []int64) (int, error)) func(*Site) (Impl, error) {
	return func(s *Site) (Impl, error) {
		k, _ := Leaf(s.Args[0])
		isF64 := k == F64
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			a := args[0].Array()
			if a.Len() == 0 {
				return errValue, fmt.Errorf("%s of an empty array", name)
			}
			err := m.Step(int64(a.Len()))
			if err != nil {
				return errValue, err
			}
			var i int
			if isF64 {
				i, err = f(m, a.F)
			} else {
				i, err = fi(m, a.I)
			}
			return runtime.I64(int64(i)), err
		}, nil
	}
}

func evalSoftmax(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		x := args[0].Array()
		if err := m.Step(int64(len(x.F))); err != nil {
			return errValue, err
		}
		out, err := runtime.NewF64(m, slices.Clone(x.Shape)...)
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(out), runtime.SoftmaxPolled(m, out.F, x.F)
	}, nil
}

func evalDot(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		x, y := args[0].Array(), args[1].Array()
		if len(x.F) != len(y.F) {
			return errValue, fmt.Errorf("dot: sizes %d and %d differ", len(x.F), len(y.F))
		}
		if err := m.Step(int64(len(x.F))); err != nil {
			return errValue, err
		}
		d, err := runtime.DotPolled(m, x.F, y.F)
		return runtime.F64(d), err
	}, nil
}

func evalOuter(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		x, y := args[0].Array().F, args[1].Array().F
		total, err := runtime.MulSize(len(x), len(y))
		if err != nil {
			return errValue, err
		}
		if err := m.Step(int64(total)); err != nil {
			return errValue, err
		}
		out, err := runtime.NewF64(m, len(x), len(y))
		if err != nil {
			return errValue, err
		}
		n := len(y)
		return runtime.Arr(out), runtime.Pieces(m, len(x), n, func(lo, hi int) error {
			runtime.Outer(out.F[lo*n:hi*n], x[lo:hi], y)
			return nil
		})
	}, nil
}

// evalMatmul is @ in its four forms, chosen by the operands' static ranks:
// matrix @ matrix (gemm), matrix @ vector (gemv), vector @ matrix (gemv on
// the transpose, without forming it) and vector @ vector (dot).
func evalMatmul(s *Site) (Impl, error) {
	ra, rb := Rank(s.Args[0]), Rank(s.Args[1])
	mismatch := func(a, b *runtime.Array) error {
		return fmt.Errorf("'@': inner sizes differ: %s @ %s", runtime.ShapeString(a.Shape), runtime.ShapeString(b.Shape))
	}
	// alloc charges the product's work (m·n·k multiply-adds, at least
	// one step per result element) and allocates its result.
	alloc := func(m *runtime.Machine, work int64, shape ...int) (*runtime.Array, error) {
		n, err := runtime.CheckShape(shape)
		if err != nil {
			return nil, err
		}
		if err := m.Step(max(work, int64(n))); err != nil {
			return nil, err
		}
		if len(shape) == 1 {
			return runtime.NewVec(m, runtime.ElemF64, shape[0]) // no shape to allocate when recycled
		}
		return runtime.NewF64(m, slices.Clone(shape)...) // shape does not escape: callers keep it on the stack
	}
	// work is a product's multiply-adds, saturated: the step limit is
	// what it is compared with.
	work := func(dims ...int) int64 {
		w := int64(1)
		for _, d := range dims {
			if d != 0 && w > math.MaxInt64/int64(d) {
				return math.MaxInt64
			}
			w *= int64(d)
		}
		return w
	}
	switch {
	case ra == 2 && rb == 2:
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			a, b := args[0].Array(), args[1].Array()
			rows, k, cols := a.Shape[0], a.Shape[1], b.Shape[1]
			if b.Shape[0] != k {
				return errValue, mismatch(a, b)
			}
			c, err := alloc(m, work(rows, k, cols), rows, cols)
			if err != nil {
				return errValue, err
			}
			return runtime.Arr(c), runtime.MatMulPolled(m, c.F, a.F, b.F, rows, k, cols)
		}, nil
	case ra == 2 && rb == 1:
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			a, x := args[0].Array(), args[1].Array()
			rows, k := a.Shape[0], a.Shape[1]
			if x.Shape[0] != k {
				return errValue, mismatch(a, x)
			}
			y, err := alloc(m, work(rows, k), rows)
			if err != nil {
				return errValue, err
			}
			return runtime.Arr(y), runtime.MatVecPolled(m, y.F, a.F, x.F, rows, k)
		}, nil
	case ra == 1 && rb == 2:
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			x, b := args[0].Array(), args[1].Array()
			k, cols := b.Shape[0], b.Shape[1]
			if x.Shape[0] != k {
				return errValue, mismatch(x, b)
			}
			y, err := alloc(m, work(k, cols), cols)
			if err != nil {
				return errValue, err
			}
			return runtime.Arr(y), runtime.VecMatPolled(m, y.F, x.F, b.F, k, cols)
		}, nil
	case ra == 1 && rb == 1:
		return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
			x, y := args[0].Array(), args[1].Array()
			if len(x.F) != len(y.F) {
				return errValue, mismatch(x, y)
			}
			if err := m.Step(int64(len(x.F))); err != nil {
				return errValue, err
			}
			d, err := runtime.DotPolled(m, x.F, y.F)
			return runtime.F64(d), err
		}, nil
	}
	return nil, fmt.Errorf("'@' needs f64 vectors or matrices, got %s and %s", s.Args[0], s.Args[1])
}

// evalTranspose swaps the two outer axes of [m][n]T; T may itself be an
// array (its elements move as blocks) or boxed.
func evalTranspose(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a := args[0].Array()
		if err := m.Step(int64(a.N())); err != nil {
			return errValue, err
		}
		out, err := runtime.New(m, a.Kind, append([]int{a.Shape[1], a.Shape[0]}, a.Shape[2:]...)...)
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(out), runtime.TransposeArrayPolled(m, out, a)
	}, nil
}

func evalFlatten(*Site) (Impl, error) {
	return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a := args[0].Array()
		return runtime.Arr(a.View(append([]int{a.Shape[0] * a.Shape[1]}, a.Shape[2:]...))), nil
	}, nil
}

func evalReshape(*Site) (Impl, error) {
	return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a, rows, cols := args[0].Array(), args[1].I, args[2].I
		if err := runtime.CheckReshape(int64(a.N()), rows, cols); err != nil {
			return errValue, err
		}
		return runtime.Arr(a.View([]int{int(rows), int(cols)})), nil
	}, nil
}

func evalConcat(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a, b := args[0].Array(), args[1].Array()
		if !runtime.SameShape(a.Shape[1:], b.Shape[1:]) {
			return errValue, fmt.Errorf("concat: elements have shapes %s and %s", runtime.ShapeString(a.Shape[1:]), runtime.ShapeString(b.Shape[1:]))
		}
		if err := m.Step(int64(a.N() + b.N())); err != nil {
			return errValue, err
		}
		out, err := runtime.New(m, a.Kind, append([]int{a.Len() + b.Len()}, a.Shape[1:]...)...)
		if err != nil {
			return errValue, err
		}
		if err := copyRows(m, out, 0, a); err != nil {
			return errValue, err
		}
		return runtime.Arr(out), copyRows(m, out, a.N(), b)
	}, nil
}

func evalReverse(*Site) (Impl, error) {
	return func(m *runtime.Machine, args []runtime.Value) (runtime.Value, error) {
		a := args[0].Array()
		if err := m.Step(int64(a.N())); err != nil {
			return errValue, err
		}
		out, err := runtime.New(m, a.Kind, slices.Clone(a.Shape)...)
		if err != nil {
			return errValue, err
		}
		return runtime.Arr(out), runtime.ReverseArrayPolled(m, out, a)
	}, nil
}

func evalStopGradient(*Site) (Impl, error) {
	return func(_ *runtime.Machine, args []runtime.Value) (runtime.Value, error) { return args[0], nil }, nil
}
