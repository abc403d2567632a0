package runtime

// The assembly kernels (kernels_amd64.s) and their Go declarations
// (kernels_amd64_stubs.go) are written by the avo program in _asm/, a
// module of its own so that this module does not depend on avo. After
// changing it, regenerate them with
//
//	go generate ./runtime
//
// TestAsmUpToDate fails while the checked-in files differ from what the
// generator writes.

//go:generate go run -C _asm . -out ../kernels_amd64.s -stubs ../kernels_amd64_stubs.go
