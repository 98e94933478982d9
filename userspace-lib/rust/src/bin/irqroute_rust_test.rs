// SPDX-License-Identifier: (GPL-2.0 OR MIT)

//! The crate against a real KVM guest, run in the test VM (its binary is
//! listed in the selftests' TESTS, its cases in selftests/CASES). Prints
//! kselftest-style TAP.
//!
//! The L2 guest is one vCPU in real mode with its local APIC in x2APIC
//! mode. Its interrupt vector table sends every vector from 0x20 to a
//! handler that writes the vector number to port 0x10 (a KVM_EXIT_IO that
//! the vCPU thread records), writes the x2APIC EOI and returns; exceptions
//! (vectors below 0x20) go to port 0x12. The guest outs to port 0x13 once
//! its APIC is enabled, and to port 0x11 from the stop vector. So a
//! recorded vector is an interrupt the guest really took.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::raw::{c_int, c_ulong, c_void};
use std::os::unix::io::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

use std::sync::Arc;

use irqroute::{Attachment, Delegation, IrqFdRoute, OwnedRoute, RouteState};

extern "C" {
    fn ioctl(fd: c_int, req: c_ulong, ...) -> c_int;
    fn mmap(addr: *mut c_void, len: usize, prot: c_int, flags: c_int, fd: c_int, off: i64)
        -> *mut c_void;
    fn dup(fd: c_int) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn write(fd: c_int, buf: *const c_void, n: usize) -> isize;
}

const PROT_READ: c_int = 1;
const PROT_WRITE: c_int = 2;
const MAP_SHARED: c_int = 1;
const MAP_PRIVATE: c_int = 2;
const MAP_ANONYMOUS: c_int = 0x20;
const EINTR: i32 = 4;
const F_GETFD: c_int = 1;
const EBUSY: i32 = 16;
const E2BIG: i32 = 7;

// _IOC of asm-generic/ioctl.h.
const fn ioc(dir: u64, nr: u64, size: u64) -> c_ulong {
    ((dir << 30) | (size << 16) | (0xae << 8) | nr) as c_ulong
}
const fn io_(nr: u64) -> c_ulong {
    ioc(0, nr, 0)
}
const fn iow(nr: u64, size: u64) -> c_ulong {
    ioc(1, nr, size)
}
const fn ior(nr: u64, size: u64) -> c_ulong {
    ioc(2, nr, size)
}
const fn iowr(nr: u64, size: u64) -> c_ulong {
    ioc(3, nr, size)
}

const KVM_CREATE_VM: c_ulong = io_(0x01);
const KVM_GET_VCPU_MMAP_SIZE: c_ulong = io_(0x04);
const KVM_GET_SUPPORTED_CPUID: c_ulong = iowr(0x05, 8);
const KVM_CREATE_VCPU: c_ulong = io_(0x41);
const KVM_SET_USER_MEMORY_REGION: c_ulong = iow(0x46, 32);
const KVM_CREATE_IRQCHIP: c_ulong = io_(0x60);
const KVM_RUN: c_ulong = io_(0x80);
const KVM_SET_REGS: c_ulong = iow(0x82, 144);
const KVM_GET_SREGS: c_ulong = ior(0x83, 312);
const KVM_SET_SREGS: c_ulong = iow(0x84, 312);
const KVM_SET_MSRS: c_ulong = iow(0x89, 8);
const KVM_SET_CPUID2: c_ulong = iow(0x90, 8);

const KVM_EXIT_IO: u32 = 2;

const MEM_SIZE: usize = 0x10000;
const CODE: usize = 0x1000;
const HANDLERS: usize = 0x2000;
const HANDLER_SIZE: usize = 0x20;
const STACK_TOP: u64 = 0x8000;

const PORT_IRQ: u16 = 0x10;
const PORT_STOP: u16 = 0x11;
const PORT_FAULT: u16 = 0x12;
const PORT_READY: u16 = 0x13;

const MSI_ADDR: u64 = 0xfee0_0000; // APIC ID 0, physical
const VEC_DELIVERY: u8 = 0x40;
const VEC_MASK: u8 = 0x41;
const VEC_DROP: u8 = 0x42;
const VEC_REUSE: u8 = 0x43;
const VEC_CLEAR: u8 = 0x44;
const VEC_OWNED: u8 = 0x45;
const VEC_SAVED: u8 = 0x46;
const VEC_GROUP: u8 = 0x48; // vectors 0x48..0x4a for the group's three
const VEC_STOP: u8 = 0x60;

