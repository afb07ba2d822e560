//! Handing a [`SharedMemory`] to another process with no `unsafe` on either
//! side: as a child's stdio handle, or over a Unix socket (`SCM_RIGHTS`).

use core::mem::MaybeUninit;

use alloc::format;
use alloc::vec::Vec;

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::process::Stdio;

use rustix::net::{
    RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};

use super::{SharedMemory, invalid_input};

/// The one byte of data that carries the fd: a stream socket cannot carry
/// ancillary data without any.
const TAG: u8 = b'M';

impl SharedMemory {
    /// A new handle to this memory, to give a child process as its stdin,
    /// stdout or stderr; the child maps it with
    /// [`from_stdin`](SharedMemory::from_stdin) (or `from_fd` of the handle
    /// it was given).
    ///
    /// This is the way to share memory with a child that needs no `unsafe`
    /// on either side. Rust opens every fd close-on-exec, and `std` offers
    /// no safe way to clear that flag; a child that took an inherited fd by
    /// number would have to promise, in `unsafe`, that nothing else in it
    /// owns that fd. The stdio slots are the fds std passes on and the child
    /// can borrow safely. The cost is the slot: the child cannot also read
    /// its real stdin. To pass several regions, or keep stdin, give the
    /// child one end of a [`UnixStream::pair`](std::os::unix::net::UnixStream::pair)
    /// as its stdin instead and [`send_to`](SharedMemory::send_to) it any
    /// number of regions.
    ///
    /// The handle is a duplicate of the fd (`dup`): same memory, same
    /// seals. Drop the `Stdio` (or the `Command` holding it) after spawning
    /// to close the parent's copy.
    ///
    /// # Errors
    ///
    /// The error of `dup(2)`, such as running out of fds.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::process::Command;
    ///
    /// let shm = bytewise::SharedMemory::create(4096)?;
    /// let status = Command::new("worker").stdin(shm.to_stdio()?).status()?;
    /// // `worker` ran `SharedMemory::from_stdin()` and wrote into `shm`.
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn to_stdio(&self) -> io::Result<Stdio> {
        Ok(Stdio::from(self.as_fd().try_clone_to_owned()?))
    }

    /// Maps the memory a parent passed as this process's stdin with
    /// [`to_stdio`](SharedMemory::to_stdio); the child side of that call.
    ///
    /// Stdin itself stays open; the mapping holds its own duplicate of it.
    ///
    /// # Errors
    ///
    /// As for [`from_fd`](SharedMemory::from_fd): stdin that is a terminal,
    /// pipe or socket is [`InvalidInput`](io::ErrorKind::InvalidInput).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// // In the child process:
    /// let shm = bytewise::SharedMemory::from_stdin()?;
    /// shm.write_at(0, b"from the child")?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn from_stdin() -> io::Result<SharedMemory> {
        SharedMemory::from_fd(std::io::stdin().as_fd().try_clone_to_owned()?)
    }

    /// Sends this memory's fd over a connected Unix socket (`SCM_RIGHTS`),
    /// with one byte of data; the peer receives it with
    /// [`recv_from`](SharedMemory::recv_from) or
    /// [`recv_sealed_from`](SharedMemory::recv_sealed_from).
    ///
    /// `socket` is a `UnixStream` or a connected `UnixDatagram` (or their
    /// fds). On a stream socket, do not interleave other data with the
    /// messages these functions exchange.
    ///
    /// # Errors
    ///
    /// The error of `sendmsg(2)`, such as
    /// [`BrokenPipe`](io::ErrorKind::BrokenPipe) when the peer has closed
    /// its end (no `SIGPIPE` is raised where `MSG_NOSIGNAL` exists), or
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) when `socket` is not a
    /// Unix socket.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytewise::SharedMemory;
    /// use std::os::unix::net::UnixStream;
    ///
    /// let (a, b) = UnixStream::pair()?;
    /// let shm = SharedMemory::create(64)?;
    /// shm.send_to(&a)?;
    ///
    /// // In the peer (another process, usually):
    /// let received = SharedMemory::recv_sealed_from(&b)?;
    /// received.write_at(0, b"hi")?;
    /// assert_eq!(shm.read_obj::<[u8; 2]>(0)?, *b"hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[doc(alias = "SCM_RIGHTS")]
    #[doc(alias = "sendmsg")]
    pub fn send_to(&self, socket: impl AsFd) -> io::Result<()> {
        let fds = [self.as_fd()];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        let pushed = control.push(SendAncillaryMessage::ScmRights(&fds));
        debug_assert!(pushed, "the buffer has room for one fd");
        let sent = rustix::net::sendmsg(socket, &[IoSlice::new(&[TAG])], &mut control, SEND_FLAGS)
            .map_err(|e| match e {
                rustix::io::Errno::NOTSOCK | rustix::io::Errno::OPNOTSUPP => {
                    invalid_input(format!("cannot send shared memory: not a Unix socket: {e}"))
                }
                e => e.into(),
            })?;
        if sent != 1 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "the socket took no data",
            ));
        }
        Ok(())
    }

    /// Receives memory a peer sent with [`send_to`](SharedMemory::send_to)
    /// and maps all of it, read-write.
    ///
    /// Whatever the peer sent is checked before it is mapped, as by
    /// [`from_fd`](SharedMemory::from_fd). The memory need not be sealed:
    /// use [`recv_sealed_from`](SharedMemory::recv_sealed_from) when the
    /// peer is not trusted to leave its size alone.
    ///
    /// # Errors
    ///
    /// - [`UnexpectedEof`](io::ErrorKind::UnexpectedEof) if the peer closed
    ///   the socket;
    /// - [`InvalidData`](io::ErrorKind::InvalidData) if the message was not
    ///   one fd with its byte (any fds it did carry are closed);
    /// - the errors of `recvmsg(2)` and of `from_fd`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    ///
    /// let (a, b) = UnixStream::pair()?;
    /// bytewise::SharedMemory::create(10)?.send_to(&a)?;
    /// assert_eq!(bytewise::SharedMemory::recv_from(&b)?.len(), 10);
    /// drop(a);
    /// let eof = bytewise::SharedMemory::recv_from(&b).unwrap_err();
    /// assert_eq!(eof.kind(), std::io::ErrorKind::UnexpectedEof);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[doc(alias = "recvmsg")]
    pub fn recv_from(socket: impl AsFd) -> io::Result<SharedMemory> {
        SharedMemory::from_fd(recv_fd(socket.as_fd())?)
    }

    /// Like [`recv_from`](SharedMemory::recv_from), but refuses memory
    /// whose size is not sealed (`F_SEAL_SHRINK` and `F_SEAL_GROW`, as
    /// [`create`](SharedMemory::create) seals it).
    ///
    /// Such memory cannot be truncated by the sender (or anyone) while it
    /// is mapped here, so no access to it can raise `SIGBUS`: use this when
    /// the sender is not trusted. Ordinary files and POSIX shared memory
    /// are never sealed; on systems without file seals, nothing is.
    ///
    /// # Errors
    ///
    /// - [`InvalidInput`](io::ErrorKind::InvalidInput) if the memory is not
    ///   sealed so; the received fd is closed and nothing is mapped;
    /// - the errors of [`recv_from`](SharedMemory::recv_from).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::net::UnixStream;
    ///
    /// let path = std::env::temp_dir().join(format!("bytewise-doc-recv-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 64])?;
    /// let (a, b) = UnixStream::pair()?;
    /// bytewise::SharedMemory::open(&path)?.send_to(&a)?; // a file: never sealed
    /// let err = bytewise::SharedMemory::recv_sealed_from(&b).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv_sealed_from(socket: impl AsFd) -> io::Result<SharedMemory> {
        let fd = recv_fd(socket.as_fd())?;
        require_size_seals(fd.as_fd())?;
        SharedMemory::from_fd(fd)
    }
}

