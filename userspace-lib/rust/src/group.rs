//! Device route groups and delegation files (libirqroute 1.1).

use std::io;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::os::raw::c_int;
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::{self, NonNull};

use crate::{check, ffi, libc_errno, Attachment, Route};

/// A device's vectors as one group of routes on contiguous indices from a
/// multiple of 64 (`irqroute_group_create(3)`): vector `i`'s pending bit is
/// bit `i % 64` of the group's word `i / 64`. Dropping it destroys every
/// route of the group.
pub struct Group<'a> {
    g: NonNull<ffi::IrqrouteGroup>,
    routes: Vec<ManuallyDrop<Route<'a>>>,
    _attachment: PhantomData<&'a Attachment>,
}

// SAFETY: as for Route: the calls on the group's routes may come from any
// thread; the group's pending reads are atomic loads and RMWs.
unsafe impl Send for Group<'_> {}
unsafe impl Sync for Group<'_> {}

impl Attachment {
    /// `n` routes as a group, on new eventfds or on the caller's `triggers`
    /// (`n` of them; the group never closes them).
    pub fn create_group(&self, n: u32, triggers: Option<&[BorrowedFd<'_>]>) -> io::Result<Group<'_>> {
        let fds: Option<Vec<c_int>> = triggers.map(|t| t.iter().map(|f| f.as_raw_fd()).collect());
        if let Some(f) = &fds {
            if f.len() != n as usize {
                return Err(io::Error::from_raw_os_error(22)); // EINVAL
            }
        }
        let mut g = ptr::null_mut();
        let p = fds.as_ref().map_or(ptr::null(), |f| f.as_ptr());
        // SAFETY: p is null or n descriptors; g is written on success.
        check(unsafe { ffi::irqroute_group_create(self.ir.as_ptr(), n, p, &mut g) })?;
        let g = NonNull::new(g).ok_or_else(|| io::Error::from_raw_os_error(libc_errno::EFAULT))?;
        let routes = (0..n)
            .map(|i| {
                // SAFETY: i < n: a live route of the group.
                let r = unsafe { ffi::irqroute_group_route(g.as_ptr(), i) };
                let r = NonNull::new(r).expect("a group has n routes");
                // SAFETY: as above; its eventfd lives as long as it.
                let fd = unsafe { ffi::irqroute_route_event(r.as_ptr()) };
                ManuallyDrop::new(Route::from_parts(r, fd))
            })
            .collect();
        Ok(Group {
            g,
            routes,
            _attachment: PhantomData,
        })
    }
}

impl<'a> Group<'a> {
    /// Vector `vector`'s route (every route call works on it).
    pub fn route(&self, vector: u32) -> Option<&Route<'a>> {
        self.routes.get(vector as usize).map(|r| &**r)
    }

    /// The index of vector 0 (a multiple of 64).
    pub fn base(&self) -> u32 {
        // SAFETY: live group.
        unsafe { ffi::irqroute_group_base(self.g.as_ptr()) }
    }

    /// The number of vectors.
    pub fn len(&self) -> u32 {
        self.routes.len() as u32
    }

    /// Whether the group has no vector (never: a group has at least one).
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// The pending bits of vectors `64 * word ..`, not cleared (a guest's
    /// PBA read).
    pub fn pending(&self, word: u32) -> io::Result<u64> {
        let mut bits = 0;
        // SAFETY: live group.
        check(unsafe { ffi::irqroute_group_pending(self.g.as_ptr(), word, &mut bits) })?;
        Ok(bits)
    }

    /// The same, cleared in one atomic operation.
    pub fn consume_pending(&self, word: u32) -> io::Result<u64> {
        let mut bits = 0;
        // SAFETY: live group; the library's operation is atomic.
        check(unsafe { ffi::irqroute_group_consume_pending(self.g.as_ptr(), word, &mut bits) })?;
        Ok(bits)
    }

    /// A delegation file for a sandboxed device process: it can only
    /// mask, unmask and read or consume the pending bits of the group's
    /// vectors, from any process (`irqroute_group_delegate(3)`).
    pub fn delegate(&self) -> io::Result<Delegation> {
        let mut fd: c_int = -1;
        // SAFETY: live group; fd is written on success.
        check(unsafe { ffi::irqroute_group_delegate(self.g.as_ptr(), &mut fd) })?;
        // SAFETY: a new descriptor, ours.
        Ok(Delegation {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }
}

impl Drop for Group<'_> {
    /// Destroys every route of the group (the routes are views of it).
    fn drop(&mut self) {
        // SAFETY: live group, never used again; the routes are ManuallyDrop.
        unsafe { ffi::irqroute_group_destroy(self.g.as_ptr()) }
    }
}

/// A delegation file, on the device process's side: vectors of one group.
/// Pass its fd with `SCM_RIGHTS`; rebuild it there with
/// [`Delegation::from_fd`].
#[derive(Debug)]
pub struct Delegation {
    fd: OwnedFd,
}

impl Delegation {
    /// A delegation file received from the VMM.
    pub fn from_fd(fd: OwnedFd) -> Delegation {
        Delegation { fd }
    }

    /// Masks vector `vector` of the group.
    pub fn mask(&self, vector: u32) -> io::Result<()> {
        // SAFETY: an ioctl on our descriptor.
        check(unsafe { ffi::irqroute_delegate_mask(self.fd.as_raw_fd(), vector) }).map(|_| ())
    }

    /// Unmasks it; a pending interrupt is delivered.
    pub fn unmask(&self, vector: u32) -> io::Result<()> {
        // SAFETY: an ioctl on our descriptor.
        check(unsafe { ffi::irqroute_delegate_unmask(self.fd.as_raw_fd(), vector) }).map(|_| ())
    }

    /// Reads and clears its pending bit.
    pub fn consume_pending(&self, vector: u32) -> io::Result<bool> {
        // SAFETY: an ioctl on our descriptor.
        check(unsafe { ffi::irqroute_delegate_consume(self.fd.as_raw_fd(), vector) }).map(|v| v != 0)
    }

    /// Reads its pending bit without clearing it.
    pub fn pending(&self, vector: u32) -> io::Result<bool> {
        // SAFETY: an ioctl on our descriptor.
        check(unsafe { ffi::irqroute_delegate_pending(self.fd.as_raw_fd(), vector) }).map(|v| v != 0)
    }
}

impl AsFd for Delegation {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Delegation {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}