// Nested KVM under TCG is slow: generous for a delivery, and how long to
// watch for an interrupt that must not come.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(1500);

fn err(what: &str) -> String {
    format!("{}: {}", what, io::Error::last_os_error())
}

fn kvm_ioctl(fd: RawFd, req: c_ulong, arg: *mut c_void, what: &str) -> Result<c_int, String> {
    // SAFETY: arg points at a buffer of the size `req` encodes (or is
    // the integer argument of an _IO ioctl).
    let r = unsafe { ioctl(fd, req, arg) };
    if r < 0 {
        Err(err(what))
    } else {
        Ok(r)
    }
}

/// What the vCPU thread saw (the payloads are printed with {:?}).
#[allow(dead_code)]
#[derive(Debug)]
enum Ev {
    Ready,
    Irq(u8),
    Stop,
    Fault(u8),
    Exit(String),
}

struct Guest {
    _kvm: File,
    vm: File,
    rx: Receiver<Ev>,
    thread: Option<thread::JoinHandle<()>>,
}

/// The guest's memory image: IVT, main code, handlers.
fn guest_image(mem: &mut [u8]) {
    let code: [u8; 27] = [
        0x66, 0xb9, 0x0f, 0x08, 0x00, 0x00, // mov ecx, 0x80f (x2APIC SVR)
        0x66, 0xb8, 0xff, 0x01, 0x00, 0x00, // mov eax, 0x1ff (enabled)
        0x66, 0x31, 0xd2, // xor edx, edx
        0x0f, 0x30, // wrmsr
        0xb0, 0x01, 0xe6, PORT_READY as u8, // out PORT_READY, 1
        0xfb, // sti
        0xf4, // hlt
        0xeb, 0xfd, // jmp hlt
        0x90, 0x90,
    ];
    mem[CODE..CODE + code.len()].copy_from_slice(&code);
    for v in 0..=255usize {
        let h = HANDLERS + v * HANDLER_SIZE;
        // IVT entry: offset, segment 0.
        mem[v * 4] = (h & 0xff) as u8;
        mem[v * 4 + 1] = (h >> 8) as u8;
        mem[v * 4 + 2] = 0;
        mem[v * 4 + 3] = 0;
        let body: Vec<u8> = if v < 0x20 {
            // An exception: report it and stop.
            vec![0xb0, v as u8, 0xe6, PORT_FAULT as u8, 0xfa, 0xf4, 0xeb, 0xfd]
        } else {
            let port = if v == VEC_STOP as usize { PORT_STOP } else { PORT_IRQ };
            vec![
                0xb0, v as u8, 0xe6, port as u8, // out port, vector
                0x66, 0xb9, 0x0b, 0x08, 0x00, 0x00, // mov ecx, 0x80b (EOI)
                0x66, 0x31, 0xc0, // xor eax, eax
                0x66, 0x31, 0xd2, // xor edx, edx
                0x0f, 0x30, // wrmsr
                0xcf, // iret
            ]
        };
        mem[h..h + body.len()].copy_from_slice(&body);
    }
}

struct RunPtr(*mut u8);
// SAFETY: the kvm_run page is used by the vCPU thread alone.
unsafe impl Send for RunPtr {}

fn vcpu_loop(vcpu: File, run: RunPtr, tx: Sender<Ev>) {
    let run = run.0;
    loop {
        // SAFETY: KVM_RUN takes no argument.
        let r = unsafe { ioctl(vcpu.as_raw_fd(), KVM_RUN, 0 as c_ulong) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(EINTR) {
                continue;
            }
            let _ = tx.send(Ev::Exit(format!("KVM_RUN: {}", e)));
            return;
        }
        // SAFETY: kvm_run layout: exit_reason at 8, io at 32 (direction,
        // size, port u16, count u32, data_offset u64).
        let (reason, dir, port, data) = unsafe {
            let reason = *(run.add(8) as *const u32);
            let dir = *run.add(32);
            let port = *(run.add(34) as *const u16);
            let off = *(run.add(40) as *const u64) as usize;
            (reason, dir, port, *run.add(off))
        };
        if reason != KVM_EXIT_IO || dir != 1 {
            let _ = tx.send(Ev::Exit(format!("exit reason {}", reason)));
            return;
        }
        let ev = match port {
            PORT_IRQ => Ev::Irq(data),
            PORT_READY => Ev::Ready,
            PORT_STOP => Ev::Stop,
            PORT_FAULT => Ev::Fault(data),
            _ => Ev::Exit(format!("out to port {:#x}", port)),
        };
        let last = matches!(ev, Ev::Stop | Ev::Fault(_) | Ev::Exit(_));
        if tx.send(ev).is_err() || last {
            return;
        }
    }
}

