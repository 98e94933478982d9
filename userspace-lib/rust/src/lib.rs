// SPDX-License-Identifier: (GPL-2.0 OR MIT)

//! Safe Rust routes over libirqroute: MSIs into KVM guests through
//! per-route gates on trigger eventfds (the irqroute kernel module,
//! `/dev/irqroute`).
//!
//! A VMM attaches once per KVM VM ([`Attachment::attach`]), then creates one
//! [`Route`] per interrupt source (an MSI-X vector of a VFIO device, say).
//! Each route has a GSI and a trigger eventfd ([`IrqFdRoute::event`]) to
//! hand to VFIO; a signal on it injects the route's MSI into the guest
//! unless the route is masked, in which case it sets the route's pending
//! bit. Mask, unmask and [`IrqFdRoute::consume_pending`] are atomic
//! operations on a page shared with the kernel: no system call unless an
//! unmask finds the pending bit set.
//!
//! # Why this crate wraps libirqroute instead of speaking the uapi
//!
//! The shared-page protocol (which bit a route owns, which memory orderings
//! mask, unmask and consume_pending need against the kernel's gate, when an
//! unmask must make the system call) has one implementation: the C library.
//! That library is the one whose ABI is checked (its symbol map and the ABI
//! check of `make lib-check`) and the one the VM tests run against real
//! KVM guests on every kernel of the matrix. A second implementation in
//! Rust would be a second place for an ordering bug to hide. The crate adds
//! only what Rust can check: lifetimes (a route cannot outlive its
//! attachment), `Drop` (a dropped route frees its GSI; a dropped attachment
//! detaches) and `std::io::Error` for the library's negative errnos.
//!
//! The crate has no dependencies but `std`, and links the static
//! `libirqroute.a` (`make lib`; `build.rs` reads `IRQROUTE_LIB_DIR`).
//!
//! # Example
//!
//! ```no_run
//! use std::os::unix::io::{AsRawFd, BorrowedFd};
//! use irqroute::{Attachment, IrqFdRoute};
//!
//! # fn vm_fd() -> std::os::unix::io::RawFd { unimplemented!() }
//! // After KVM_CREATE_VM and KVM_CREATE_IRQCHIP:
//! let vm = unsafe { BorrowedFd::borrow_raw(vm_fd()) };
//! let att = Attachment::attach(vm, None)?;
//! let route = att.create_route()?;
//! route.set_msi(0xfee0_0000, 0x30)?;     // APIC ID 0, vector 0x30
//! let trigger = route.event().as_raw_fd(); // hand to VFIO_DEVICE_SET_IRQS
//! # let _ = trigger;
//! route.mask()?;                           // guest masked the vector
//! let pending = route.consume_pending();   // into the MSI-X PBA
//! # let _ = pending;
//! route.unmask()?;
//! # Ok::<(), std::io::Error>(())
//! ```

#![deny(missing_docs)]

use std::ffi::CStr;
use std::io;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int};
use std::os::unix::io::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::ptr::{self, NonNull};
use std::sync::Arc;

/// The raw C interface of `userspace-lib/include/irqroute.h` (the part the
/// crate uses). Each `int` function returns 0 or a negative errno.
mod ffi {
    use std::os::raw::{c_char, c_int};

    #[repr(C)]
    pub struct Irqroute {
        _opaque: [u8; 0],
    }

    #[repr(C)]
    pub struct IrqrouteRoute {
        _opaque: [u8; 0],
    }

