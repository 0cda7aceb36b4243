//! The executor of a helper process (--isolate-native, --native-arch):
//! loads libraries, owns native memory and runs native calls for one run's
//! host (see client.rs). It exits when the host closes its end of the
//! pipe; if native code crashes it, the host sees the end of the pipe and
//! reports which call was running.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::c_void;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use libffi::low::ffi_cif;

use crate::high::protocol::{receive, send, Request, Response};
use crate::low::library::NativeLibrary;
use crate::low::memory::NativeMemory;
use crate::middle::closure::{pack_args, write_result};
use crate::middle::signature::{call_native, finish, Prepared};
use crate::middle::staging::{stage, ArgView};
use crate::middle::types::lay_out;
use crate::Error as FfiError;

struct Worker {
    input: BufReader<File>,
    output: BufWriter<File>,
    libs: Vec<NativeLibrary>,
    sigs: Vec<Arc<Prepared>>,
    memory: NativeMemory,
}

/// A callback's closure in the helper; never freed, and reused for the next
/// callback of the same signature, like the host's (callback.rs).
struct Slot {
    id: AtomicU32,
    sig: Arc<Prepared>,
    live: AtomicBool,
    /// The closure's code address: what native code calls.
    address: u64,
    /// The helper's id of `sig`, under which the slot is reused.
    sig_id: u32,
}

/// The helper's callback slots: live ones by address, retired ones by
/// signature id (one id per distinct signature, see isolate.rs).
#[derive(Default)]
struct Slots {
    by_address: HashMap<u64, &'static Slot>,
    retired: HashMap<u32, Vec<&'static Slot>>,
}

thread_local! {
    static WORKER: RefCell<Option<Worker>> = const { RefCell::new(None) };
    static SLOTS: RefCell<Slots> = RefCell::new(Slots::default());
}

/// Serve the host on the pipes [`crate::high::client::Helper`] set up as
/// fds 3 and 4; never returns.
pub fn serve_helper_fds(args: &[String]) -> ! {
    use crate::high::client::{REQUEST_FD, RESPONSE_FD};
    use std::os::fd::FromRawFd;
    // SAFETY: the host set up fds 3 and 4 for us and nothing else owns them.
    let (input, output) = unsafe {
        (
            File::from_raw_fd(REQUEST_FD),
            File::from_raw_fd(RESPONSE_FD),
        )
    };
    serve_pipes(input, output, args)
}

/// Serve the host on `input`/`output` until it hangs up; never returns.
/// `args`: the native memory limit in bytes, and why foreign addresses are
/// refused (empty or absent: the policy grants raw memory). See
/// [`crate::high::client::Helper`], which passes both.
pub fn serve_pipes(input: File, output: File, args: &[String]) -> ! {
    let limit = args.first().and_then(|a| a.parse().ok()).unwrap_or(1 << 30);
    // Foreign memory is copied under the fault handlers here too: the kernel's
    // copy (process_vm_readv/writev) is ENOSYS under qemu-user.
    crate::low::fault::install();
    let mut memory = NativeMemory::new(limit);
    if let Some(why) = args.get(1).filter(|why| !why.is_empty()) {
        memory.set_confined(true, Box::leak(why.clone().into_boxed_str()));
    }
    WORKER.with(|w| {
        *w.borrow_mut() = Some(Worker {
            input: BufReader::new(input),
            output: BufWriter::new(output),
            libs: Vec::new(),
            sigs: Vec::new(),
            memory,
        })
    });
    // Serve until the host hangs up; a stray Reply at top level is a protocol error.
    match serve() {
        Some(_) => std::process::exit(3),
        None => std::process::exit(0),
    }
}

