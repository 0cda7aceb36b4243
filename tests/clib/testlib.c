/*
 * libwasmffi_test.so: the native library that wasmffi's tests call from inside the
 * sandbox through `_rawffi`.  Every exported symbol starts with `t_`.
 *
 * Keep the functions simple and their results easy to recompute in Python: the
 * tests compare what comes back through the FFI with what Python computes itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

#define EXPORT __attribute__((visibility("default")))

/* ------------------------------------------------------------------ scalars */

EXPORT int8_t t_add_i8(int8_t a, int8_t b) { return (int8_t)(a + b); }
EXPORT uint8_t t_add_u8(uint8_t a, uint8_t b) { return (uint8_t)(a + b); }
EXPORT int16_t t_add_i16(int16_t a, int16_t b) { return (int16_t)(a + b); }
EXPORT uint16_t t_add_u16(uint16_t a, uint16_t b) { return (uint16_t)(a + b); }
/* signed overflow is UB in C: add as unsigned, convert back (two's complement) */
EXPORT int32_t t_add_i32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
EXPORT uint32_t t_add_u32(uint32_t a, uint32_t b) { return a + b; }
EXPORT int64_t t_add_i64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
EXPORT uint64_t t_add_u64(uint64_t a, uint64_t b) { return a + b; }
EXPORT long t_add_long(long a, long b) { return (long)((unsigned long)a + (unsigned long)b); }
EXPORT unsigned long t_add_ulong(unsigned long a, unsigned long b) { return a + b; }
EXPORT long long t_add_llong(long long a, long long b) { return (long long)((unsigned long long)a + (unsigned long long)b); }
EXPORT unsigned long long t_add_ullong(unsigned long long a, unsigned long long b) { return a + b; }
EXPORT ssize_t t_add_ssize(ssize_t a, ssize_t b) { return (ssize_t)((size_t)a + (size_t)b); }
EXPORT size_t t_add_size(size_t a, size_t b) { return a + b; }
EXPORT short t_add_short(short a, short b) { return (short)(a + b); }
EXPORT unsigned short t_add_ushort(unsigned short a, unsigned short b) { return (unsigned short)(a + b); }
EXPORT signed char t_add_schar(signed char a, signed char b) { return (signed char)(a + b); }
EXPORT unsigned char t_add_uchar(unsigned char a, unsigned char b) { return (unsigned char)(a + b); }
EXPORT int t_add_int(int a, int b) { return (int)((unsigned)a + (unsigned)b); }
EXPORT unsigned t_add_uint(unsigned a, unsigned b) { return a + b; }

EXPORT float t_add_f(float a, float b) { return a + b; }
EXPORT double t_add_d(double a, double b) { return a + b; }
EXPORT long double t_add_ld(long double a, long double b) { return a + b; }
EXPORT long double t_mul_ld(long double a, long double b) { return a * b; }
EXPORT long double t_div_ld(long double a, long double b) { return a / b; }
/* (big + small) - big, computed in long double: only non-zero when the arguments
 * really arrive as long doubles with more precision than a double. */
EXPORT double t_ld_cancel(long double big, long double small) {
    volatile long double s = big + small;
    return (double)(s - big);
}
EXPORT double t_ld_to_d(long double x) { return (double)x; }
EXPORT long double t_d_to_ld(double x) { return (long double)x; }
EXPORT float t_d_to_f(double x) { return (float)x; }
EXPORT double t_f_to_d(float x) { return (double)x; }

/* identity functions: what went in comes back out, at the C width */
EXPORT int8_t t_id_i8(int8_t x) { return x; }
EXPORT uint8_t t_id_u8(uint8_t x) { return x; }
EXPORT int16_t t_id_i16(int16_t x) { return x; }
EXPORT uint16_t t_id_u16(uint16_t x) { return x; }
EXPORT int32_t t_id_i32(int32_t x) { return x; }
EXPORT uint32_t t_id_u32(uint32_t x) { return x; }
EXPORT int64_t t_id_i64(int64_t x) { return x; }
EXPORT uint64_t t_id_u64(uint64_t x) { return x; }