/// `MSG_NOSIGNAL` where it exists: a closed peer is an error, not a signal.
#[cfg(not(target_vendor = "apple"))]
const SEND_FLAGS: SendFlags = SendFlags::NOSIGNAL;
#[cfg(target_vendor = "apple")]
const SEND_FLAGS: SendFlags = SendFlags::empty();

/// Systems with `MSG_CMSG_CLOEXEC` receive fds close-on-exec from the start.
/// On the others (`cfg(bytewise_no_cmsg_cloexec)`, set by `build.rs`) a
/// received fd is made close-on-exec right after `recvmsg` instead, so a
/// thread that spawns a process at that moment can leak it into the child.
#[cfg(not(bytewise_no_cmsg_cloexec))]
const RECV_FLAGS: RecvFlags = RecvFlags::CMSG_CLOEXEC;
#[cfg(bytewise_no_cmsg_cloexec)]
const RECV_FLAGS: RecvFlags = RecvFlags::empty();

/// Makes a received fd close-on-exec where `RECV_FLAGS` could not.
#[cfg(not(bytewise_no_cmsg_cloexec))]
fn set_cloexec(_fd: &OwnedFd) -> io::Result<()> {
    Ok(())
}
/// Makes a received fd close-on-exec where `RECV_FLAGS` could not.
#[cfg(bytewise_no_cmsg_cloexec)]
fn set_cloexec(fd: &OwnedFd) -> io::Result<()> {
    rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
    Ok(())
}

/// Receives one message of [`SharedMemory::send_to`]: one byte and one fd.
fn recv_fd(socket: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let mut byte = [0u8; 1];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let msg = rustix::net::recvmsg(
        socket,
        &mut [IoSliceMut::new(&mut byte)],
        &mut control,
        RECV_FLAGS,
    )?;
    // Take ownership of every fd that arrived, so that all are closed on
    // any error below.
    let mut fds: Vec<OwnedFd> = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    if msg.bytes == 0 && fds.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the peer closed the socket before sending shared memory",
        ));
    }
    let invalid = |what: &str| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("expected shared memory (one fd and one byte) but {what}"),
        )
    };
    if msg.flags.contains(ReturnFlags::CTRUNC) {
        return Err(invalid("received more than one fd"));
    }
    if msg.bytes != 1 || byte[0] != TAG {
        return Err(invalid("received other data"));
    }
    match <[OwnedFd; 1]>::try_from(fds) {
        Ok([fd]) => {
            set_cloexec(&fd)?;
            Ok(fd)
        }
        Err(fds) => Err(invalid(&format!("received {} fds", fds.len()))),
    }
}

/// Refuses an fd whose size is not sealed with `F_SEAL_SHRINK` and
/// `F_SEAL_GROW`.
fn require_size_seals(fd: BorrowedFd<'_>) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
    {
        use rustix::fs::SealFlags;
        let seals = rustix::fs::fcntl_get_seals(fd).unwrap_or(SealFlags::empty());
        if seals.contains(SealFlags::SHRINK | SealFlags::GROW) {
            return Ok(());
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    let _ = fd;
    Err(invalid_input(
        "refusing shared memory whose size is not sealed (F_SEAL_SHRINK | F_SEAL_GROW): \
         the sender could truncate it, and accessing it would then raise SIGBUS",
    ))
}
