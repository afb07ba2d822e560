//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use bytewise::__kernels::Kernel;

/// Scales an iteration count down under Miri, which is ~1000x slower.
pub fn iters(native: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { native }
}

/// A heap buffer aligned to 64 bytes, so that offsets 0..64 are exactly the
/// misalignments relative to a cache line.
pub struct Aligned {
    words: Vec<Line>,
    len: usize,
}

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Line([u8; 64]);

impl Aligned {
    pub fn new(len: usize, fill: u8) -> Self {
        Aligned {
            words: vec![Line([fill; 64]); len.div_ceil(64).max(1)],
            len,
        }
    }

    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.words.as_mut_ptr().cast()
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: `words` holds at least `len` initialized bytes.
        unsafe { core::slice::from_raw_parts(self.words.as_ptr().cast(), self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, exclusively borrowed.
        unsafe { core::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast(), self.len) }
    }
}

/// A deterministic byte pattern that differs for every `(seed, i)` nearby.
pub fn pattern(seed: usize, i: usize) -> u8 {
    (i.wrapping_mul(31).wrapping_add(seed.wrapping_mul(7)) ^ (i >> 8)) as u8 | 1
}

/// A command that runs this test binary again, for tests that need a second
/// process.
///
/// Under a cross-test runner exported as `CARGO_TARGET_<TRIPLE>_RUNNER` for
/// this architecture (`ci/cross.sh` runs the aarch64 build under
/// `qemu-aarch64` that way), the binary cannot be executed directly unless
/// the host has `binfmt_misc` set up, so the child goes through the runner
/// too.
pub fn self_command() -> std::process::Command {
    use std::process::Command;
    let exe = std::env::current_exe().unwrap();
    let arch = std::env::consts::ARCH.to_uppercase();
    let runner = std::env::vars()
        .find(|(k, _)| {
            k.starts_with("CARGO_TARGET_") && k.ends_with("_RUNNER") && k.contains(&arch)
        })
        .map(|(_, v)| v.split_whitespace().map(String::from).collect::<Vec<_>>())
        .filter(|words| !words.is_empty());
    match runner {
        Some(words) => {
            let mut cmd = Command::new(&words[0]);
            cmd.args(&words[1..]).arg(exe);
            cmd
        }
        None => Command::new(exe),
    }
}

/// Runs `cmd` (a [`self_command`] filtered to one child test), capturing
/// its output, and checks that it could be executed, exited successfully and
/// really ran one test (a wrong filter would run nothing and still exit 0).
/// Returns the child's pid.
pub fn run_child_test(mut cmd: std::process::Command) -> u32 {
    use std::process::Stdio;
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !(out.status.code() == Some(127) && log.is_empty()),
        "the child could not be executed (exit 127, no output); under qemu-user \
         without binfmt_misc a test binary cannot re-execute itself"
    );
    assert!(
        out.status.success(),
        "child failed: {:?}\n{log}",
        out.status
    );
    assert!(
        log.contains("1 passed"),
        "the child test did not run:\n{log}"
    );
    pid
}

/// Guard bytes kept on each side of a destination window.
pub const GUARD: usize = 64;
/// The value guard bytes hold; a kernel that writes one is caught.
pub const GUARD_BYTE: u8 = 0xA5;

/// One of the four kernel operations.
#[derive(Clone, Copy, Debug)]
pub enum Op {
    Load,
    Store,
    Copy,
    Fill,
}

/// Runs `op` of `kernel` into `dst` (whose window is first reset to guard
/// bytes); only the window `d-GUARD .. d+len+GUARD` is reset and compared.
pub fn run(
    kernel: &Kernel,
    op: Op,
    src: &mut Aligned,
    dst: &mut Aligned,
    len: usize,
    s: usize,
    d: usize,
) {
    let (s, d) = (GUARD + s, GUARD + d);
    dst.bytes_mut()[d - GUARD..d + len + GUARD].fill(GUARD_BYTE);
    let fill_byte = fill_byte(len);
    let sp = src.as_mut_ptr().wrapping_add(s);
    let dp = dst.as_mut_ptr().wrapping_add(d);
    // SAFETY (every arm): both buffers hold `GUARD + 64 + max_len + GUARD`
    // bytes and `s, d < GUARD + 64`, `len <= max_len`, so both windows are
    // in bounds; they are separate allocations and nothing else accesses
    // them.
    match op {
        // SAFETY: as above.
        Op::Load => unsafe { (kernel.load)(sp, dp, len) },
        // SAFETY: as above.
        Op::Store => unsafe { (kernel.store)(sp, dp, len) },
        // SAFETY: as above.
        Op::Copy => unsafe { (kernel.copy)(sp, dp, len) },
        // SAFETY: as above.
        Op::Fill => unsafe { (kernel.fill)(dp, fill_byte, len) },
    };
}

/// The byte `Op::Fill` writes for a given length.
pub fn fill_byte(len: usize) -> u8 {
    (len as u8) ^ 0x3C
}
