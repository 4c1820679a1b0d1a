//go:build linux && amd64

package libc

import (
	"bytes"
	"unsafe"
)

// localFastMem routes Xmemcmp and Xmemcpy (0001-memcmp-memcpy-in-go.patch) to the Go runtime's
// vectorised compare and copy instead of musl's byte and word loops translated to Go.
const localFastMem = true

// localMemcmp is memcmp: negative, zero or positive as the first differing byte (unsigned) of
// l is below, equal to or above r's; C promises the sign only.
func localMemcmp(l, r uintptr, n Tsize_t) int32 {
	if n == 0 {
		return 0
	}

	return int32(bytes.Compare(
		unsafe.Slice((*byte)(unsafe.Pointer(l)), n),
		unsafe.Slice((*byte)(unsafe.Pointer(r)), n),
	))
}

// localMemcpy is memcpy (and, as Go's copy is a memmove, safe for overlapping ranges too).
func localMemcpy(dest, src uintptr, n Tsize_t) uintptr {
	if n != 0 {
		copy(unsafe.Slice((*byte)(unsafe.Pointer(dest)), n), unsafe.Slice((*byte)(unsafe.Pointer(src)), n))
	}

	return dest
}