    extern "C" {
        pub fn irqroute_attach(
            vm_fd: c_int,
            opts: *const super::Options,
            out: *mut *mut Irqroute,
        ) -> c_int;
        pub fn irqroute_detach(ir: *mut Irqroute);
        pub fn irqroute_route_create(ir: *mut Irqroute, out: *mut *mut IrqrouteRoute) -> c_int;
        pub fn irqroute_route_destroy(r: *mut IrqrouteRoute);
        pub fn irqroute_route_event(r: *const IrqrouteRoute) -> c_int;
        pub fn irqroute_route_gsi(r: *const IrqrouteRoute) -> u32;
        pub fn irqroute_route_index(r: *const IrqrouteRoute) -> u32;
        pub fn irqroute_set_msi(r: *mut IrqrouteRoute, address: u64, data: u32) -> c_int;
        pub fn irqroute_clear_msi(r: *mut IrqrouteRoute) -> c_int;
        pub fn irqroute_mask(r: *mut IrqrouteRoute) -> c_int;
        pub fn irqroute_unmask(r: *mut IrqrouteRoute) -> c_int;
        pub fn irqroute_consume_pending(r: *mut IrqrouteRoute) -> bool;
        pub fn irqroute_pending(r: *const IrqrouteRoute) -> bool;
        pub fn irqroute_fd(ir: *const Irqroute) -> c_int;
        pub fn irqroute_version() -> *const c_char;
    }

    // Since libirqroute 1.1.
    #[repr(C)]
    pub struct IrqrouteGroup {
        _opaque: [u8; 0],
    }

    extern "C" {
        pub fn irqroute_route_create_fd(
            ir: *mut Irqroute,
            trigger_fd: c_int,
            flags: u32,
            out: *mut *mut IrqrouteRoute,
        ) -> c_int;
        pub fn irqroute_route_handover(r: *mut IrqrouteRoute) -> c_int;
        pub fn irqroute_set_pending(r: *mut IrqrouteRoute) -> c_int;
        pub fn irqroute_route_save(r: *const IrqrouteRoute, st: *mut super::RouteState) -> c_int;
        pub fn irqroute_route_restore(
            ir: *mut Irqroute,
            st: *const super::RouteState,
            trigger_fd: c_int,
            out: *mut *mut IrqrouteRoute,
        ) -> c_int;
        pub fn irqroute_set_base_routes(
            ir: *mut Irqroute,
            e: *const super::KvmIrqRoutingEntry,
            n: u32,
        ) -> c_int;
        pub fn irqroute_group_create(
            ir: *mut Irqroute,
            n: u32,
            trigger_fds: *const c_int,
            out: *mut *mut IrqrouteGroup,
        ) -> c_int;
        pub fn irqroute_group_destroy(g: *mut IrqrouteGroup);
        pub fn irqroute_group_route(g: *const IrqrouteGroup, vector: u32) -> *mut IrqrouteRoute;
        pub fn irqroute_group_base(g: *const IrqrouteGroup) -> u32;
        pub fn irqroute_group_pending(g: *const IrqrouteGroup, word: u32, pending: *mut u64) -> c_int;
        pub fn irqroute_group_consume_pending(
            g: *mut IrqrouteGroup,
            word: u32,
            pending: *mut u64,
        ) -> c_int;
        pub fn irqroute_group_delegate(g: *mut IrqrouteGroup, fd: *mut c_int) -> c_int;
        pub fn irqroute_delegate_mask(fd: c_int, vector: u32) -> c_int;
        pub fn irqroute_delegate_unmask(fd: c_int, vector: u32) -> c_int;
        pub fn irqroute_delegate_consume(fd: c_int, vector: u32) -> c_int;
        pub fn irqroute_delegate_pending(fd: c_int, vector: u32) -> c_int;
    }
}

mod group;
mod state;

pub use group::{Delegation, Group};
pub use state::{KvmIrqRoutingEntry, RouteState};

/// Maps a libirqroute return value (0 or a negative errno) to a result.
///
/// `-EBUSY` becomes an [`io::Error`] whose `raw_os_error()` is `EBUSY`.
/// A positive value is not an error (returned as is).
pub fn check(ret: c_int) -> io::Result<c_int> {
    if ret < 0 {
        Err(io::Error::from_raw_os_error(-ret))
    } else {
        Ok(ret)
    }
}

