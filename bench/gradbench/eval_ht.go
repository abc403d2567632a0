package gradbench

import (
	"encoding/json"
	"fmt"

	"github.com/nabla-lang/nabla/runtime"
)

func init() {
	variant := func(fn string) *function {
		return &function{
			defs:   []string{fn + "_simple", fn + "_complicated"},
			pick:   func(in *input) string { return fn + "_" + in.meta.(string) },
			encode: encodeArray,
		}
	}
	register(&eval{name: "ht", decode: decodeHT, funcs: map[string]*function{
		"objective": variant("objective"),
		"jacobian":  variant("jacobian"),
	}})
}

type htModel struct {
	Parents              []int64       `json:"parents"`
	BaseRelatives        [][][]float64 `json:"base_relatives"`
	InverseBaseAbsolutes [][][]float64 `json:"inverse_base_absolutes"`
	BasePositions        [][]float64   `json:"base_positions"`
	Weights              [][]float64   `json:"weights"`
	Triangles            [][]int64     `json:"triangles"`
	IsMirrored           bool          `json:"is_mirrored"`
}

type htData struct {
	Correspondences []int64     `json:"correspondences"`
	Points          [][]float64 `json:"points"`
	Model           *htModel    `json:"model"`
}

// decodeHT reads {theta: [26], us: [c][2] (empty in the simple variant),
// data: {correspondences, points, model: {...}}}. The variant, "simple" or
// "complicated", goes in meta and picks the defs.
func decodeHT(raw json.RawMessage) (*input, error) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	var theta []float64
	var us [][]float64
	var data htData
	for _, f := range []struct {
		name string
		dst  any
	}{{"theta", &theta}, {"us", &us}, {"data", &data}} {
		if err := field(in, f.name, f.dst); err != nil {
			return nil, err
		}
	}
	md := data.Model
	switch {
	case len(theta) != 26:
		return nil, fmt.Errorf("theta has %d elements, want 26", len(theta))
	case md == nil:
		return nil, fmt.Errorf("missing field \"data.model\"")
	case len(data.Correspondences) != len(data.Points):
		return nil, fmt.Errorf("%d correspondences for %d points", len(data.Correspondences), len(data.Points))
	case len(us) != 0 && len(us) != len(data.Points):
		return nil, fmt.Errorf("%d barycentric pairs (us) for %d points", len(us), len(data.Points))
	}
	nb, nv := len(md.Parents), len(md.BasePositions)
	for b, p := range md.Parents {
		if p >= int64(b) || p < -1 {
			return nil, fmt.Errorf("bone %d has parent %d: a bone's parent must come before it (or be -1)", b, p)
		}
	}
	points, err := f64Matrix("points", data.Points, 3)
	if err != nil {
		return nil, err
	}
	rel, err := f64Matrices("base_relatives", md.BaseRelatives, 4, 4)
	if err != nil {
		return nil, err
	}
	inv, err := f64Matrices("inverse_base_absolutes", md.InverseBaseAbsolutes, 4, 4)
	if err != nil {
		return nil, err
	}
	pos, err := f64Matrix("base_positions", md.BasePositions, 4)
	if err != nil {
		return nil, err
	}
	weights, err := f64Matrix("weights", md.Weights, nb)
	if err != nil {
		return nil, err
	}
	if len(md.BaseRelatives) != nb || len(md.InverseBaseAbsolutes) != nb || len(md.Weights) != nv {
		return nil, fmt.Errorf("the model has %d bones and %d vertices but %d base_relatives, %d inverse_base_absolutes and %d rows of weights",
			nb, nv, len(md.BaseRelatives), len(md.InverseBaseAbsolutes), len(md.Weights))
	}
	corr := ivec(data.Correspondences)
	model := []runtime.Value{ivec(md.Parents), rel, inv, pos, weights}
	if len(us) == 0 {
		args := append([]runtime.Value{vec(theta), corr, points}, model...)
		return &input{args: append(args, runtime.Bool(md.IsMirrored)), meta: "simple"}, nil
	}
	uv, err := f64Matrix("us", us, 2)
	if err != nil {
		return nil, err
	}
	tri, err := i64Matrix("triangles", md.Triangles, 3)
	if err != nil {
		return nil, err
	}
	args := append([]runtime.Value{vec(theta), uv, corr, points}, model...)
	return &input{args: append(args, tri, runtime.Bool(md.IsMirrored)), meta: "complicated"}, nil
}