EXPORT int64_t t_i64_min(void) { return INT64_MIN; }
EXPORT uint64_t t_u64_max(void) { return UINT64_MAX; }
EXPORT int32_t t_i32_min(void) { return INT32_MIN; }

EXPORT double t_mix(int8_t a, uint16_t b, int32_t c, int64_t d, float e, double f, long g) {
    return (double)a + (double)b + (double)c + (double)d + (double)e + f + (double)g;
}

/* more arguments than argument registers: the tail goes on the stack */
EXPORT int64_t t_sum_many_ints(int a1, int a2, int a3, int a4, int a5, int a6, int a7,
                               int a8, int a9, int a10) {
    return (int64_t)a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10;
}
EXPORT double t_sum_many_doubles(double a1, double a2, double a3, double a4, double a5,
                                 double a6, double a7, double a8, double a9, double a10) {
    return a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10;
}
/* interleaved ints and doubles past both register files; weighted so that order matters */
EXPORT double t_interleaved(int i1, double d1, int i2, double d2, int i3, double d3, int i4,
                            double d4, int i5, double d5, int i6, double d6, int i7, double d7,
                            int i8, double d8, int i9, double d9) {
    return 1 * (i1 + d1) + 2 * (i2 + d2) + 3 * (i3 + d3) + 4 * (i4 + d4) + 5 * (i5 + d5) +
           6 * (i6 + d6) + 7 * (i7 + d7) + 8 * (i8 + d8) + 9 * (i9 + d9);
}

EXPORT bool t_not(bool b) { return !b; }
EXPORT bool t_is_even(int x) { return x % 2 == 0; }
EXPORT char t_next_char(char c) { return (char)(c + 1); }
EXPORT wchar_t t_wchar_next(wchar_t c) { return c + 1; }
EXPORT int t_is_null(const void *p) { return p == NULL; }
EXPORT void *t_identity(void *p) { return p; }
EXPORT void t_nothing(void) {}

/* ------------------------------------------------------------ struct layout */

typedef struct { int x; int y; } Point;                        /* 8 bytes, INTEGER */
typedef struct { double a; double b; } Pair;                   /* 16 bytes, SSE SSE */
typedef struct { int64_t a, b, c; double d; } Big;             /* 32 bytes, MEMORY */
typedef struct { Point origin; char name[12]; Pair scale; } Nested; /* 40 bytes */
typedef struct { char c; short s; double d; char c2; } Mixed; /* 24 bytes with padding */
typedef struct { int i; float f; } IntFloat;                   /* 8 bytes, one INTEGER eightbyte */
typedef struct { double d; int i; } DoubleInt;                 /* 16 bytes, SSE INTEGER */
typedef struct { float x, y, z; } Float3;                      /* 12 bytes, SSE SSE */
typedef struct { char tag; int64_t v; } CharLong;              /* 16 bytes, INTEGER INTEGER */

/* Layout facts as C sees them, by name: "Point" is sizeof(Point), "Point.y" is
 * offsetof(Point, y), "align Point" is _Alignof(Point); scalar names such as "long double"
 * work too.  Returns (size_t)-1 for an unknown name. */
EXPORT size_t t_layout(const char *what) {
#define SZ(T, name) if (strcmp(what, name) == 0) return sizeof(T); \
    if (strcmp(what, "align " name) == 0) return _Alignof(T);
#define OFF(T, f) if (strcmp(what, #T "." #f) == 0) return offsetof(T, f);
    if (what == NULL) return (size_t)-1;
    SZ(char, "char") SZ(short, "short") SZ(int, "int") SZ(long, "long")
    SZ(long long, "long long") SZ(size_t, "size_t") SZ(ssize_t, "ssize_t")
    SZ(void *, "void*") SZ(float, "float") SZ(double, "double")
    SZ(long double, "long double") SZ(wchar_t, "wchar_t") SZ(bool, "_Bool")
    SZ(Point, "Point") SZ(Pair, "Pair") SZ(Big, "Big") SZ(Nested, "Nested")
    SZ(Mixed, "Mixed") SZ(IntFloat, "IntFloat") SZ(DoubleInt, "DoubleInt")
    SZ(Float3, "Float3") SZ(CharLong, "CharLong")
    OFF(Point, x) OFF(Point, y)
    OFF(Pair, a) OFF(Pair, b)
    OFF(Big, a) OFF(Big, b) OFF(Big, c) OFF(Big, d)
    OFF(Nested, origin) OFF(Nested, name) OFF(Nested, scale)
    OFF(Mixed, c) OFF(Mixed, s) OFF(Mixed, d) OFF(Mixed, c2)
    OFF(IntFloat, i) OFF(IntFloat, f)
    OFF(DoubleInt, d) OFF(DoubleInt, i)
    OFF(Float3, x) OFF(Float3, y) OFF(Float3, z)
    OFF(CharLong, tag) OFF(CharLong, v)
    return (size_t)-1;
#undef SZ
#undef OFF
}