/// Options of an attachment: the route range (`struct irqroute_opts`).
///
/// `Options::default()` is the library's default: 1024 routes from GSI
/// 1024, no flags (what `irqroute_attach()` does with `opts == NULL`).
/// Build others from it, so that the reserved words stay zero:
/// `Options { gsi_base: 24, nr_routes: 256, ..Options::default() }`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// First GSI of the route range.
    pub gsi_base: u32,
    /// Routes in the range.
    pub nr_routes: u32,
    /// `IRQROUTE_F_*` flags, e.g. [`Options::X86_DEFAULT_ROUTES`].
    pub flags: u32,
    // The header's __reserved[5]: flag-gated fields of later versions;
    // the whole struct is passed so that a library reading one finds 0.
    reserved: [u32; 5],
}

impl Options {
    /// Seed the base routes with KVM's x86 defaults (GSI 0-23 to the
    /// PIC/IOAPIC pins): `IRQROUTE_F_X86_DEFAULT_ROUTES`.
    pub const X86_DEFAULT_ROUTES: u32 = 1 << 0;
}

impl Default for Options {
    fn default() -> Self {
        Options {
            gsi_base: 1024,
            nr_routes: 1024,
            flags: 0,
            reserved: [0; 5],
        }
    }
}

/// One attachment of `/dev/irqroute` to one KVM VM.
///
/// From [`Attachment::attach`] on, the module owns the VM's GSI routing
/// table: the VMM must not call `KVM_SET_GSI_ROUTING` itself. A VM has at
/// most one attachment (a second gets `EBUSY`). Dropping it detaches; the
/// routes borrow it, so they are all dropped first.
///
/// An attachment belongs to the process that made it: after `fork()` the
/// child's calls fail with `EPERM`.
pub struct Attachment {
    ir: NonNull<ffi::Irqroute>,
}

// SAFETY: libirqroute allows irqroute_route_create() and
// irqroute_route_destroy() to run concurrently on one attachment (its
// lock), and every other call used here only reads immutable fields.
unsafe impl Send for Attachment {}
unsafe impl Sync for Attachment {}

impl Attachment {
    /// Attaches to the KVM VM `vm_fd` (after `KVM_CREATE_IRQCHIP`), with
    /// `opts` or the library's defaults (`None`).
    ///
    /// Errors, as `raw_os_error()`: `ENOENT` without `/dev/irqroute` (the
    /// module not loaded), `EBADF` when `vm_fd` is not open, `EBADFD` when it is not a KVM VM,
    /// `EBUSY` when the VM already has an attachment, and the other errnos
    /// of `irqroute_attach(3)`.
    pub fn attach(vm_fd: BorrowedFd<'_>, opts: Option<&Options>) -> io::Result<Attachment> {
        let mut ir: *mut ffi::Irqroute = ptr::null_mut();
        let o = opts.map_or(ptr::null(), |o| o as *const Options);
        // SAFETY: o is null or a valid Options; ir is written on success.
        check(unsafe { ffi::irqroute_attach(vm_fd.as_raw_fd(), o, &mut ir) })?;
        match NonNull::new(ir) {
            Some(ir) => Ok(Attachment { ir }),
            None => Err(io::Error::from_raw_os_error(libc_errno::EFAULT)),
        }
    }

    /// Creates a route: a new GSI of the range and a new trigger eventfd;
    /// unmasked, not pending, no MSI (signals set the pending bit until
    /// [`IrqFdRoute::set_msi`]). `ENOSPC` when the range is full.
    pub fn create_route(&self) -> io::Result<Route<'_>> {
        let mut r: *mut ffi::IrqrouteRoute = ptr::null_mut();
        // SAFETY: self.ir is a live attachment; r is written on success.
        check(unsafe { ffi::irqroute_route_create(self.ir.as_ptr(), &mut r) })?;
        let r = match NonNull::new(r) {
            Some(r) => r,
            None => return Err(io::Error::from_raw_os_error(libc_errno::EFAULT)),
        };
        // SAFETY: r is a live route; its eventfd lives as long as it.
        let fd = unsafe { ffi::irqroute_route_event(r.as_ptr()) };
        Ok(Route {
            r,
            event: Event { fd },
            _attachment: PhantomData,
        })
    }
}