fn setup_cpuid(kvm: &File, vcpu: &File) -> Result<(), String> {
    let mut nent = 64usize;
    loop {
        // kvm_cpuid2: nent, padding, then 40-byte entries.
        let mut buf = vec![0u32; 2 + nent * 10];
        buf[0] = nent as u32;
        // SAFETY: buf holds the header and nent entries.
        let r = unsafe { ioctl(kvm.as_raw_fd(), KVM_GET_SUPPORTED_CPUID, buf.as_mut_ptr()) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(E2BIG) && nent < 4096 {
                nent *= 2;
                continue;
            }
            return Err(format!("KVM_GET_SUPPORTED_CPUID: {}", e));
        }
        // x2APIC is CPUID.1:ECX bit 21 (entry: function, index, flags,
        // eax, ebx, ecx, edx); KVM emulates it, so it is there.
        let n = buf[0] as usize;
        let x2apic = (0..n).any(|i| buf[2 + i * 10] == 1 && buf[2 + i * 10 + 5] & (1 << 21) != 0);
        if !x2apic {
            return Err("KVM_GET_SUPPORTED_CPUID: no x2APIC".into());
        }
        kvm_ioctl(vcpu.as_raw_fd(), KVM_SET_CPUID2, buf.as_mut_ptr() as *mut c_void,
                  "KVM_SET_CPUID2")?;
        return Ok(());
    }
}

