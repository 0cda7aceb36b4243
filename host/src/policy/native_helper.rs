//! Which program serves as the native helper: for --isolate-native, this
//! very executable started as `wasmffi __native-worker`; for
//! `--native-arch ARCH`, the `wasmffi-native` binary built for ARCH, run
//! under qemu-user (`qemu-ARCH`), while wasmtime and the guest run here.
//!
//! The helper for ARCH is, first found:
//! * `$WASMFFI_NATIVE_HELPER_<ARCH>` (e.g. `WASMFFI_NATIVE_HELPER_AARCH64`);
//! * `wasmffi-native-<ARCH>` next to the wasmffi executable (an install);
//! * `<target>/cross/<triple>/release/wasmffi-native`, where the wasmffi
//!   executable is `<target>/<profile>/wasmffi` or
//!   `<target>/cross/<its triple>/<profile>/wasmffi` (what
//!   `scripts/native_helpers.sh ARCH`, i.e. `cargo build -p wasmffi-native
//!   --release --target <triple> --target-dir target/cross`, builds).
//!
//! The helper of the machine's own architecture runs as it is, without qemu.

use std::path::{Path, PathBuf};

use wasmffi_native::high::client::HelperCommand;

/// The argument that turns the executable into a helper.
pub const WORKER_ARG: &str = "__native-worker";

/// This executable as its own helper (--isolate-native).
pub fn own_executable() -> HelperCommand {
    HelperCommand {
        program: current_exe(),
        args: vec![WORKER_ARG.into()],
        env: Vec::new(),
    }
}

fn current_exe() -> PathBuf {
    std::env::current_exe().unwrap_or_else(|_| PathBuf::from("wasmffi"))
}

/// An architecture native code can run under, and what it takes.
pub struct Arch {
    /// The name `--native-arch` takes, and others it accepts.
    pub name: &'static str,
    aliases: &'static [&'static str],
    /// Rust's target triple for the helper.
    pub triple: &'static str,
    /// qemu-user's emulator for it.
    qemu: &'static str,
    /// Debian's architecture and its cross compiler's prefix.
    pub(crate) deb_arch: &'static str,
    gnu_triple: &'static str,
    /// The dynamic loader that architecture's executables ask for.
    loader: &'static str,
    /// Debian's multiarch directory name (`/usr/lib/<multiarch>`), where
    /// that architecture's libraries are installed.
    pub(crate) multiarch: &'static str,
    /// What that architecture's ELF files say they are.
    pub(crate) elf: ElfKind,
    /// How `ldconfig -p` tags its libraries: `(libc6,AArch64)` is
    /// `"AArch64"`, a plain `(libc6)` is `""`.
    pub(crate) ldconfig_tag: &'static str,
}

/// An ELF file's class, byte order and machine: what decides whether a
/// library can be loaded by a given architecture's loader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfKind {
    pub bits64: bool,
    pub big_endian: bool,
    /// `e_machine` (EM_AARCH64 183, EM_S390 22, EM_386 3, EM_ARM 40, ...).
    pub machine: u16,
}

pub const ARCHES: [Arch; 4] = [
    Arch {
        name: "aarch64",
        aliases: &["arm64"],
        triple: "aarch64-unknown-linux-gnu",
        qemu: "qemu-aarch64",
        deb_arch: "arm64",
        gnu_triple: "aarch64-linux-gnu",
        loader: "/lib/ld-linux-aarch64.so.1",
        multiarch: "aarch64-linux-gnu",
        elf: ElfKind {
            bits64: true,
            big_endian: false,
            machine: 183,
        },
        ldconfig_tag: "AArch64",
    },
    Arch {
        name: "s390x",
        aliases: &[],
        triple: "s390x-unknown-linux-gnu",
        qemu: "qemu-s390x",
        deb_arch: "s390x",
        gnu_triple: "s390x-linux-gnu",
        loader: "/lib/ld64.so.1",
        multiarch: "s390x-linux-gnu",
        elf: ElfKind {
            bits64: true,
            big_endian: true,
            machine: 22,
        },
        ldconfig_tag: "64bit",
    },
    Arch {
        name: "i686",
        aliases: &["i386", "x86"],
        triple: "i686-unknown-linux-gnu",
        qemu: "qemu-i386",
        deb_arch: "i386",
        gnu_triple: "i686-linux-gnu",
        loader: "/lib/ld-linux.so.2",
        multiarch: "i386-linux-gnu",
        elf: ElfKind {
            bits64: false,
            big_endian: false,
            machine: 3,
        },
        ldconfig_tag: "",
    },
    Arch {
        name: "armhf",
        aliases: &["armv7", "arm"],
        triple: "armv7-unknown-linux-gnueabihf",
        qemu: "qemu-arm",
        deb_arch: "armhf",
        gnu_triple: "arm-linux-gnueabihf",
        loader: "/lib/ld-linux-armhf.so.3",
        multiarch: "arm-linux-gnueabihf",
        elf: ElfKind {
            bits64: false,
            big_endian: false,
            machine: 40,
        },
        ldconfig_tag: "hard-float",
    },
];