impl AsRawFd for Attachment {
    /// The `/dev/irqroute` file descriptor (owned by the attachment).
    fn as_raw_fd(&self) -> RawFd {
        // SAFETY: self.ir is a live attachment.
        unsafe { ffi::irqroute_fd(self.ir.as_ptr()) }
    }
}

impl AsFd for Attachment {
    /// The `/dev/irqroute` file descriptor, borrowed from the attachment.
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd stays open until the attachment is dropped.
        unsafe { BorrowedFd::borrow_raw(self.as_raw_fd()) }
    }
}

impl Drop for Attachment {
    /// Detaches (`irqroute_detach`): the VM's routing table goes back to
    /// the VMM. Every route is gone by then (they borrow the attachment).
    fn drop(&mut self) {
        // SAFETY: no route is left (lifetimes), the pointer is not reused.
        unsafe { ffi::irqroute_detach(self.ir.as_ptr()) }
    }
}

/// The trigger eventfd of a route, borrowed from it: hand its fd to VFIO
/// (`VFIO_DEVICE_SET_IRQS`) or any other interrupt source. The route owns
/// and closes it; do not close it.
#[derive(Debug)]
pub struct Event {
    fd: RawFd,
}

impl Event {
    /// Signals the eventfd (adds 1 to its counter), as a device would:
    /// delivers the route's MSI, or sets its pending bit when masked.
    pub fn signal(&self) -> io::Result<()> {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to an fd we borrow.
        let n = unsafe { sys::write(self.fd, &one as *const u64 as *const _, 8) };
        if n == 8 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

impl AsRawFd for Event {
    /// The eventfd's number (owned by the route).
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl AsFd for Event {
    /// The eventfd, borrowed for as long as the route lives.
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the route keeps the fd open while `self` is borrowed.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}

/// A handle to a registered irqfd route (the seed's trait).
///
/// Each route represents a single GSI with an associated event. When the
/// event is signaled (e.g. by VFIO on a device interrupt), the kernel
/// injects the MSI configured via [`set_msi`](IrqFdRoute::set_msi) into the
/// guest. Dropping the handle unregisters the irqfd and frees the GSI.
pub trait IrqFdRoute: Send + Sync {
    /// Returns the event that triggers interrupt injection when signaled.
    fn event(&self) -> &Event;
    /// Sets the MSI routing for this irqfd's GSI: `address` and `data` are
    /// the x86 MSI address and data the kernel injects. An edge left
    /// pending is delivered now if the route is unmasked.
    fn set_msi(&self, address: u64, data: u32) -> io::Result<()>;
    /// Clears the MSI routing for this irqfd's GSI: the irqfd stays
    /// registered, signals set the pending bit until the next `set_msi`.
    fn clear_msi(&self) -> io::Result<()>;
    /// Masks the route: signals set its pending bit instead of being
    /// injected. No system call.
    fn mask(&self) -> io::Result<()>;
    /// Unmasks the route and re-enables injection; a pending edge is
    /// delivered (the only case that makes a system call).
    fn unmask(&self) -> io::Result<()>;
    /// Reads and clears the pending bit atomically and returns whether an
    /// interrupt was pending; store it in the MSI-X PBA. No system call.
    fn consume_pending(&self) -> bool;
}

/// One route of an [`Attachment`]: a GSI and its trigger eventfd.
///
/// It borrows the attachment, so it cannot outlive it. Dropping it calls
/// `irqroute_route_destroy`: the irqfd is unregistered, the GSI freed (the
/// next route created may get it back), the eventfd closed.
pub struct Route<'a> {
    r: NonNull<ffi::IrqrouteRoute>,
    event: Event,
    _attachment: PhantomData<&'a Attachment>,
}

// SAFETY: libirqroute allows the calls on a route from any thread, and
// mask, unmask and consume_pending concurrently with each other (atomic
// operations on the shared page); set_msi and clear_msi are ioctls that
// the kernel serializes. Destroy needs `&mut` (Drop), so never races.
unsafe impl Send for Route<'_> {}
unsafe impl Sync for Route<'_> {}

impl Route<'_> {
    /// A route handle over `r`, whose trigger eventfd is `fd`.
    fn from_parts(r: NonNull<ffi::IrqrouteRoute>, fd: RawFd) -> Self {
        Route {
            r,
            event: Event { fd },
            _attachment: PhantomData,
        }
    }

    /// The route's GSI (in the attachment's range).
    pub fn gsi(&self) -> u32 {
        // SAFETY: self.r is a live route.
        unsafe { ffi::irqroute_route_gsi(self.r.as_ptr()) }
    }

    /// The route's index: its bit in the shared mask and pending bitmaps.
    pub fn index(&self) -> u32 {
        // SAFETY: self.r is a live route.
        unsafe { ffi::irqroute_route_index(self.r.as_ptr()) }
    }

    /// Reads the pending bit without clearing it (like a guest's PBA read).
    pub fn pending(&self) -> bool {
        // SAFETY: self.r is a live route.
        unsafe { ffi::irqroute_pending(self.r.as_ptr()) }
    }
}

impl IrqFdRoute for Route<'_> {
    fn event(&self) -> &Event {
        &self.event
    }