/* ------------------------------------------------------- structs by value */

EXPORT Point t_make_point(int x, int y) { Point p = {x, y}; return p; }
EXPORT int t_point_sum(Point p) { return p.x + p.y; }
EXPORT Point t_point_scale(Point p, int k) { Point r = {p.x * k, p.y * k}; return r; }
EXPORT Point t_point_add(Point a, Point b) { Point r = {a.x + b.x, a.y + b.y}; return r; }
EXPORT void t_point_move(Point *p, int dx, int dy) { p->x += dx; p->y += dy; }

EXPORT Pair t_make_pair(double a, double b) { Pair p = {a, b}; return p; }
EXPORT double t_pair_sum(Pair p) { return p.a + p.b; }
EXPORT Pair t_pair_swap(Pair p) { Pair r = {p.b, p.a}; return r; }

EXPORT Big t_make_big(int64_t a, int64_t b, int64_t c, double d) { Big r = {a, b, c, d}; return r; }
EXPORT double t_big_sum(Big s) { return (double)s.a + (double)s.b + (double)s.c + s.d; }
EXPORT Big t_big_scale(Big s, int64_t k) { Big r = {s.a * k, s.b * k, s.c * k, s.d * (double)k}; return r; }

EXPORT Nested t_make_nested(int x, int y, const char *name, double sa, double sb) {
    Nested n;
    memset(&n, 0, sizeof n);
    n.origin.x = x;
    n.origin.y = y;
    if (name) strncpy(n.name, name, sizeof n.name - 1);
    n.scale.a = sa;
    n.scale.b = sb;
    return n;
}
/* origin.x + origin.y + 100 * strlen(name) + scale.a * scale.b */
EXPORT double t_nested_digest(Nested n) {
    return (double)(n.origin.x + n.origin.y) + 100.0 * (double)strnlen(n.name, sizeof n.name) +
           n.scale.a * n.scale.b;
}

EXPORT Mixed t_make_mixed(char c, short s, double d, char c2) { Mixed m = {c, s, d, c2}; return m; }
/* c + 2*s + 4*d + 8*c2 */
EXPORT double t_mixed_digest(Mixed m) { return (double)m.c + 2.0 * m.s + 4.0 * m.d + 8.0 * m.c2; }

EXPORT IntFloat t_make_intfloat(int i, float f) { IntFloat r = {i, f}; return r; }
EXPORT double t_intfloat_sum(IntFloat v) { return (double)v.i + (double)v.f; }
EXPORT DoubleInt t_make_doubleint(double d, int i) { DoubleInt r = {d, i}; return r; }
EXPORT double t_doubleint_sum(DoubleInt v) { return v.d + (double)v.i; }
EXPORT Float3 t_make_float3(float x, float y, float z) { Float3 r = {x, y, z}; return r; }
/* x + 10*y + 100*z, in double */
EXPORT double t_float3_digest(Float3 v) { return (double)v.x + 10.0 * v.y + 100.0 * v.z; }
EXPORT CharLong t_make_charlong(char tag, int64_t v) { CharLong r = {tag, v}; return r; }
EXPORT int64_t t_charlong_digest(CharLong v) { return (int64_t)v.tag * 1000 + v.v; }

/* ------------------------------------------------ pointers and out-params */

EXPORT void t_divmod(int a, int b, int *q, int *r) { *q = a / b; *r = a % b; }
EXPORT long t_sum_ints(const int *p, size_t n) {
    long s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}