impl Guest {
    fn start() -> Result<Guest, String> {
        let kvm = OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .map_err(|e| format!("/dev/kvm: {}", e))?;
        let vm_fd = kvm_ioctl(kvm.as_raw_fd(), KVM_CREATE_VM, std::ptr::null_mut(), "KVM_CREATE_VM")?;
        // SAFETY: a new fd that we own.
        let vm = unsafe { File::from_raw_fd(vm_fd) };
        kvm_ioctl(vm.as_raw_fd(), KVM_CREATE_IRQCHIP, std::ptr::null_mut(), "KVM_CREATE_IRQCHIP")?;

        // SAFETY: a new anonymous mapping, never unmapped (the guest's
        // memory for the life of the process).
        let mem = unsafe {
            mmap(std::ptr::null_mut(), MEM_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        };
        if mem as isize == -1 {
            return Err(err("mmap guest memory"));
        }
        // SAFETY: MEM_SIZE bytes just mapped.
        guest_image(unsafe { std::slice::from_raw_parts_mut(mem as *mut u8, MEM_SIZE) });
        // kvm_userspace_memory_region: slot, flags, gpa, size, uaddr.
        let mut region: [u64; 4] = [0, 0, MEM_SIZE as u64, mem as u64];
        kvm_ioctl(vm.as_raw_fd(), KVM_SET_USER_MEMORY_REGION, region.as_mut_ptr() as *mut c_void,
                  "KVM_SET_USER_MEMORY_REGION")?;

        let vcpu_fd = kvm_ioctl(vm.as_raw_fd(), KVM_CREATE_VCPU, std::ptr::null_mut(), "KVM_CREATE_VCPU")?;
        // SAFETY: a new fd that we own.
        let vcpu = unsafe { File::from_raw_fd(vcpu_fd) };
        let run_size = kvm_ioctl(kvm.as_raw_fd(), KVM_GET_VCPU_MMAP_SIZE, std::ptr::null_mut(),
                                 "KVM_GET_VCPU_MMAP_SIZE")? as usize;
        // SAFETY: maps the vCPU's kvm_run; kept for the life of the process.
        let run = unsafe {
            mmap(std::ptr::null_mut(), run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                 vcpu.as_raw_fd(), 0)
        };
        if run as isize == -1 {
            return Err(err("mmap kvm_run"));
        }

        setup_cpuid(&kvm, &vcpu)?;

        // Real mode at 0:CODE (the reset state has CS base 0xffff0000).
        let mut sregs = [0u8; 312];
        kvm_ioctl(vcpu.as_raw_fd(), KVM_GET_SREGS, sregs.as_mut_ptr() as *mut c_void, "KVM_GET_SREGS")?;
        sregs[0..8].copy_from_slice(&0u64.to_ne_bytes()); // cs.base
        sregs[12..14].copy_from_slice(&0u16.to_ne_bytes()); // cs.selector
        kvm_ioctl(vcpu.as_raw_fd(), KVM_SET_SREGS, sregs.as_mut_ptr() as *mut c_void, "KVM_SET_SREGS")?;
        let mut regs = [0u64; 18];
        regs[6] = STACK_TOP; // rsp
        regs[16] = CODE as u64; // rip
        regs[17] = 2; // rflags
        kvm_ioctl(vcpu.as_raw_fd(), KVM_SET_REGS, regs.as_mut_ptr() as *mut c_void, "KVM_SET_REGS")?;

        // IA32_APIC_BASE: 0xfee00000, enabled, x2APIC, BSP.
        let mut msrs: [u64; 3] = [1, 0x1b, 0xfee0_0000 | 0x800 | 0x400 | 0x100];
        let n = kvm_ioctl(vcpu.as_raw_fd(), KVM_SET_MSRS, msrs.as_mut_ptr() as *mut c_void, "KVM_SET_MSRS")?;
        if n != 1 {
            return Err("KVM_SET_MSRS: IA32_APIC_BASE refused".into());
        }

        let (tx, rx) = channel();
        let rp = RunPtr(run as *mut u8);
        let thread = thread::spawn(move || vcpu_loop(vcpu, rp, tx));
        let g = Guest { _kvm: kvm, vm, rx, thread: Some(thread) };
        match g.rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ev::Ready) => Ok(g),
            Ok(ev) => Err(format!("guest did not start: {:?}", ev)),
            Err(_) => Err("guest did not start in 30 s".into()),
        }
    }

    /// Waits for the guest to take `vec`; any other vector is an error.
    fn expect_irq(&self, vec: u8) -> Result<(), String> {
        let start = Instant::now();
        match self.rx.recv_timeout(DELIVERY_TIMEOUT) {
            Ok(Ev::Irq(v)) if v == vec => Ok(()),
            Ok(ev) => Err(format!("waiting for vector {:#x}: got {:?}", vec, ev)),
            Err(RecvTimeoutError::Timeout) => Err(format!(
                "vector {:#x} not delivered in {:?}",
                vec,
                start.elapsed()
            )),
            Err(e) => Err(format!("vCPU thread gone: {}", e)),
        }
    }

    /// Nothing may reach the guest for QUIET.
    fn expect_quiet(&self, why: &str) -> Result<(), String> {
        match self.rx.recv_timeout(QUIET) {
            Err(RecvTimeoutError::Timeout) => Ok(()),
            Ok(ev) => Err(format!("{}: guest got {:?}", why, ev)),
            Err(e) => Err(format!("vCPU thread gone: {}", e)),
        }
    }

    /// Exactly one `vec`.
    fn expect_once(&self, vec: u8, why: &str) -> Result<(), String> {
        self.expect_irq(vec).map_err(|e| format!("{}: {}", why, e))?;
        self.expect_quiet(&format!("{}: after the one delivery", why))
    }
}

macro_rules! ensure {
    ($c:expr, $($fmt:tt)*) => {
        if !$c {
            return Err(format!($($fmt)*));
        }
    };
}

fn io_err(what: &str) -> impl Fn(io::Error) -> String + '_ {
    move |e| format!("{}: {}", what, e)
}

/// (1) A signal on the route's event reaches the guest once, at the
/// MSI's vector.
fn delivery(g: &Guest, att: &Attachment) -> Result<(), String> {
    let r = att.create_route().map_err(io_err("create_route"))?;
    r.set_msi(MSI_ADDR, VEC_DELIVERY as u32).map_err(io_err("set_msi"))?;
    r.event().signal().map_err(io_err("signal"))?;
    g.expect_once(VEC_DELIVERY, "delivery")?;
    ensure!(!r.consume_pending(), "pending after a delivery");
    // And again: the guest's EOI let the next edge in.
    r.event().signal().map_err(io_err("signal"))?;
    g.expect_once(VEC_DELIVERY, "second delivery")
}

