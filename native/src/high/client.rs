//! The host's side of a helper process: spawns it (the host's own
//! executable for --isolate-native, the `wasmffi-native` binary of another
//! architecture under qemu-user for --native-arch), sends requests, and
//! turns its death into a recoverable crash of the call that was running.
//!
//! The helper's protocol runs on a private pipe pair (its fds 3 and 4), so
//! native code keeps the real stdin/stdout/stderr. Callbacks need no
//! coroutines here: the helper's closure sends a callback response in the
//! middle of a call and serves requests (nested calls included) until the
//! guest's reply arrives.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::BufReader;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use crate::high::facts::PlatformFacts;
use crate::high::lost_blocks::LostBlocks;
use crate::high::protocol::{receive, send, LibKey, Request, Response};
use crate::middle::closure::{Bytes, Step};
use crate::middle::signature::{Done, SigLayout, SigShape};
use crate::middle::types::{Layout, Ty};
use crate::{Crash, Error as FfiError};

/// The helper's ends of the pipes.
pub const REQUEST_FD: i32 = 3;
pub const RESPONSE_FD: i32 = 4;

/// How to start a helper: a program and the arguments that come before the
/// helper's own (native memory limit, confinement).
#[derive(Clone, Debug)]
pub struct HelperCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Environment set for the helper (qemu's settings, say).
    pub env: Vec<(OsString, OsString)>,
}

/// A running helper and what the host knows of it.
pub struct Helper {
    /// How to start it, or why it cannot be started.
    command: Result<HelperCommand, String>,
    native_memory: u64,
    /// Why the helper's memory interface refuses foreign addresses (empty:
    /// raw memory is granted).
    confinement: String,
    worker: Option<Worker>,
    /// The running helper's pid (0: none), for the deadline's watchdog.
    pid: Arc<AtomicI32>,
    /// Blocks the guest holds, of this helper and of crashed ones.
    blocks: LostBlocks,
}

struct Worker {
    child: Child,
    requests: File,
    responses: BufReader<File>,
    libs: HashMap<LibKey, (u32, String)>,
    /// The helper's signature ids by shape: one per distinct signature, so
    /// that creating signatures (a CFUNCTYPE per callback, say) in a loop
    /// grows neither side.
    sigs: HashMap<SigShape, (u32, Arc<SigLayout>)>,
    symbols: HashMap<(LibKey, String), u64>,
    /// The function whose call is in progress, for crash reports.
    running: Vec<Arc<str>>,
}

impl Helper {
    /// `confinement`: as [`crate::low::memory::NativeMemory::set_confined`]'s
    /// reason, or `None` when the policy grants raw memory.
    pub fn new(
        command: Result<HelperCommand, String>,
        native_memory: u64,
        confinement: Option<&str>,
    ) -> Self {
        Helper {
            command,
            native_memory,
            confinement: confinement.unwrap_or("").to_owned(),
            worker: None,
            pid: Arc::default(),
            blocks: LostBlocks::default(),
        }
    }

    /// Where the helper's pid is kept while one runs.
    pub fn pid(&self) -> Arc<AtomicI32> {
        self.pid.clone()
    }

    fn worker(&mut self) -> Result<&mut Worker, FfiError> {
        if self.worker.is_none() {
            let command = self
                .command
                .as_ref()
                .map_err(|why| FfiError::Unsupported(why.clone()))?;
            let worker = Worker::spawn(command, self.native_memory, &self.confinement)?;
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
            Ok(Some(Response::Error(err))) => Err(err),
            Ok(Some(response)) => Ok(response),
            Ok(None) | Err(_) => Err(self.helper_died()),
        }
    }

    /// Reap the helper and describe how it ended.
    fn helper_died(&mut self) -> FfiError {
        self.pid.store(0, Ordering::SeqCst);
        self.blocks.helper_died();
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
        FfiError::Crashed(Crash {
            signal,
            signal_name: if signal == 0 {
                format!("exit ({status:?})")
            } else {
                crate::low::fault::signal_name(signal)
            },
            function,
            recoverable: true,
        })
    }

    /// The helper's platform facts.
    pub fn facts(&mut self) -> Result<PlatformFacts, FfiError> {
        match self.request(&Request::Facts)? {
            Response::Facts(facts) => Ok(*facts),
            other => Err(unexpected(other)),
        }
    }

    /// A type laid out by the helper's libffi.
    pub fn lay_out(&mut self, tree: &Ty) -> Result<Layout, FfiError> {
        match self.request(&Request::LayOut(tree.clone()))? {
            Response::Layout(layout) => Ok(layout),
            other => Err(unexpected(other)),
        }
    }

    /// Open a library in the helper; the file its loader used.
    pub fn open(&mut self, key: &LibKey) -> Result<String, FfiError> {
        self.lib_id(key).map(|(_, path)| path)
    }