EXPORT double t_sum_doubles(const double *p, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}
/* buf[i] = start + i (mod 256) */
EXPORT void t_fill(unsigned char *buf, size_t n, unsigned char start) {
    for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)(start + i);
}
/* out[i] = i * i; returns n */
EXPORT size_t t_fill_squares(int64_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (int64_t)(i * i);
    return n;
}
static const char t_static_text[] = "wasmffi test library";
EXPORT const char *t_static_string(void) { return t_static_text; }
EXPORT const char *t_null_string(void) { return NULL; }
/* malloc'd copy of s in upper case (ASCII); release with t_free */
EXPORT char *t_strdup_upper(const char *s) {
    size_t n = strlen(s);
    char *r = malloc(n + 1);
    if (!r) return NULL;
    for (size_t i = 0; i <= n; i++) r[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
    return r;
}
/* malloc'd array of n int32 with a[i] = i * 3 */
EXPORT int32_t *t_make_ints(size_t n) {
    int32_t *a = malloc((n ? n : 1) * sizeof *a);
    if (!a) return NULL;
    for (size_t i = 0; i < n; i++) a[i] = (int32_t)(i * 3);
    return a;
}
EXPORT void t_free(void *p) { free(p); }

/* -------------------------------------------------------------- strings */

EXPORT size_t t_strlen(const char *s) { return strlen(s); }
EXPORT void t_reverse(char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n / 2; i++) {
        char c = s[i];
        s[i] = s[n - 1 - i];
        s[n - 1 - i] = c;
    }
}
EXPORT int t_count_char(const char *s, char c) {
    int k = 0;
    for (; *s; s++) k += (*s == c);
    return k;
}
EXPORT size_t t_wcslen(const wchar_t *s) { return wcslen(s); }
static const wchar_t t_wide_text[] = L"h\u00e9llo w\u00f6rld \u2603 \U0001F600";
EXPORT const wchar_t *t_wide_static(void) { return t_wide_text; }
/* sum of the code points */
EXPORT long t_wcs_codepoint_sum(const wchar_t *s) {
    long k = 0;
    for (; *s; s++) k += (long)*s;
    return k;
}
/* copies at most cap-1 chars of "hello from C" into buf, NUL-terminates, returns the full length */
EXPORT size_t t_fill_string(char *buf, size_t cap) {
    static const char msg[] = "hello from C";
    if (cap > 0) {
        size_t n = strlen(msg) < cap - 1 ? strlen(msg) : cap - 1;
        memcpy(buf, msg, n);
        buf[n] = 0;
    }
    return strlen(msg);
}

/* ------------------------------------------------------------- globals */

EXPORT int t_counter = 0;
EXPORT double t_gdouble = 2.5;
EXPORT const char t_greeting[] = "hello, global";
EXPORT int t_bump(void) { return ++t_counter; }
EXPORT int t_get_counter(void) { return t_counter; }

/* --------------------------------------------------------------- errno */

EXPORT int t_fail_with_errno(int e) { errno = e; return -1; }
EXPORT int t_get_errno(void) { return errno; }

/* ------------------------------------------------------------ variadic */

EXPORT int t_sum_variadic(int count, ...) {
    va_list ap;
    int s = 0;
    va_start(ap, count);
    for (int i = 0; i < count; i++) s += va_arg(ap, int);
    va_end(ap);
    return s;
}
EXPORT double t_avg_variadic(int count, ...) {
    va_list ap;
    double s = 0;
    if (count <= 0) return 0.0;
    va_start(ap, count);
    for (int i = 0; i < count; i++) s += va_arg(ap, double);
    va_end(ap);
    return s / count;
}
/* fmt: one letter per argument: 'i' int, 'l' long, 'd' double, 's' char* (adds strlen).
 * Returns the sum; each argument is weighted by its position (1-based). */
EXPORT double t_variadic_mixed(const char *fmt, ...) {
    va_list ap;
    double s = 0;
    int k = 1;
    va_start(ap, fmt);
    for (const char *f = fmt; *f; f++, k++) {
        switch (*f) {
        case 'i': s += k * (double)va_arg(ap, int); break;
        case 'l': s += k * (double)va_arg(ap, long); break;
        case 'd': s += k * va_arg(ap, double); break;
        case 's': s += k * (double)strlen(va_arg(ap, const char *)); break;
        default: va_end(ap); return -1.0;
        }
    }
    va_end(ap);
    return s;
}

