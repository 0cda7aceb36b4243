/* Native fault containment: run ffi_call under sigsetjmp so that a fatal
 * signal raised by native code can unwind to the host instead of killing
 * the process silently. Kept in C because sigsetjmp returns twice, which
 * Rust cannot express. */
#include <ffi.h>
#include <setjmp.h>
#include <stddef.h>
#include <string.h>

/* The jump target of the native call running on this thread, if any. */
static __thread sigjmp_buf *wasmffi_fault_target;

/* Returns 0 after a normal call, or the number of the signal that ended it. */
int wasmffi_guarded_ffi_call(ffi_cif *cif, void (*fn)(void), void *rvalue, void **avalue) {
    sigjmp_buf here;
    sigjmp_buf *outer = wasmffi_fault_target;
    /* No signal mask to save: the handler runs with SA_NODEFER. */
    int signal = sigsetjmp(here, 0);
    if (signal == 0) {
        wasmffi_fault_target = &here;
        ffi_call(cif, fn, rvalue, avalue);
    }
    wasmffi_fault_target = outer;
    return signal;
}

/* The same for a function whose arguments are at most six integers or
 * pointers and whose result is one or nothing, called without libffi: on
 * x86-64 and AArch64 these travel in the first integer registers whatever the
 * prototype, and a callee ignores the registers it does not read. */
typedef unsigned long long wasmffi_word;
typedef wasmffi_word (*wasmffi_words_fn)(wasmffi_word, wasmffi_word, wasmffi_word,
                                         wasmffi_word, wasmffi_word, wasmffi_word);

int wasmffi_guarded_words_call(wasmffi_words_fn fn, const wasmffi_word *args,
                               wasmffi_word *result) {
    sigjmp_buf here;
    sigjmp_buf *outer = wasmffi_fault_target;
    int signal = sigsetjmp(here, 0);
    if (signal == 0) {
        wasmffi_fault_target = &here;
        *result = fn(args[0], args[1], args[2], args[3], args[4], args[5]);
    }
    wasmffi_fault_target = outer;
    return signal;
}

/* Copy `len` bytes between host addresses the runtime cannot vouch for:
 * returns 0, or the signal (SIGSEGV, SIGBUS) that an unmapped or protected
 * page raised. memcpy holds no lock and leaves no state behind, so leaving
 * it halfway is harmless (unlike leaving arbitrary native code). */
int wasmffi_guarded_copy(void *dst, const void *src, size_t len) {
    sigjmp_buf here;
    sigjmp_buf *outer = wasmffi_fault_target;
    int signal = sigsetjmp(here, 0);
    if (signal == 0) {
        wasmffi_fault_target = &here;
        /* memcpy is a builtin the compiler knows reads no global: without
         * these barriers it may drop the store above or move the copy
         * across it, and the handler would find no target. */
        __asm__ volatile("" ::: "memory");
        memcpy(dst, src, len);
        __asm__ volatile("" ::: "memory");
    }
    wasmffi_fault_target = outer;
    return signal;
}

/* Called by the signal handler: leave the faulting native call, if this
 * thread is in one. Returns only when it is not. */
void wasmffi_fault_escape(int signal) {
    if (wasmffi_fault_target != NULL) {
        siglongjmp(*wasmffi_fault_target, signal);
    }
}

/* While a callback suspends the native call and the guest runs, faults on
 * this thread are not native: take the target away, then give it back. */
void *wasmffi_fault_disarm(void) {
    sigjmp_buf *target = wasmffi_fault_target;
    wasmffi_fault_target = NULL;
    return target;
}

void wasmffi_fault_rearm(void *target) {
    wasmffi_fault_target = target;
}
