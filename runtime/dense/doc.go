// Package dense converts between gonum's *mat.Dense and the flat
// row-major arrays of generated code, for packages generated with
// nabla gen -dense, whose exported functions take and return f64
// matrices as *mat.Dense. It is apart from package runtime so that
// runtime, which every generated package imports, does not depend on
// gonum.
package dense
