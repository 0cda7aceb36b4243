//! `--isolate-native`: native code runs in a helper process (the same
//! executable, as `wasmffi __native-worker`), so a crash there is an
//! exception in the guest and the run goes on with a fresh helper.
//!
//! The host still checks every request against the policy and lays out
//! types and signatures itself; the helper loads the libraries, owns the
//! native memory and runs the calls. Requests and responses are
//! length-prefixed postcard messages on a private pipe pair (the helper's
//! fds 3 and 4), so native code keeps the real stdin/stdout/stderr.
//! Callbacks need no coroutines here: the helper's closure sends a callback
//! response in the middle of a call and serves requests (nested calls
//! included) until the guest's reply arrives.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::bindings::wasmffi::ffi::call::{CallArgs, CallDone, CallStep, CallbackRequest};
use crate::bindings::wasmffi::ffi::types::NativeCrash;
use crate::bindings::{FfiError, Scalar};
use crate::call::{Function, Prepared};

/// The argument that turns the executable into a helper.
pub const WORKER_ARG: &str = "__native-worker";
/// The helper's ends of the pipes.
pub(crate) const REQUEST_FD: i32 = 3;
pub(crate) const RESPONSE_FD: i32 = 4;
/// Largest message either side accepts.
const MAX_MESSAGE: u32 = 1 << 30;

/// A type as it crosses to the helper.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ty {
    Scalar(u8),
    Aggregate { fields: Vec<Ty>, union: bool },
}

pub fn scalar_code(kind: Scalar) -> u8 {
    kind as u8
}

pub fn scalar_of(code: u8) -> Option<Scalar> {
    use Scalar::*;
    [
        Void, Uint8, Sint8, Uint16, Sint16, Uint32, Sint32, Uint64, Sint64, Float32, Float64,
        LongDouble, Pointer,
    ]
    .into_iter()
    .find(|&k| k as u8 == code)
}

/// A signature as it crosses to the helper.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SigShape {
    pub args: Vec<Ty>,
    pub ret: Ty,
    pub fixed_args: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    Open {
        name: Option<String>,
        mode: i32,
    },
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
    /// The guest's answer to the callback the helper is waiting on.
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
        kind: u8,
    },
    Store {
        address: u64,
        kind: u8,
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
    Opened {
        lib: u32,
    },
    Value(u64),
    Prepared(u32),
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
    Error(WireError),
}

/// `FfiError` on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireError {
    kind: u8,
    message: String,
}

impl From<FfiError> for WireError {
    fn from(err: FfiError) -> Self {
        let (kind, message) = match err {
            FfiError::NotPermitted(m) => (0, m),
            FfiError::LoadFailed(m) => (1, m),
            FfiError::NoSuchSymbol(m) => (2, m),
            FfiError::BadPointer(m) => (4, m),
            FfiError::LimitExceeded(m) => (5, m),
            FfiError::Unsupported(m) => (6, m),
            other => (3, format!("{other:?}")),
        };
        WireError { kind, message }
    }
}

impl From<WireError> for FfiError {
    fn from(err: WireError) -> Self {
        let m = err.message;
        match err.kind {
            0 => FfiError::NotPermitted(m),
            1 => FfiError::LoadFailed(m),
            2 => FfiError::NoSuchSymbol(m),
            4 => FfiError::BadPointer(m),
            5 => FfiError::LimitExceeded(m),
            6 => FfiError::Unsupported(m),
            _ => FfiError::InvalidArgument(m),
        }
    }
}

pub(crate) fn send<T: Serialize>(out: &mut impl Write, message: &T) -> std::io::Result<()> {
    let bytes = postcard::to_stdvec(message).map_err(std::io::Error::other)?;
    out.write_all(&(bytes.len() as u32).to_le_bytes())?;
    out.write_all(&bytes)?;
    out.flush()
}

/// `Ok(None)` at a clean end of stream.
pub(crate) fn receive<T: for<'de> Deserialize<'de>>(
    input: &mut impl Read,
) -> std::io::Result<Option<T>> {
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

/// A library as the helper must open it: what to pass to dlopen.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LibKey {
    pub name: Option<String>,
    pub mode: i32,
}

/// The host side of isolation.
pub struct Isolated {
    exe: PathBuf,
    native_memory: u64,
    /// Why the helper's memory interface refuses foreign addresses (empty:
    /// raw memory is granted).
    confinement: &'static str,
    worker: Option<Worker>,
    /// The running helper's pid (0: none), for the deadline's watchdog.
    pid: Arc<AtomicI32>,
}

