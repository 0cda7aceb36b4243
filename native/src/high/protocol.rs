//! The helper protocol: requests from the host and the executor's answers,
//! length-prefixed postcard messages on a pipe pair. Both ends are built
//! from this one file, for whatever architecture each runs on.

use std::io::{Read, Write};

use serde::{Deserialize, Serialize};

use crate::high::facts::PlatformFacts;
use crate::middle::signature::{SigLayout, SigShape};
use crate::middle::types::{Layout, Scalar, Ty};
use crate::Error;

/// Largest message either side accepts.
const MAX_MESSAGE: u32 = 1 << 30;

/// A library as the executor must open it: what to pass to dlopen.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LibKey {
    pub name: Option<String>,
    pub mode: i32,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// The executor's platform facts.
    Facts,
    /// Lay out a type with the executor's libffi.
    LayOut(Ty),
    Open(LibKey),
    Symbol {
        lib: u32,
        name: String,
    },
    Prepare(SigShape),
    Call {
        sig: u32,
        address: u64,
        data: Vec<u8>,
        relocations: Vec<u32>,
        errno: Option<i32>,
    },
    /// The guest's answer to the callback the executor is waiting on.
    Reply(Vec<u8>),
    NewCallback {
        sig: u32,
        id: u32,
    },
    RetireCallback {
        address: u64,
    },
    Alloc {
        size: u64,
        alignment: u32,
    },
    Free {
        address: u64,
    },
    Read {
        address: u64,
        len: u32,
    },
    Write {
        address: u64,
        data: Vec<u8>,
    },
    Load {
        address: u64,
        kind: Scalar,
    },
    Store {
        address: u64,
        kind: Scalar,
        value: u64,
    },
    Copy {
        dst: u64,
        src: u64,
        len: u64,
    },
    Fill {
        dst: u64,
        byte: u8,
        len: u64,
    },
    StringLength {
        address: u64,
        element: u32,
    },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    Facts(Box<PlatformFacts>),
    Layout(Layout),
    Opened {
        lib: u32,
        /// The file the executor's loader used.
        path: String,
    },
    Value(u64),
    Prepared {
        id: u32,
        layout: SigLayout,
    },
    Done {
        value: u64,
        bytes: Option<Vec<u8>>,
        errno: i32,
    },
    Callback {
        id: u32,
        args: Vec<u8>,
    },
    Bytes(Vec<u8>),
    Unit,
    Error(Error),
}

pub fn send<T: Serialize>(out: &mut impl Write, message: &T) -> std::io::Result<()> {
    let bytes = postcard::to_stdvec(message).map_err(std::io::Error::other)?;
    out.write_all(&(bytes.len() as u32).to_le_bytes())?;
    out.write_all(&bytes)?;
    out.flush()
}

/// `Ok(None)` at a clean end of stream.
pub fn receive<T: for<'de> Deserialize<'de>>(input: &mut impl Read) -> std::io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len);
    if len > MAX_MESSAGE {
        return Err(std::io::Error::other(format!("message of {len} bytes")));
    }
    let mut bytes = vec![0u8; len as usize];
    input.read_exact(&mut bytes)?;
    postcard::from_bytes(&bytes)
        .map(Some)
        .map_err(std::io::Error::other)
}