/* ----------------------------------------------------------- callbacks */

EXPORT int t_apply(int (*f)(int), int x) { return f(x); }
EXPORT double t_apply_d(double (*f)(double), double x) { return f(x); }
/* f applied n times: f(f(...f(x))) */
EXPORT int t_apply_n(int (*f)(int), int x, int n) {
    for (int i = 0; i < n; i++) x = f(x);
    return x;
}
static int (*t_stored_cb)(int) = NULL;
EXPORT void t_set_cb(int (*f)(int)) { t_stored_cb = f; }
/* -1 when no callback is stored */
EXPORT int t_call_stored(int x) { return t_stored_cb ? t_stored_cb(x) : -1; }

/* Callbacks with aggregates, pointers and doubles. */
EXPORT Point t_apply_point(Point (*f)(Point, double), Point p, double k) { return f(p, k); }
EXPORT double t_apply_pair(double (*f)(const Pair *), double a, double b) {
    Pair p = { a, b };
    return f(&p);
}
/* A table of function pointers, as C libraries use for vtables. */
typedef struct {
    int (*combine)(int, int);
    double (*scale)(double);
} Ops;
EXPORT double t_run_ops(const Ops *ops, int a, int b) { return ops->scale(ops->combine(a, b)); }
/* Calls f(x) on a thread of its own and returns what f returned. */
#include <pthread.h>
struct t_thread_call { int (*f)(int); int x; int result; };
static void *t_thread_main(void *arg) {
    struct t_thread_call *call = arg;
    call->result = call->f(call->x);
    return NULL;
}
EXPORT int t_call_in_thread(int (*f)(int), int x) {
    struct t_thread_call call = { f, x, -12345 };
    pthread_t thread;
    if (pthread_create(&thread, NULL, t_thread_main, &call) != 0) return -1;
    pthread_join(thread, NULL);
    return call.result;
}

/* ------------------------------------------------------------- crashes */

EXPORT void t_crash_null(void) {
    volatile int *p = NULL;
    *p = 42;
}

#include <stdlib.h>
EXPORT void t_abort(void) { abort(); }

#include <time.h>
/* A crash on a thread this library creates, while the caller waits for it
 * (the guest is inside this call), or after the call returned (detached). */
