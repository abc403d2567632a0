// Package codegen is Nabla's second backend: it turns an optimized IR
// program into Go source, and (Backend) builds and runs that source for
// nabla run --backend go. See the design notes below; they grow with the
// backend.
package codegen
