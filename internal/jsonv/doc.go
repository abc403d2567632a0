// Package jsonv converts between JSON text and Nabla run-time values,
// guided by a static type.
//
// JSON has one kind of number and no tuples, so the same text means
// different values for different types: 2 is an f64 for an f64 parameter
// and an i64 for an i64 one, and [1, true] is a tuple only when the type
// says so. The type is always known (it is a def's parameter or result
// type), so decoding never guesses. Every error names what was expected
// and where, in Nabla's own notation ("at [1].0: want f64, got a string").
//
// The mapping (SPEC §8):
//
//	f64    a JSON number, or one of the strings "NaN", "+Inf", "-Inf", "Inf"
//	i64    a JSON number with an integral value in the int64 range
//	bool   true or false
//	[d]T   a JSON array; nested arrays must be rectangular, and a constant
//	       d must match
//	(T…)   a JSON array with one element per field
//
// Encoding writes the same forms: floats in the shortest text that reads
// back to the same float64 (the exponent form only for very small and
// very large magnitudes, as encoding/json does), NaN and infinities as
// the strings "NaN", "+Inf" and "-Inf", and array and tuple elements
// separated by ", " so results stay readable on a terminal.
//
// Function values have no JSON form; both directions reject them.
package jsonv