/// (2) Masked: a signal sets pending, reaches nothing; consume_pending
/// reads and clears it. Masked signal then unmask: delivered once.
fn mask_pending_unmask(g: &Guest, att: &Attachment) -> Result<(), String> {
    let r = att.create_route().map_err(io_err("create_route"))?;
    r.set_msi(MSI_ADDR, VEC_MASK as u32).map_err(io_err("set_msi"))?;
    r.mask().map_err(io_err("mask"))?;
    r.event().signal().map_err(io_err("signal"))?;
    g.expect_quiet("masked route")?;
    ensure!(r.pending(), "masked signal left no pending bit");
    ensure!(r.consume_pending(), "consume_pending false after a masked signal");
    ensure!(!r.consume_pending(), "consume_pending true twice");
    r.unmask().map_err(io_err("unmask"))?;
    g.expect_quiet("unmask after consume_pending")?;

    r.mask().map_err(io_err("mask"))?;
    r.event().signal().map_err(io_err("signal"))?;
    g.expect_quiet("masked route")?;
    r.unmask().map_err(io_err("unmask"))?;
    g.expect_once(VEC_MASK, "unmask with pending")?;
    ensure!(!r.pending(), "still pending after unmask delivered");
    Ok(())
}

/// (3) Dropping a route frees its GSI (the next route gets it back) and
/// its old event no longer reaches the guest.
fn drop_frees_gsi(g: &Guest, att: &Attachment) -> Result<(), String> {
    let r = att.create_route().map_err(io_err("create_route"))?;
    let (gsi, index) = (r.gsi(), r.index());
    r.set_msi(MSI_ADDR, VEC_DROP as u32).map_err(io_err("set_msi"))?;
    r.event().signal().map_err(io_err("signal"))?;
    g.expect_once(VEC_DROP, "before drop")?;
    // SAFETY: dup returns a new fd that we own.
    let old = unsafe { dup(r.event().as_raw_fd()) };
    ensure!(old >= 0, "{}", err("dup"));
    // SAFETY: just created by dup.
    let old = unsafe { OwnedFd::from_raw_fd(old) };
    drop(r);

    let one = 1u64;
    // SAFETY: writes 8 bytes to an eventfd we own.
    let n = unsafe { write(old.as_raw_fd(), &one as *const u64 as *const c_void, 8) };
    ensure!(n == 8, "{}", err("write to the dropped route's eventfd"));
    g.expect_quiet("signal on a dropped route")?;

    let r2 = att.create_route().map_err(io_err("create_route after drop"))?;
    ensure!(
        r2.gsi() == gsi && r2.index() == index,
        "new route got GSI {} index {}, not the freed GSI {} index {}",
        r2.gsi(), r2.index(), gsi, index
    );
    ensure!(!r2.pending(), "reused route starts pending");
    r2.set_msi(MSI_ADDR, VEC_REUSE as u32).map_err(io_err("set_msi"))?;
    // SAFETY: as above.
    let n = unsafe { write(old.as_raw_fd(), &one as *const u64 as *const c_void, 8) };
    ensure!(n == 8, "{}", err("write to the dropped route's eventfd"));
    g.expect_quiet("old event after its GSI was reused")?;
    r2.event().signal().map_err(io_err("signal"))?;
    g.expect_once(VEC_REUSE, "reused GSI")
}

/// (4) A VM has one attachment: a second gets EBUSY.
fn second_attach_ebusy(_g: &Guest, att: &Attachment, vm: &File) -> Result<(), String> {
    match Attachment::attach(vm.as_fd(), None) {
        Ok(_) => Err("second attach to the same VM succeeded".into()),
        Err(e) if e.raw_os_error() == Some(EBUSY) => {
            // The first one still works.
            let r = att.create_route().map_err(io_err("create_route"))?;
            drop(r);
            Ok(())
        }
        Err(e) => Err(format!("second attach: {} (want EBUSY)", e)),
    }
}

