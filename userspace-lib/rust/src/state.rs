//! libirqroute 1.1 on a route: caller-supplied triggers, a pending bit
//! without a signal, hand-over, save and restore, and the base routes.

use std::io;
use std::os::unix::io::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::{self, NonNull};

use crate::{check, ffi, libc_errno, Attachment, Route};

/// A route's state for live migration or a snapshot
/// (`struct irqroute_route_state`, `irqroute_route_save(3)`): plain data
/// to write to a migration stream.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteState {
    size: u32,
    /// `RouteState::MSI`, `DEVID`, `MASKED`, `PENDING`.
    pub flags: u32,
    /// The route's index, restored as it was.
    pub index: u32,
    /// The route's GSI, restored as it was.
    pub gsi: u32,
    /// MSI address, with [`RouteState::MSI`].
    pub address: u64,
    /// MSI data, with [`RouteState::MSI`].
    pub data: u32,
    /// Device id, with [`RouteState::DEVID`].
    pub devid: u32,
}

impl RouteState {
    /// The route has an MSI.
    pub const MSI: u32 = 1 << 0;
    /// ... with a device id.
    pub const DEVID: u32 = 1 << 1;
    /// The route is masked.
    pub const MASKED: u32 = 1 << 2;
    /// An interrupt is pending.
    pub const PENDING: u32 = 1 << 3;
}

impl Default for RouteState {
    fn default() -> Self {
        RouteState {
            size: std::mem::size_of::<RouteState>() as u32,
            flags: 0,
            index: 0,
            gsi: 0,
            address: 0,
            data: 0,
            devid: 0,
        }
    }
}

/// One entry of KVM's routing table (`struct kvm_irq_routing_entry`), for
/// [`Attachment::set_base_routes`]: the VMM's own routes (IOAPIC pins,
/// emulated devices' MSIs), none in the route range.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KvmIrqRoutingEntry {
    /// The GSI.
    pub gsi: u32,
    /// `KVM_IRQ_ROUTING_IRQCHIP` (1) or `KVM_IRQ_ROUTING_MSI` (2).
    pub kind: u32,
    /// `KVM_MSI_VALID_DEVID` or 0.
    pub flags: u32,
    /// Zero.
    pub pad: u32,
    /// The union: irqchip `[irqchip, pin]`, or MSI
    /// `[address_lo, address_hi, data, devid]`; the rest zero.
    pub u: [u32; 8],
}

fn new_route<'a>(r: *mut ffi::IrqrouteRoute) -> io::Result<Route<'a>> {
    let r = NonNull::new(r).ok_or_else(|| io::Error::from_raw_os_error(libc_errno::EFAULT))?;
    // SAFETY: r is a live route; its eventfd lives as long as it.
    let fd = unsafe { ffi::irqroute_route_event(r.as_ptr()) };
    Ok(Route::from_parts(r, fd))
}

impl Attachment {
    /// A route on the caller's eventfd `trigger` (one a VMM preserved or
    /// made elsewhere); the route never closes it (`irqroute_route_create_fd`).
    /// `EBUSY` if the eventfd already has a consumer.
    pub fn create_route_fd(&self, trigger: BorrowedFd<'_>) -> io::Result<Route<'_>> {
        let mut r = ptr::null_mut();
        // SAFETY: live attachment; r is written on success.
        check(unsafe {
            ffi::irqroute_route_create_fd(self.ir.as_ptr(), trigger.as_raw_fd(), 0, &mut r)
        })?;
        new_route(r)
    }

    /// Makes a route with a saved state, at its saved index and GSI, on
    /// `trigger` or a new eventfd (`irqroute_route_restore`): masked and
    /// pending as saved, its MSI set last.
    pub fn restore_route(
        &self,
        st: &RouteState,
        trigger: Option<BorrowedFd<'_>>,
    ) -> io::Result<Route<'_>> {
        let mut r = ptr::null_mut();
        let fd = trigger.map_or(-1, |t| t.as_raw_fd());
        // SAFETY: st is a valid state; r is written on success.
        check(unsafe { ffi::irqroute_route_restore(self.ir.as_ptr(), st, fd, &mut r) })?;
        new_route(r)
    }

    /// Replaces the VMM's own routes and commits the table
    /// (`irqroute_set_base_routes`).
    pub fn set_base_routes(&self, entries: &[KvmIrqRoutingEntry]) -> io::Result<()> {
        // SAFETY: entries is a valid slice of the C struct's layout.
        check(unsafe {
            ffi::irqroute_set_base_routes(self.ir.as_ptr(), entries.as_ptr(), entries.len() as u32)
        })
        .map(|_| ())
    }
}

impl Route<'_> {
    /// Sets the pending bit without a signal; an unmasked route with an
    /// MSI delivers it at once (`irqroute_set_pending`).
    pub fn set_pending(&self) -> io::Result<()> {
        // SAFETY: self.r is a live route.
        check(unsafe { ffi::irqroute_set_pending(self.r.as_ptr()) }).map(|_| ())
    }

    /// Reads the route's MSI, mask and pending bits (`irqroute_route_save`).
    pub fn save(&self) -> io::Result<RouteState> {
        let mut st = RouteState::default();
        // SAFETY: self.r is a live route; st is sized.
        check(unsafe { ffi::irqroute_route_save(self.r.as_ptr(), &mut st) })?;
        Ok(st)
    }

    /// Destroys the route, handing a pending interrupt back to its trigger
    /// eventfd, and returns that eventfd, now the caller's
    /// (`irqroute_route_handover`): a route made on it later starts
    /// pending. On error the route is given back.
    pub fn handover(self) -> Result<OwnedFd, (Self, io::Error)> {
        // SAFETY: self.r is a live route.
        let ret = unsafe { ffi::irqroute_route_handover(self.r.as_ptr()) };
        if ret < 0 {
            return Err((self, io::Error::from_raw_os_error(-ret)));
        }
        // The library freed the handle: do not destroy it again.
        std::mem::forget(self);
        // SAFETY: the library hands the eventfd over to us.
        Ok(unsafe { OwnedFd::from_raw_fd(ret) })
    }
}