/// Handle requests until a `Reply` arrives (returned) or the host hangs up
/// (`None`). Native calls made here may call back, which recurses.
fn serve() -> Option<Vec<u8>> {
    loop {
        let request = WORKER.with(|w| {
            let mut w = w.borrow_mut();
            let w = w.as_mut().expect("worker state");
            receive::<Request>(&mut w.input).ok().flatten()
        })?;
        let response = match request {
            Request::Reply(reply) => return Some(reply),
            Request::Call {
                sig,
                address,
                data,
                relocations,
                errno,
            } => call(
                sig,
                address,
                ArgView {
                    data: &data,
                    relocations: &relocations,
                },
                errno,
            ),
            other => WORKER.with(|w| handle(w.borrow_mut().as_mut().expect("worker"), other)),
        };
        let sent = WORKER.with(|w| {
            let mut w = w.borrow_mut();
            send(&mut w.as_mut().expect("worker").output, &response)
        });
        if sent.is_err() {
            return None;
        }
    }
}

fn error(err: FfiError) -> Response {
    Response::Error(err)
}

fn handle(w: &mut Worker, request: Request) -> Response {
    let result: Result<Response, FfiError> = (|| {
        Ok(match request {
            Request::Facts => Response::Facts(Box::new(crate::high::facts::facts())),
            Request::LayOut(tree) => Response::Layout(lay_out(&tree)?.layout),
            Request::Open(key) => {
                let requested = key.name.as_deref().unwrap_or("<process>");
                let lib = crate::low::library::open(key.name.as_deref(), requested, key.mode)?;
                let path = lib.path.clone();
                w.libs.push(lib);
                Response::Opened {
                    lib: (w.libs.len() - 1) as u32,
                    path,
                }
            }
            Request::Symbol { lib, name } => {
                let lib = w.libs.get(lib as usize).ok_or_else(|| bad("library id"))?;
                Response::Value(lib.symbol(&name)?)
            }
            Request::Prepare(shape) => {
                let prepared = Prepared::new(shape)?;
                let layout = prepared.layout().clone();
                w.sigs.push(Arc::new(prepared));
                Response::Prepared {
                    id: (w.sigs.len() - 1) as u32,
                    layout,
                }
            }
            Request::NewCallback { sig, id } => {
                let prepared = w
                    .sigs
                    .get(sig as usize)
                    .ok_or_else(|| bad("signature id"))?
                    .clone();
                Response::Value(new_callback(prepared, sig, id)?)
            }
            Request::RetireCallback { address } => {
                SLOTS.with(|s| {
                    let mut s = s.borrow_mut();
                    if let Some(slot) = s.by_address.remove(&address) {
                        slot.live.store(false, Ordering::Release);
                        s.retired.entry(slot.sig_id).or_default().push(slot);
                    }
                });
                Response::Unit
            }
            Request::Alloc { size, alignment } => Response::Value(w.memory.alloc(size, alignment)?),
            Request::Free { address } => {
                w.memory.free(address)?;
                Response::Unit
            }
            Request::Read { address, len } => {
                let mut buf = vec![0u8; len as usize];
                w.memory.read(address, &mut buf)?;
                Response::Bytes(buf)
            }
            Request::Write { address, data } => {
                w.memory.write(address, &data)?;
                Response::Unit
            }
            Request::Load { address, kind } => Response::Value(w.memory.load(address, kind)?),
            Request::Store {
                address,
                kind,
                value,
            } => {
                w.memory.store(address, kind, value)?;
                Response::Unit
            }
            Request::Copy { dst, src, len } => {
                w.memory.copy(dst, src, len)?;
                Response::Unit
            }
            Request::Fill { dst, byte, len } => {
                w.memory.fill(dst, byte, len)?;
                Response::Unit
            }
            Request::StringLength { address, element } => {
                Response::Value(w.memory.string_length(address, element)?)
            }
            Request::Call { .. } | Request::Reply(_) => unreachable!("handled by serve"),
        })
    })();
    result.unwrap_or_else(error)
}

fn bad(what: &str) -> FfiError {
    FfiError::InvalidArgument(format!("native helper: unknown {what}"))
}