/// (5) Without an MSI a signal stays pending; set_msi delivers it.
fn clear_msi_pending(g: &Guest, att: &Attachment) -> Result<(), String> {
    let r = att.create_route().map_err(io_err("create_route"))?;
    r.set_msi(MSI_ADDR, VEC_CLEAR as u32).map_err(io_err("set_msi"))?;
    r.clear_msi().map_err(io_err("clear_msi"))?;
    r.event().signal().map_err(io_err("signal"))?;
    g.expect_quiet("route without MSI")?;
    ensure!(r.pending(), "signal without MSI left no pending bit");
    r.set_msi(MSI_ADDR, VEC_CLEAR as u32).map_err(io_err("set_msi"))?;
    g.expect_once(VEC_CLEAR, "set_msi with pending")?;
    ensure!(!r.pending(), "still pending after set_msi delivered");
    Ok(())
}

/// (6) A `'static` route kept as a trait object, the way the Rust VMMs
/// keep theirs, delivers and masks; the attachment outlives it through
/// the route's own share.
fn owned_route(g: &Guest, att: &Arc<Attachment>) -> Result<(), String> {
    let r: Box<dyn IrqFdRoute> =
        Box::new(OwnedRoute::create(att).map_err(io_err("OwnedRoute::create"))?);
    ensure!(Arc::strong_count(att) == 2, "the route holds no share of the attachment");
    r.set_msi(MSI_ADDR, VEC_OWNED as u32).map_err(io_err("set_msi"))?;
    r.event().signal().map_err(io_err("signal"))?;
    g.expect_once(VEC_OWNED, "owned route")?;
    r.mask().map_err(io_err("mask"))?;
    r.event().signal().map_err(io_err("signal"))?;
    g.expect_quiet("masked owned route")?;
    r.unmask().map_err(io_err("unmask"))?;
    g.expect_once(VEC_OWNED, "owned route's unmask")?;
    drop(r);
    ensure!(Arc::strong_count(att) == 1, "the dropped route kept its share");
    Ok(())
}

/// (7) Save, hand-over and restore (libirqroute 1.1): a masked route's
/// pending edge survives its route being destroyed with hand-over and
/// restored on the handed-over eventfd, and arrives once at unmask;
/// set_pending on the unmasked route delivers once.
fn save_restore_handover(g: &Guest, att: &Attachment) -> Result<(), String> {
    let r = att.create_route().map_err(io_err("create_route"))?;
    r.set_msi(MSI_ADDR, VEC_SAVED as u32).map_err(io_err("set_msi"))?;
    r.mask().map_err(io_err("mask"))?;
    r.event().signal().map_err(io_err("signal"))?;
    g.expect_quiet("masked route")?;
    let st = r.save().map_err(io_err("save"))?;
    let want = RouteState::MSI | RouteState::MASKED | RouteState::PENDING;
    ensure!(st.flags == want, "saved flags {:#x}, want {:#x}", st.flags, want);
    ensure!(st.data == VEC_SAVED as u32 && st.gsi == r.gsi(), "saved {:?}", st);
    let fd = r.handover().map_err(|(_, e)| format!("handover: {}", e))?;
    let r2 = att
        .restore_route(&st, Some(fd.as_fd()))
        .map_err(io_err("restore_route"))?;
    ensure!(r2.gsi() == st.gsi, "restored at GSI {}, saved {}", r2.gsi(), st.gsi);
    ensure!(r2.pending(), "restored route not pending");
    g.expect_quiet("restored masked route")?;
    r2.unmask().map_err(io_err("unmask"))?;
    g.expect_once(VEC_SAVED, "restored route's unmask")?;
    r2.set_pending().map_err(io_err("set_pending"))?;
    g.expect_once(VEC_SAVED, "set_pending on an unmasked route")?;
    drop(r2);
    // The handed-over eventfd is ours and still open.
    // SAFETY: a query on a descriptor we own.
    ensure!(
        unsafe { fcntl(fd.as_raw_fd(), F_GETFD) } >= 0,
        "the restored route closed the caller's eventfd"
    );
    Ok(())
}