    fn set_msi(&self, address: u64, data: u32) -> io::Result<()> {
        // SAFETY: self.r is a live route.
        check(unsafe { ffi::irqroute_set_msi(self.r.as_ptr(), address, data) }).map(|_| ())
    }

    fn clear_msi(&self) -> io::Result<()> {
        // SAFETY: self.r is a live route.
        check(unsafe { ffi::irqroute_clear_msi(self.r.as_ptr()) }).map(|_| ())
    }

    fn mask(&self) -> io::Result<()> {
        // SAFETY: self.r is a live route.
        check(unsafe { ffi::irqroute_mask(self.r.as_ptr()) }).map(|_| ())
    }

    fn unmask(&self) -> io::Result<()> {
        // SAFETY: self.r is a live route.
        check(unsafe { ffi::irqroute_unmask(self.r.as_ptr()) }).map(|_| ())
    }

    fn consume_pending(&self) -> bool {
        // SAFETY: self.r is a live route.
        unsafe { ffi::irqroute_consume_pending(self.r.as_ptr()) }
    }
}

impl Drop for Route<'_> {
    /// Unregisters the irqfd, frees the GSI, closes the eventfd.
    fn drop(&mut self) {
        // SAFETY: self.r is live and never used again.
        unsafe { ffi::irqroute_route_destroy(self.r.as_ptr()) }
    }
}

/// A route that owns a share of its attachment (`'static`), for a VMM that
/// keeps its routes as `Box<dyn IrqFdRoute>` or `Arc<dyn IrqFdRoute>` (the
/// Rust VMMs do). The attachment is detached when the last `Arc` and the
/// last owned route are gone.
pub struct OwnedRoute {
    // Declared first: dropped (destroyed) before the attachment.
    route: Route<'static>,
    _attachment: Arc<Attachment>,
}

impl OwnedRoute {
    /// Creates a route of `attachment`, as [`Attachment::create_route`].
    pub fn create(attachment: &Arc<Attachment>) -> io::Result<OwnedRoute> {
        let route = attachment.create_route()?;
        // SAFETY: the route borrows the attachment; the Arc kept next to it
        // keeps the attachment alive, and field order drops the route first.
        let route: Route<'static> = unsafe { std::mem::transmute(route) };
        Ok(OwnedRoute {
            route,
            _attachment: Arc::clone(attachment),
        })
    }

    /// The route itself, for [`Route::gsi`], [`Route::index`] and
    /// [`Route::pending`].
    pub fn route(&self) -> &Route<'static> {
        &self.route
    }
}