fn call(sig: u32, address: u64, args: ArgView<'_>, errno: Option<i32>) -> Response {
    let sig = WORKER.with(|w| {
        w.borrow()
            .as_ref()
            .and_then(|w| w.sigs.get(sig as usize).cloned())
    });
    let Some(sig) = sig else {
        return error(bad("signature id"));
    };
    let mut staged = Vec::new();
    if let Err(err) = stage(&sig, args, &mut [], &mut staged) {
        return error(err);
    }
    let mut ret = vec![0u128; sig.ret.buffer_size().div_ceil(16)];
    // SAFETY: staged against `sig`; no borrow of the worker state is held,
    // so callbacks can serve requests while native code runs.
    let outcome = unsafe {
        call_native(
            &sig,
            address,
            staged.as_mut_ptr().cast(),
            ret.as_mut_ptr(),
            errno,
        )
    };
    crate::middle::signature::retain_scratch(staged);
    match outcome {
        Ok(errno) => {
            let done = finish(&sig, &ret, errno);
            Response::Done {
                value: done.value,
                bytes: done.bytes,
                errno: done.errno,
            }
        }
        // Native state may be anything now: end the helper of the same
        // signal, and the host reports the crash and starts a fresh one.
        Err(signal) => crate::low::fault::die_of(signal),
    }
}

fn new_callback(sig: Arc<Prepared>, sig_id: u32, id: u32) -> Result<u64, FfiError> {
    let reused = SLOTS.with(|s| s.borrow_mut().retired.get_mut(&sig_id)?.pop());
    if let Some(slot) = reused {
        slot.id.store(id, Ordering::Relaxed);
        slot.live.store(true, Ordering::Release);
        SLOTS.with(|s| s.borrow_mut().by_address.insert(slot.address, slot));
        return Ok(slot.address);
    }
    let (closure, code) = libffi::low::try_closure_alloc()
        .ok_or_else(|| FfiError::LimitExceeded("libffi cannot allocate a closure".into()))?;
    let slot: &'static Slot = Box::leak(Box::new(Slot {
        id: AtomicU32::new(id),
        sig,
        live: AtomicBool::new(true),
        address: code.0 as u64,
        sig_id,
    }));
    // SAFETY: closure, CIF (kept by `slot.sig`) and slot are never freed.
    unsafe {
        let cif = slot.sig.cif_ptr().expect("prepared here");
        libffi::low::prep_closure(closure, cif, trampoline, slot, code)
            .map_err(|e| FfiError::InvalidArgument(format!("libffi closure: {e:?}")))?;
    }
    SLOTS.with(|s| s.borrow_mut().by_address.insert(slot.address, slot));
    Ok(slot.address)
}

unsafe extern "C" fn trampoline(
    _cif: &ffi_cif,
    result: &mut u8,
    args: *const *const c_void,
    slot: &Slot,
) {
    let result: *mut u8 = result;
    std::ptr::write_bytes(result, 0, slot.sig.ret.buffer_size());
    if !slot.live.load(Ordering::Acquire) {
        eprintln!(
            "wasmffi: native code called callback #{} after the guest freed it; it returns 0",
            slot.id.load(Ordering::Relaxed)
        );
        return;
    }
    if WORKER.with(|w| w.try_borrow().map(|w| w.is_none()).unwrap_or(true)) {
        eprintln!(
            "wasmffi: callback #{} was called from a thread native code created; it returns 0",
            slot.id.load(Ordering::Relaxed)
        );
        return;
    }
    let packed = pack_args(&slot.sig, args);
    let sent = WORKER.with(|w| {
        let mut w = w.borrow_mut();
        send(
            &mut w.as_mut().expect("worker").output,
            &Response::Callback {
                id: slot.id.load(Ordering::Relaxed),
                args: packed,
            },
        )
    });
    if sent.is_err() {
        std::process::exit(0);
    }
    // Requests served meanwhile are the host's, not the suspended call's:
    // their faults must not unwind into it.
    match crate::low::fault::outside_native(serve) {
        Some(reply) => write_result(&slot.sig, &reply, result),
        // The host went away mid-callback: nothing left to return to.
        None => std::process::exit(0),
    }
}