struct Worker {
    child: Child,
    requests: File,
    responses: BufReader<File>,
    libs: HashMap<LibKey, u32>,
    /// The helper's signature ids by shape: one per distinct signature, so
    /// that creating signatures (a CFUNCTYPE per callback, say) in a loop
    /// grows neither side.
    sigs: HashMap<SigShape, u32>,
    symbols: HashMap<(LibKey, String), u64>,
    /// The function whose call is in progress, for crash reports.
    running: Vec<Arc<str>>,
}

impl Isolated {
    /// `confinement`: as [`crate::memory::NativeMemory::set_confined`]'s
    /// reason, or `None` when the policy grants raw memory.
    pub fn new(native_memory: u64, confinement: Option<&'static str>) -> Self {
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("wasmffi"));
        Isolated {
            exe,
            native_memory,
            confinement: confinement.unwrap_or(""),
            worker: None,
            pid: Arc::default(),
        }
    }

    /// Where the helper's pid is kept while one runs.
    pub fn pid(&self) -> Arc<AtomicI32> {
        self.pid.clone()
    }

    fn worker(&mut self) -> Result<&mut Worker, FfiError> {
        if self.worker.is_none() {
            let worker = Worker::spawn(&self.exe, self.native_memory, self.confinement)?;
            self.pid.store(worker.child.id() as i32, Ordering::SeqCst);
            self.worker = Some(worker);
        }
        Ok(self.worker.as_mut().expect("just spawned"))
    }

    /// One request, one response; a dead helper becomes a recoverable crash.
    fn request(&mut self, request: &Request) -> Result<Response, FfiError> {
        let worker = self.worker()?;
        let outcome = send(&mut worker.requests, request)
            .and_then(|()| receive::<Response>(&mut worker.responses));
        match outcome {
            Ok(Some(Response::Error(err))) => Err(err.into()),
            Ok(Some(response)) => Ok(response),
            Ok(None) | Err(_) => Err(self.helper_died()),
        }
    }

    /// Reap the helper and describe how it ended.
    fn helper_died(&mut self) -> FfiError {
        self.pid.store(0, Ordering::SeqCst);
        let Some(mut worker) = self.worker.take() else {
            return FfiError::Unsupported("the native helper process is gone".into());
        };
        // The helper closed its end: it is gone or going; reap it.
        let status = worker.child.wait();
        let function = worker
            .running
            .last()
            .map_or_else(|| "native code".to_owned(), |f| f.to_string());
        let signal = status.as_ref().ok().and_then(|s| s.signal()).unwrap_or(0);
        FfiError::Crashed(NativeCrash {
            signal,
            signal_name: if signal == 0 {
                format!("exit ({status:?})")
            } else {
                crate::fault::signal_name(signal)
            },
            function,
            recoverable: true,
        })
    }

    pub fn open(&mut self, key: &LibKey) -> Result<(), FfiError> {
        self.lib_id(key).map(drop)
    }

    fn lib_id(&mut self, key: &LibKey) -> Result<u32, FfiError> {
        if let Some(&id) = self.worker()?.libs.get(key) {
            return Ok(id);
        }
        let request = Request::Open {
            name: key.name.clone(),
            mode: key.mode,
        };
        match self.request(&request)? {
            Response::Opened { lib } => {
                self.worker()?.libs.insert(key.clone(), lib);
                Ok(lib)
            }
            other => Err(unexpected(other)),
        }
    }

    pub fn symbol(&mut self, key: &LibKey, name: &str) -> Result<u64, FfiError> {
        let cache_key = (key.clone(), name.to_owned());
        if let Some(&address) = self.worker()?.symbols.get(&cache_key) {
            return Ok(address);
        }
        let lib = self.lib_id(key)?;
        match self.request(&Request::Symbol {
            lib,
            name: name.to_owned(),
        })? {
            Response::Value(address) => {
                self.worker()?.symbols.insert(cache_key, address);
                Ok(address)
            }
            other => Err(unexpected(other)),
        }
    }

    fn sig_id(&mut self, sig: &Arc<Prepared>) -> Result<u32, FfiError> {
        if let Some(id) = self.worker()?.sigs.get(&sig.shape) {
            return Ok(*id);
        }
        match self.request(&Request::Prepare(sig.shape.clone()))? {
            Response::Prepared(id) => {
                self.worker()?.sigs.insert(sig.shape.clone(), id);
                Ok(id)
            }
            other => Err(unexpected(other)),
        }
    }

    pub fn invoke(&mut self, function: &Function, args: CallArgs) -> Result<CallStep, FfiError> {
        let address = match &function.remote {
            Some((key, symbol)) => self.symbol(key, symbol)?,
            None => function.address,
        };
        let sig = self.sig_id(&function.sig)?;
        self.worker()?.running.push(function.name.clone());
        let step = self.request(&Request::Call {
            sig,
            address,
            data: args.data,
            relocations: args.relocations,
            errno: args.errno,
        });
        self.step(step)
    }

    pub fn resume(&mut self, reply: Vec<u8>) -> Result<CallStep, FfiError> {
        let step = self.request(&Request::Reply(reply));
        self.step(step)
    }

    fn step(&mut self, response: Result<Response, FfiError>) -> Result<CallStep, FfiError> {
        match response {
            Ok(Response::Callback { id, args }) => {
                Ok(CallStep::Callback(CallbackRequest { id, args }))
            }
            Ok(Response::Done {
                value,
                bytes,
                errno,
            }) => {
                if let Some(worker) = self.worker.as_mut() {
                    worker.running.pop();
                }
                Ok(CallStep::Done(CallDone {
                    value,
                    bytes,
                    errno,
                }))
            }
            Ok(other) => Err(unexpected(other)),
            Err(err) => {
                if let Some(worker) = self.worker.as_mut() {
                    worker.running.pop();
                }
                Err(err)
            }
        }
    }

    pub fn new_callback(&mut self, sig: &Arc<Prepared>, id: u32) -> Result<u64, FfiError> {
        let sig = self.sig_id(sig)?;
        match self.request(&Request::NewCallback { sig, id })? {
            Response::Value(address) => Ok(address),
            other => Err(unexpected(other)),
        }
    }

    pub fn retire_callback(&mut self, address: u64) {
        // Best effort: a helper that is gone has no callbacks left.
        if self.worker.is_some() {
            let _ = self.request(&Request::RetireCallback { address });
        }
    }

    /// A memory request answered with a value.
    pub fn memory_value(&mut self, request: Request) -> Result<u64, FfiError> {
        match self.request(&request)? {
            Response::Value(v) => Ok(v),
            other => Err(unexpected(other)),
        }
    }

    pub fn memory_unit(&mut self, request: Request) -> Result<(), FfiError> {
        match self.request(&request)? {
            Response::Unit => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    pub fn memory_bytes(&mut self, request: Request) -> Result<Vec<u8>, FfiError> {
        match self.request(&request)? {
            Response::Bytes(b) => Ok(b),
            other => Err(unexpected(other)),
        }
    }
}

fn unexpected(response: Response) -> FfiError {
    FfiError::InvalidArgument(format!(
        "unexpected answer from the native helper: {response:?}"
    ))
}

impl Worker {
    fn spawn(exe: &PathBuf, native_memory: u64, confinement: &str) -> Result<Worker, FfiError> {
        let (request_read, request_write) = pipe()?;
        let (response_read, response_write) = pipe()?;
        let (child_in, child_out) = (request_read, response_write);
        let (in_fd, out_fd) = (raw(&child_in), raw(&child_out));
        let mut command = Command::new(exe);
        command
            .arg(WORKER_ARG)
            .arg(native_memory.to_string())
            .arg(confinement);
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(move || {
                // Move both ends clear of 3 and 4 first: either may be one of them.
                let high_in = libc::fcntl(in_fd, libc::F_DUPFD, 10);
                let high_out = libc::fcntl(out_fd, libc::F_DUPFD, 10);
                if high_in < 0
                    || high_out < 0
                    || libc::dup2(high_in, REQUEST_FD) < 0
                    || libc::dup2(high_out, RESPONSE_FD) < 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(high_in);
                libc::close(high_out);
                Ok(())
            });
        }
        let child = command.spawn().map_err(|e| {
            FfiError::Unsupported(format!(
                "cannot start the native helper {}: {e}",
                exe.display()
            ))
        })?;
        drop(child_in);
        drop(child_out);
        Ok(Worker {
            child,
            requests: File::from(request_write),
            responses: BufReader::new(File::from(response_read)),
            libs: HashMap::new(),
            sigs: HashMap::new(),
            symbols: HashMap::new(),
            running: Vec::new(),
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn raw(fd: &OwnedFd) -> i32 {
    use std::os::fd::AsRawFd;
    fd.as_raw_fd()
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> Result<(OwnedFd, OwnedFd), FfiError> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills both descriptors on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(FfiError::LimitExceeded(format!(
            "cannot create a pipe: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: fresh descriptors owned by nobody else.
    unsafe { Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))) }
}