impl IrqFdRoute for OwnedRoute {
    fn event(&self) -> &Event {
        self.route.event()
    }

    fn set_msi(&self, address: u64, data: u32) -> io::Result<()> {
        self.route.set_msi(address, data)
    }

    fn clear_msi(&self) -> io::Result<()> {
        self.route.clear_msi()
    }

    fn mask(&self) -> io::Result<()> {
        self.route.mask()
    }

    fn unmask(&self) -> io::Result<()> {
        self.route.unmask()
    }

    fn consume_pending(&self) -> bool {
        self.route.consume_pending()
    }
}

/// The version of the linked libirqroute, `"MAJOR.MINOR.PATCH"`.
pub fn version() -> &'static str {
    // SAFETY: the library returns a static NUL-terminated string.
    let s = unsafe { CStr::from_ptr(ffi::irqroute_version() as *const c_char) };
    s.to_str().unwrap_or("?")
}

/// The few errno values the crate produces itself (std has no libc).
mod libc_errno {
    pub const EFAULT: i32 = 14;
}

mod sys {
    use std::os::raw::{c_int, c_void};
    extern "C" {
        pub fn write(fd: c_int, buf: *const c_void, n: usize) -> isize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::path::Path;

    const EBUSY: i32 = 16;
    const ENOENT: i32 = 2;
    const EBADFD: i32 = 77;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn types_are_send_and_sync() {
        assert_send_sync::<Attachment>();
        assert_send_sync::<Route<'static>>();
        // The seed's bound, on the trait object too.
        assert_send_sync::<Box<dyn IrqFdRoute>>();
    }

    #[test]
    fn owned_route_is_static() {
        fn static_route<T: IrqFdRoute + 'static>() {}
        static_route::<OwnedRoute>();
        assert_send_sync::<OwnedRoute>();
        let _boxed: Option<Box<dyn IrqFdRoute>> = None::<Box<OwnedRoute>>.map(|b| b as _);
    }

    #[test]
    fn negative_errno_maps_to_io_error() {
        let e = check(-EBUSY).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(EBUSY));
        let e = check(-ENOENT).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert_eq!(check(0).unwrap(), 0);
        assert_eq!(check(7).unwrap(), 7);
    }

    #[test]
    fn options_match_the_c_struct() {
        // struct irqroute_opts: three u32 and __reserved[5].
        assert_eq!(std::mem::size_of::<Options>(), 32);
        let d = Options::default();
        assert_eq!((d.gsi_base, d.nr_routes, d.flags), (1024, 1024, 0));
        assert_eq!(Options::X86_DEFAULT_ROUTES, 1);
    }

    #[test]
    fn version_is_the_projects() {
        let want = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../VERSION"),
        )
        .unwrap();
        assert_eq!(version(), want.trim());
    }

    // Without the module (host tests) /dev/irqroute is missing: ENOENT.
    // With it, a file that is not a KVM VM is refused; either way attach
    // fails and says why.
    #[test]
    fn attach_to_a_non_kvm_fd_fails() {
        let f = File::open("/dev/null").unwrap();
        let err = match Attachment::attach(f.as_fd(), None) {
            Ok(_) => panic!("attached to /dev/null"),
            Err(e) => e,
        };
        let code = err.raw_os_error().unwrap();
        if Path::new("/dev/irqroute").exists() {
            // What selftests/attach_test.c's bad_vm_fd.dev_null expects.
            assert_eq!(code, EBADFD, "attach(/dev/null): {}", err);
        } else {
            assert_eq!(code, ENOENT, "attach without /dev/irqroute: {}", err);
        }
    }

    #[test]
    fn attach_without_the_module_is_enoent() {
        if Path::new("/dev/irqroute").exists() {
            return; // the module is loaded here: the VM test covers it
        }
        let f = File::open("/dev/null").unwrap();
        let err = Attachment::attach(f.as_fd(), Some(&Options::default())).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