/// (8) A group's PBA words and a delegation file (libirqroute 1.1).
fn group_and_delegation(g: &Guest, att: &Attachment) -> Result<(), String> {
    let grp = att.create_group(3, None).map_err(io_err("create_group"))?;
    ensure!(grp.base() % 64 == 0, "group base {} not word-aligned", grp.base());
    for i in 0..3 {
        let r = grp.route(i).ok_or("no route in the group")?;
        r.set_msi(MSI_ADDR, (VEC_GROUP + i as u8) as u32).map_err(io_err("set_msi"))?;
    }
    let r1 = grp.route(1).ok_or("no vector 1")?;
    r1.mask().map_err(io_err("mask"))?;
    r1.event().signal().map_err(io_err("signal"))?;
    g.expect_quiet("masked vector 1")?;
    ensure!(grp.pending(0).map_err(io_err("pending"))? == 0b10, "PBA word not 0b10");
    ensure!(grp.consume_pending(0).map_err(io_err("consume"))? == 0b10, "consumed not 0b10");
    ensure!(grp.pending(0).map_err(io_err("pending"))? == 0, "PBA word not empty");

    let fd = grp.delegate().map_err(io_err("delegate"))?;
    let d = Delegation::from_fd(fd.as_fd().try_clone_to_owned().map_err(io_err("dup"))?);
    drop(fd);
    d.mask(2).map_err(io_err("delegate mask"))?;
    grp.route(2).ok_or("no vector 2")?.event().signal().map_err(io_err("signal"))?;
    g.expect_quiet("vector 2 masked by the delegate")?;
    ensure!(d.pending(2).map_err(io_err("delegate pending"))?, "delegate sees nothing pending");
    ensure!(d.mask(3).is_err(), "the delegate reached past its group");
    d.unmask(2).map_err(io_err("delegate unmask"))?;
    g.expect_once(VEC_GROUP + 2, "delegate's unmask")?;
    ensure!(!d.consume_pending(2).map_err(io_err("consume"))?, "still pending");
    drop(grp);
    Ok(())
}

fn main() {
    let names = [
        "vm.delivery",
        "vm.mask_pending_unmask",
        "vm.drop_frees_gsi",
        "vm.second_attach_ebusy",
        "vm.clear_msi_pending",
        "vm.owned_route",
        "vm.save_restore_handover",
        "vm.group_and_delegation",
    ];
    println!("TAP version 13");
    println!("# irqroute crate, libirqroute {}", irqroute::version());
    println!("1..{}", names.len());

    let setup = Guest::start().and_then(|g| {
        Attachment::attach(g.vm.as_fd(), None)
            .map(|a| (g, Arc::new(a)))
            .map_err(|e| format!("attach: {}", e))
    });
    let (mut g, att) = match setup {
        Ok(x) => x,
        Err(e) => {
            for (i, n) in names.iter().enumerate() {
                println!("# {}", e);
                println!("not ok {} {}", i + 1, n);
            }
            std::process::exit(1);
        }
    };

    let mut failed = 0;
    let mut passed = 0;
    for (i, n) in names.iter().enumerate() {
        println!("#  RUN           {} ...", n);
        let res = match i {
            0 => delivery(&g, &att),
            1 => mask_pending_unmask(&g, &att),
            2 => drop_frees_gsi(&g, &att),
            3 => second_attach_ebusy(&g, &att, &g.vm),
            4 => clear_msi_pending(&g, &att),
            5 => owned_route(&g, &att),
            6 => save_restore_handover(&g, &att),
            _ => group_and_delegation(&g, &att),
        };
        match res {
            Ok(()) => {
                passed += 1;
                println!("ok {} {}", i + 1, n);
            }
            Err(e) => {
                failed += 1;
                println!("# {}: {}", n, e);
                println!("not ok {} {}", i + 1, n);
            }
        }
    }

    // The guest must still be alive and well: the stop vector ends it.
    let stopped = att
        .create_route()
        .map_err(io_err("create_route"))
        .and_then(|r| {
            r.set_msi(MSI_ADDR, VEC_STOP as u32).map_err(io_err("set_msi"))?;
            r.event().signal().map_err(io_err("signal"))?;
            loop {
                match g.rx.recv_timeout(DELIVERY_TIMEOUT) {
                    Ok(Ev::Stop) => return Ok(()),
                    Ok(Ev::Irq(v)) => println!("# late vector {:#x} before stop", v),
                    Ok(ev) => return Err(format!("stopping the guest: {:?}", ev)),
                    Err(e) => return Err(format!("stopping the guest: {}", e)),
                }
            }
        });
    match stopped {
        Ok(()) => {
            if let Some(t) = g.thread.take() {
                let _ = t.join();
            }
        }
        Err(e) => {
            println!("# {}", e);
            failed += 1;
        }
    }
    drop(att);
    println!("# totals: pass:{} fail:{}", passed, failed);
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
