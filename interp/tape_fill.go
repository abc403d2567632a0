package interp

import (
	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// compileAccAddConst compiles acc_add(zeros_like(x), s) with x an f64
// vector and s an f64 scalar: the cotangent of sum, a vector of 0 + s,
// which reverse passes make once per saved vector (the element-wise GMM
// once per point, component and row). It runs as zeros_like then
// acc_add would, without the generic call: x is evaluated, the zero made
// (recycling x when it dies there, as compileZerosLike does), then s, then
// every element gets 0 + s (so -0 becomes +0, as in the primitive) and
// acc_add's steps are charged at its position. acc_add(zeros(n), s), the
// form rewrite's shapezeros leaves where x was a tape read, runs the same
// way with zeros for zeros_like (compileZerosVec). ok is false for other
// expressions.
func (c *fnComp) compileAccAddConst(e *ir.PrimCall) (evalFn, bool, error) {
	var ok bool
	if plainTyped || e.Op != ir.PrimAccAdd || len(e.Args) != 2 || ir.Rank(e.T) != 1 || !ir.Identical(e.Args[1].Type(), ir.TF64) {
		return nil, false, nil
	}
	var zero evalFn
	var err error
	if zc, isZeros := zerosCall(e.Args[0]); isZeros {
		zero, err = c.compileZerosVec(zc)
		ok = err == nil
	} else {
		z, isLike := zerosLikeCall(e.Args[0])
		if !isLike {
			return nil, false, nil
		}
		zero, ok, err = c.compileZerosLike(z)
	}
	if !ok || err != nil {
		return nil, ok, err
	}
	s, err := c.typedF(e.Args[1])
	if err != nil {
		return nil, true, err
	}
	pos := e.P
	return func(fr *frame) (runtime.Value, error) {
		zv, err := zero(fr)
		if err != nil {
			return zv, err
		}
		y := s(fr)
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		a := zv.R.(*runtime.Array)
		y += 0
		for i := range a.F {
			a.F[i] = y
		}
		if err := fr.m.Step(int64(len(a.F))); err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		return zv, nil
	}, true, nil
}

// compileZerosVec compiles zeros(n) of an f64 vector as the primitive
// runs it (n checked, n steps charged, errors at its position), making the
// vector as compileZerosLike does: runtime.NewVec, no shape slice.
func (c *fnComp) compileZerosVec(z *ir.PrimCall) (evalFn, error) {
	nv, err := c.typedI(z.Args[0])
	if err != nil {
		return nil, err
	}
	pos := z.P
	return func(fr *frame) (runtime.Value, error) {
		n64 := nv(fr)
		if fr.err != nil {
			return runtime.Value{}, fr.takeErr()
		}
		n, err := runtime.CheckSize(n64)
		if err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		if err := fr.m.Step(int64(n)); err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		a, err := runtime.NewVec(fr.m, runtime.ElemF64, n)
		if err != nil {
			return runtime.Value{}, errAt(pos, err)
		}
		return runtime.Arr(a), nil
	}, nil
}