    fn lib_id(&mut self, key: &LibKey) -> Result<(u32, String), FfiError> {
        if let Some(known) = self.worker()?.libs.get(key) {
            return Ok(known.clone());
        }
        match self.request(&Request::Open(key.clone()))? {
            Response::Opened { lib, path } => {
                self.worker()?.libs.insert(key.clone(), (lib, path.clone()));
                Ok((lib, path))
            }
            other => Err(unexpected(other)),
        }
    }

    pub fn symbol(&mut self, key: &LibKey, name: &str) -> Result<u64, FfiError> {
        let cache_key = (key.clone(), name.to_owned());
        if let Some(&address) = self.worker()?.symbols.get(&cache_key) {
            return Ok(address);
        }
        let (lib, _) = self.lib_id(key)?;
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

    /// The helper's id and layout of a signature, prepared once per shape.
    pub fn prepare(&mut self, shape: &SigShape) -> Result<(u32, Arc<SigLayout>), FfiError> {
        if let Some(known) = self.worker()?.sigs.get(shape) {
            return Ok(known.clone());
        }
        match self.request(&Request::Prepare(shape.clone()))? {
            Response::Prepared { id, layout } => {
                let known = (id, Arc::new(layout));
                self.worker()?.sigs.insert(shape.clone(), known.clone());
                Ok(known)
            }
            other => Err(unexpected(other)),
        }
    }

    /// Call a function: at `address`, or (`remote`) a library's symbol as
    /// the helper resolves it. `name` is for crash reports.
    #[allow(clippy::too_many_arguments)]
    pub fn invoke(
        &mut self,
        address: u64,
        remote: Option<&(LibKey, String)>,
        shape: &SigShape,
        name: &Arc<str>,
        data: Vec<u8>,
        relocations: Vec<u32>,
        errno: Option<i32>,
    ) -> Result<Step, FfiError> {
        let address = match remote {
            Some((key, symbol)) => self.symbol(key, symbol)?,
            None => address,
        };
        let (sig, _) = self.prepare(shape)?;
        self.worker()?.running.push(name.clone());
        let step = self.request(&Request::Call {
            sig,
            address,
            data,
            relocations,
            errno,
        });
        self.step(step)
    }

    pub fn resume(&mut self, reply: Vec<u8>) -> Result<Step, FfiError> {
        let step = self.request(&Request::Reply(reply));
        self.step(step)
    }

    fn step(&mut self, response: Result<Response, FfiError>) -> Result<Step, FfiError> {
        match response {
            Ok(Response::Callback { id, args }) => Ok(Step::Callback {
                id,
                args: Bytes::Heap(args),
            }),
            Ok(Response::Done {
                value,
                bytes,
                errno,
            }) => {
                if let Some(worker) = self.worker.as_mut() {
                    worker.running.pop();
                }
                Ok(Step::Done(Done {
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

    pub fn new_callback(&mut self, shape: &SigShape, id: u32) -> Result<u64, FfiError> {
        let (sig, _) = self.prepare(shape)?;
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
        if let Request::Alloc { size, alignment } = request {
            return self.alloc(size, alignment);
        }
        self.blocks.check(&request)?;
        match self.request(&request)? {
            Response::Value(v) => Ok(v),
            other => Err(unexpected(other)),
        }
    }

    /// A fresh block that overlaps none of a crashed helper's: one that does
    /// is set aside (kept allocated), so stale addresses never reach it.
    fn alloc(&mut self, size: u64, alignment: u32) -> Result<u64, FfiError> {
        for _ in 0..=self.blocks.max_set_aside() {
            let address = match self.request(&Request::Alloc { size, alignment })? {
                Response::Value(v) => v,
                other => return Err(unexpected(other)),
            };
            if !self.blocks.overlaps_lost(address, size) {
                self.blocks.allocated(address, size);
                return Ok(address);
            }
        }
        Err(FfiError::LimitExceeded(
            "native memory: the fresh helper keeps handing out addresses of the crashed one".into(),
        ))
    }

    pub fn memory_unit(&mut self, request: Request) -> Result<(), FfiError> {
        self.blocks.check(&request)?;
        match self.request(&request)? {
            Response::Unit => {
                if let Request::Free { address } = request {
                    self.blocks.freed(address);
                }
                Ok(())
            }
            other => Err(unexpected(other)),
        }
    }

    pub fn memory_bytes(&mut self, request: Request) -> Result<Vec<u8>, FfiError> {
        self.blocks.check(&request)?;
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
    fn spawn(
        helper: &HelperCommand,
        native_memory: u64,
        confinement: &str,
    ) -> Result<Worker, FfiError> {
        let (request_read, request_write) = pipe()?;
        let (response_read, response_write) = pipe()?;
        let (child_in, child_out) = (request_read, response_write);
        let (in_fd, out_fd) = (raw(&child_in), raw(&child_out));
        let mut command = Command::new(&helper.program);
        command
            .args(&helper.args)
            .envs(helper.env.iter().map(|(k, v)| (k, v)))
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
                helper.program.display()
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
