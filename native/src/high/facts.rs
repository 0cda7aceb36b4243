//! ABI facts of the architecture this is built for, as the guest must see
//! them when native code runs here: C type sizes, byte order, errno numbers,
//! dlopen flags, the C library.

use std::mem::{align_of, size_of};

use serde::{Deserialize, Serialize};

use crate::middle::types::{scalar_layout, Scalar};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CTypeInfo {
    /// C spelling: "int", "unsigned long", "long double", "size_t", ...
    pub name: String,
    pub size: u32,
    pub alignment: u32,
    pub is_signed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlatformFacts {
    pub pointer_width: u32,
    pub big_endian: bool,
    pub os: String,
    pub arch: String,
    /// "glibc 2.36", "musl", ...
    pub libc: String,
    pub libc_soname: String,
    pub libm_soname: String,
    pub c_types: Vec<CTypeInfo>,
    /// errno values by name ("ENOENT" -> 2).
    pub errno_codes: Vec<(String, i32)>,
    /// `RTLD_*` values by name.
    pub dlopen_flags: Vec<(String, i32)>,
}

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
    let (ld_size, ld_align) = scalar_layout(Scalar::LongDouble);
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
            size: ld_size as u32,
            alignment: ld_align as u32,
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

/// The facts of the architecture this executor runs on.
pub fn facts() -> PlatformFacts {
    let (libc, libc_soname, libm_soname) = libc_description();
    PlatformFacts {
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