static void *t_crash_thread_main(void *arg) {
    int delay_ms = *(int *)arg;
    if (delay_ms > 0) {
        struct timespec ts = { delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    volatile int *p = NULL;
    *p = 7;
    return NULL;
}
EXPORT int t_crash_on_thread(void) {
    static int no_delay = 0;
    pthread_t thread;
    if (pthread_create(&thread, NULL, t_crash_thread_main, &no_delay) != 0) return -1;
    pthread_join(thread, NULL);
    return 0;
}
EXPORT int t_crash_on_thread_later(int delay_ms) {
    static int delay;
    delay = delay_ms;
    pthread_t thread;
    if (pthread_create(&thread, NULL, t_crash_thread_main, &delay) != 0) return -1;
    pthread_detach(thread);
    return 0;
}

/* Loops without end and without a system call: only the watchdog ends it. */
EXPORT void t_spin_forever(void) {
    for (volatile unsigned long i = 0;; i++) {}
}

/* ------------------------------------------- pointers native code keeps */
/* As FreeType's FT_New_Memory_Face does with a font's bytes: the pointer is
   kept past the call, and later calls read through it. */
#define T_KEPT_SLOTS 16
static const unsigned char *t_kept[T_KEPT_SLOTS];
static size_t t_kept_len[T_KEPT_SLOTS];
EXPORT int t_keep(int slot, const void *data, size_t len) {
    if (slot < 0 || slot >= T_KEPT_SLOTS) return -1;
    t_kept[slot] = data;
    t_kept_len[slot] = len;
    return 0;
}
typedef struct { const char *data; size_t len; } KeptBuf;
/* Keeps a pointer into the caller's struct (or array of them), not a copy. */
static const KeptBuf *t_kept_bufs[T_KEPT_SLOTS];
static int t_kept_count[T_KEPT_SLOTS];
EXPORT int t_keep_bufs(int slot, const KeptBuf *bufs, int count) {
    if (slot < 0 || slot >= T_KEPT_SLOTS) return -1;
    t_kept_bufs[slot] = bufs;
    t_kept_count[slot] = count;
    return 0;
}
static unsigned long long t_fnv1a(unsigned long long h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 1099511628211ULL; }
    return h;
}
/* FNV-1a of what the slot's kept pointer(s) point to, read now. */
EXPORT unsigned long long t_kept_hash(int slot) {
    unsigned long long h = 14695981039346656037ULL;
    if (slot < 0 || slot >= T_KEPT_SLOTS) return 0;
    if (t_kept[slot]) h = t_fnv1a(h, t_kept[slot], t_kept_len[slot]);
    for (int i = 0; t_kept_bufs[slot] && i < t_kept_count[slot]; i++)
        h = t_fnv1a(h, (const unsigned char *)t_kept_bufs[slot][i].data, t_kept_bufs[slot][i].len);
    return h;
}
EXPORT void t_forget(int slot) {
    if (slot < 0 || slot >= T_KEPT_SLOTS) return;
    t_kept[slot] = NULL;
    t_kept_bufs[slot] = NULL;
}

/* --------------------------------------------------------------- byte order
 * What native memory holds, as this architecture's compiler lays it out and
 * reads it: the tests compare it with what ctypes wrote or reads back. */

/* The n (<= 8) bytes at p as an unsigned number, least significant first
 * (_le) or most significant first (_be), whatever this machine's order. */
EXPORT unsigned long long t_bytes_le(const unsigned char *p, size_t n) {
    unsigned long long v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}
EXPORT unsigned long long t_bytes_be(const unsigned char *p, size_t n) {
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | p[i];
    return v;
}
EXPORT void t_store_le(unsigned char *p, size_t n, unsigned long long v) {
    for (size_t i = 0; i < n; i++, v >>= 8) p[i] = (unsigned char)v;
}
EXPORT void t_store_be(unsigned char *p, size_t n, unsigned long long v) {
    for (size_t i = n; i-- > 0; v >>= 8) p[i] = (unsigned char)v;
}

/* Bit fields of several types: GCC places them from the least significant
 * end of their storage unit on little-endian targets, from the most
 * significant end on big-endian ones. */
typedef struct {
    unsigned int a : 3;
    int b : 5;
    unsigned int c : 12;
    unsigned char d : 4;
    unsigned short e : 9;
    int g : 7;
    long long f : 40;
    unsigned char h : 1;
} Bits;
EXPORT size_t t_bits_size(void) { return sizeof(Bits); }
EXPORT void t_bits_set(Bits *s, unsigned a, int b, unsigned c, unsigned d, unsigned e,
                       int g, long long f, unsigned h) {
    s->a = a; s->b = b; s->c = c; s->d = d; s->e = e; s->g = g; s->f = f; s->h = h;
}
/* Field `which` ('a'..'h') as C reads it. */
EXPORT long long t_bits_get(const Bits *s, char which) {
    switch (which) {
    case 'a': return s->a;
    case 'b': return s->b;
    case 'c': return s->c;
    case 'd': return s->d;
    case 'e': return s->e;
    case 'f': return s->f;
    case 'g': return s->g;
    case 'h': return s->h;
    default: return -1;
    }
}

/* long double through memory, alone and as a struct field. */
typedef struct { char tag; long double x; int after; } LdBox;
EXPORT size_t t_ldbox_size(void) { return sizeof(LdBox); }
EXPORT size_t t_ldbox_x_offset(void) { return offsetof(LdBox, x); }
EXPORT void t_ld_store(long double *p, long double v) { *p = v; }
EXPORT double t_ld_load(const long double *p) { return (double)*p; }
EXPORT void t_ldbox_set(LdBox *b, char tag, long double x, int after) {
    b->tag = tag; b->x = x; b->after = after;
}
EXPORT long double t_ldbox_digest(const LdBox *b) { return b->tag + b->x * 2 + b->after * 4.0L; }
