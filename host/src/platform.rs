//! `wasmffi:ffi/platform`: ABI facts of the host, so the guest hard-codes none.

use std::mem::{align_of, size_of};

use crate::bindings::wasmffi::ffi::platform::{CTypeInfo, Host, PlatformFacts as Facts};
use crate::bindings::Scalar;
use crate::state::HostState;
use crate::types::scalar_type;

macro_rules! c_type {
    ($name:expr, $t:ty, $signed:expr) => {
        CTypeInfo {
            name: $name.to_owned(),
            size: size_of::<$t>() as u32,
            alignment: align_of::<$t>() as u32,
            is_signed: $signed,
        }
    };
}

macro_rules! named_constants {
    ($($name:ident),* $(,)?) => {
        vec![$((stringify!($name).to_owned(), libc::$name as i32)),*]
    };
}

fn c_types() -> Vec<CTypeInfo> {
    let long_double = scalar_type(Scalar::LongDouble);
    let (ld_size, ld_align) = unsafe {
        let raw = long_double.as_raw_ptr();
        ((*raw).size as u32, u32::from((*raw).alignment))
    };
    vec![
        c_type!("char", libc::c_char, libc::c_char::MIN != 0),
        c_type!("signed char", libc::c_schar, true),
        c_type!("unsigned char", libc::c_uchar, false),
        c_type!("short", libc::c_short, true),
        c_type!("unsigned short", libc::c_ushort, false),
        c_type!("int", libc::c_int, true),
        c_type!("unsigned int", libc::c_uint, false),
        c_type!("long", libc::c_long, true),
        c_type!("unsigned long", libc::c_ulong, false),
        c_type!("long long", libc::c_longlong, true),
        c_type!("unsigned long long", libc::c_ulonglong, false),
        c_type!("size_t", libc::size_t, false),
        c_type!("ssize_t", libc::ssize_t, true),
        c_type!("ptrdiff_t", libc::ptrdiff_t, true),
        c_type!("intptr_t", libc::intptr_t, true),
        c_type!("time_t", libc::time_t, true),
        c_type!("off_t", libc::off_t, true),
        c_type!("wchar_t", libc::wchar_t, libc::wchar_t::MIN != 0),
        c_type!("_Bool", bool, false),
        c_type!("float", libc::c_float, true),
        c_type!("double", libc::c_double, true),
        CTypeInfo {
            name: "long double".to_owned(),
            size: ld_size,
            alignment: ld_align,
            is_signed: true,
        },
        c_type!("void *", *const libc::c_void, false),
    ]
}

fn libc_description() -> (String, &'static str, &'static str) {
    #[cfg(target_env = "gnu")]
    {
        let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
        (
            format!("glibc {}", version.to_string_lossy()),
            "libc.so.6",
            "libm.so.6",
        )
    }
    #[cfg(target_env = "musl")]
    {
        ("musl".to_owned(), "libc.so", "libc.so")
    }
    #[cfg(not(any(target_env = "gnu", target_env = "musl")))]
    {
        ("unknown".to_owned(), "libc.so", "libm.so")
    }
}

pub fn facts() -> Facts {
    let (libc, libc_soname, libm_soname) = libc_description();
    Facts {
        pointer_width: usize::BITS,
        big_endian: cfg!(target_endian = "big"),
        os: std::env::consts::OS.to_owned(),
        arch: std::env::consts::ARCH.to_owned(),
        libc,
        libc_soname: libc_soname.to_owned(),
        libm_soname: libm_soname.to_owned(),
        c_types: c_types(),
        errno_codes: named_constants![
            EPERM,
            ENOENT,
            ESRCH,
            EINTR,
            EIO,
            ENXIO,
            E2BIG,
            ENOEXEC,
            EBADF,
            ECHILD,
            EAGAIN,
            ENOMEM,
            EACCES,
            EFAULT,
            EBUSY,
            EEXIST,
            EXDEV,
            ENODEV,
            ENOTDIR,
            EISDIR,
            EINVAL,
            ENFILE,
            EMFILE,
            ENOTTY,
            ETXTBSY,
            EFBIG,
            ENOSPC,
            ESPIPE,
            EROFS,
            EMLINK,
            EPIPE,
            EDOM,
            ERANGE,
            EDEADLK,
            ENAMETOOLONG,
            ENOLCK,
            ENOSYS,
            ENOTEMPTY,
            ELOOP,
            EWOULDBLOCK,
            ENOMSG,
            EILSEQ,
            EOVERFLOW,
            ENOTSUP,
            EOPNOTSUPP,
            ETIMEDOUT,
            ECONNREFUSED,
            EADDRINUSE,
            ECONNRESET,
            EINPROGRESS,
            EALREADY,
            ENOTSOCK,
            ENOTCONN,
            ECANCELED,
        ],
        dlopen_flags: named_constants![
            RTLD_LAZY,
            RTLD_NOW,
            RTLD_LOCAL,
            RTLD_GLOBAL,
            RTLD_NODELETE,
            RTLD_NOLOAD
        ],
    }
}

impl Host for HostState {
    fn facts(&mut self) -> Facts {
        facts()
    }
}