pub fn arch(name: &str) -> Option<&'static Arch> {
    ARCHES
        .iter()
        .find(|a| a.name == name || a.aliases.contains(&name))
}

impl Arch {
    /// What to install for this architecture, as a sentence's end.
    fn install_hint(&self) -> String {
        format!(
            "install what it needs with `scripts/native_helpers.sh --install {name}` (dpkg \
             --add-architecture {deb}; apt-get install gcc-{gnu} libc6-dev-{deb}-cross \
             libffi-dev:{deb} qemu-user; rustup target add {triple}) and build it with \
             `scripts/native_helpers.sh {name}`",
            name = self.name,
            deb = self.deb_arch,
            gnu = self.gnu_triple,
            triple = self.triple,
        )
    }

    fn env_var(&self) -> String {
        format!("WASMFFI_NATIVE_HELPER_{}", self.name.to_uppercase())
    }

    /// The helper binary, where it is found.
    fn helper(&self) -> Option<PathBuf> {
        if let Some(path) = std::env::var_os(self.env_var()) {
            // Named but missing is an error too (it names the variable).
            return Some(PathBuf::from(path)).filter(|p| p.is_file());
        }
        let exe = current_exe();
        let dir = exe.parent()?;
        let installed = dir.join(format!("wasmffi-native-{}", self.name));
        if installed.is_file() {
            return Some(installed);
        }
        let cross_dirs = dir.ancestors().skip(1).take(3).flat_map(|above| {
            [above.join("cross"), above.to_path_buf()]
                .into_iter()
                .filter(|cross| cross.file_name().is_some_and(|name| name == "cross"))
        });
        cross_dirs
            .map(|cross| cross.join(self.triple).join("release/wasmffi-native"))
            .find(|built| built.is_file())
    }

    /// Whether this machine runs the architecture's code itself.
    fn is_this_machine(&self) -> bool {
        let rust_arch = match self.name {
            "i686" => "x86",
            "armhf" => "arm",
            other => other,
        };
        rust_arch == std::env::consts::ARCH
    }
}

fn in_path(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The helper for `--native-arch name`, or why there is none (naming what
/// to install).
pub fn for_arch(name: &str) -> Result<HelperCommand, String> {
    let Some(arch) = arch(name) else {
        return Err(format!(
            "--native-arch {name}: unknown architecture ({})",
            supported()
        ));
    };
    let Some(helper) = arch.helper() else {
        return Err(format!(
            "--native-arch {}: no wasmffi-native helper built for {} (looked at ${}, \
             wasmffi-native-{} beside the wasmffi executable and target/cross/{}/release); {}",
            arch.name,
            arch.triple,
            arch.env_var(),
            arch.name,
            arch.triple,
            arch.install_hint()
        ));
    };
    if !Path::new(arch.loader).exists() {
        return Err(format!(
            "--native-arch {}: {}'s C library is not installed ({} is missing); {}",
            arch.name,
            arch.deb_arch,
            arch.loader,
            arch.install_hint()
        ));
    }
    if arch.is_this_machine() {
        return Ok(HelperCommand {
            program: helper,
            args: Vec::new(),
            env: Vec::new(),
        });
    }
    let Some(qemu) = in_path(arch.qemu) else {
        return Err(format!(
            "--native-arch {}: {} is not installed (Debian's qemu-user); {}",
            arch.name,
            arch.qemu,
            arch.install_hint()
        ));
    };
    Ok(HelperCommand {
        program: qemu,
        args: vec![helper.into()],
        env: Vec::new(),
    })
}

/// "supported: aarch64, s390x, ..." for error messages.
pub fn supported() -> String {
    let names: Vec<_> = ARCHES.iter().map(|a| a.name).collect();
    format!("supported architectures are {}", names.join(", "))
}
