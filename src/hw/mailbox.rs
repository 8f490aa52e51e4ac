//! The VideoCore property mailbox: how DMA-able, uncached memory is allocated and locked.
//!
//! The message format is the firmware's; only the transport differs: `/dev/vcio` on a Pi, the
//! mailbox registers of the emulated board in tests. Both share [`Mailbox`].

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use super::mmio::Mapping;
use super::regs::mbox;
use super::HwError;

/// Carries one property buffer to the firmware and back, in place.
pub trait MailboxTransport: Send {
    /// Sends `buf` (a whole property message) and waits for the answer written into it.
    fn call(&self, buf: &mut [u32]) -> Result<(), HwError>;
}

impl<T: MailboxTransport + ?Sized> MailboxTransport for Box<T> {
    fn call(&self, buf: &mut [u32]) -> Result<(), HwError> {
        (**self).call(buf)
    }
}

/// A property message with one tag: `[size, REQUEST, tag, value bytes, 0, values…, end tag]`.
pub fn message(tag: u32, args: &[u32], answer_words: usize) -> Vec<u32> {
    let value_words = args.len().max(answer_words);
    let mut buf = Vec::with_capacity(6 + value_words);
    buf.extend([0, mbox::REQUEST, tag, (value_words * 4) as u32, 0]);
    buf.extend(args);
    buf.resize(5 + value_words, 0);
    buf.push(0); // end tag
    buf[0] = (buf.len() * 4) as u32;
    buf
}

/// The values of an answered one-tag message, after checking the firmware's response codes.
pub fn answer(tag: u32, buf: &[u32]) -> Result<&[u32], HwError> {
    let bad = |why: &str| HwError::Device(format!("mailbox tag {tag:#x}: {why}"));
    if buf.len() < 6 || buf[2] != tag {
        return Err(bad("malformed answer"));
    }
    if buf[1] != mbox::RESPONSE_OK {
        return Err(bad(&format!("firmware answered {:#x}", buf[1])));
    }
    if buf[4] & mbox::TAG_RESPONSE == 0 {
        return Err(bad("tag not answered (unsupported by this firmware?)"));
    }
    let len = ((buf[4] & !mbox::TAG_RESPONSE) as usize).div_ceil(4);
    buf.get(5..5 + len)
        .ok_or_else(|| bad("answer longer than the buffer"))
}

/// The four memory calls DMA needs.
pub struct Mailbox<T: MailboxTransport> {
    transport: T,
}

impl<T: MailboxTransport> Mailbox<T> {
    /// Wraps a transport.
    pub fn new(transport: T) -> Self {
        Mailbox { transport }
    }

    /// One call with one tag; returns the first answer word.
    fn call(&self, tag: u32, args: &[u32]) -> Result<u32, HwError> {
        let mut buf = message(tag, args, 1);
        self.transport.call(&mut buf)?;
        answer(tag, &buf)?
            .first()
            .copied()
            .ok_or_else(|| HwError::Device(format!("mailbox tag {tag:#x}: empty answer")))
    }

    /// Allocates `size` bytes of GPU memory; returns a handle (never 0).
    pub fn allocate(&self, size: u32, align: u32, flags: u32) -> Result<u32, HwError> {
        match self.call(mbox::TAG_ALLOCATE, &[size, align, flags])? {
            0 => Err(HwError::Device(format!(
                "the firmware could not allocate {size} bytes of DMA memory (gpu_mem too small?)"
            ))),
            handle => Ok(handle),
        }
    }

    /// Locks an allocation in place; returns its bus address.
    pub fn lock(&self, handle: u32) -> Result<u32, HwError> {
        match self.call(mbox::TAG_LOCK, &[handle])? {
            0 => Err(HwError::Device(format!(
                "the firmware could not lock handle {handle}"
            ))),
            bus => Ok(bus),
        }
    }

    /// Unlocks an allocation.
    pub fn unlock(&self, handle: u32) -> Result<(), HwError> {
        self.call(mbox::TAG_UNLOCK, &[handle]).map(drop)
    }

    /// Frees an allocation.
    pub fn release(&self, handle: u32) -> Result<(), HwError> {
        self.call(mbox::TAG_RELEASE, &[handle]).map(drop)
    }
}

/// The kernel's mailbox device on a Pi.
#[derive(Debug)]
pub struct Vcio {
    file: File,
}

/// `_IOWR(100, 0, char *)`: the property ioctl; the size field is that of a pointer.
const fn ioctl_mbox_property() -> libc::c_ulong {
    let size = std::mem::size_of::<*mut u8>() as libc::c_ulong;
    (3 << 30) | (size << 16) | (100 << 8)
}

impl Vcio {
    /// Opens `/dev/vcio` (or another path in tests).
    pub fn open(path: &Path) -> Result<Vcio, HwError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map_err(|source| HwError::Open {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Vcio { file })
    }
}

impl MailboxTransport for Vcio {
    fn call(&self, buf: &mut [u32]) -> Result<(), HwError> {
        // SAFETY: the ioctl reads and writes at most buf[0] bytes, which `message` sets to the
        // buffer's own length; the buffer outlives the call.
        let rc = unsafe {
            libc::ioctl(
                self.file.as_raw_fd(),
                ioctl_mbox_property() as _,
                buf.as_mut_ptr(),
            )
        };
        if rc < 0 {
            return Err(HwError::Device(format!(
                "/dev/vcio property call failed: {}",
                std::io::Error::last_os_error()
            )));
        }
        Ok(())
    }
}

/// The mailbox registers themselves, as the emulated board serves them: the message is written
/// to a buffer in board memory and its bus address rung through WRITE; READ carries the answer.
pub struct MailboxRegisters {
    regs: Mapping,
    buffer: Mapping,
    buffer_bus: u32,
    timeout: Duration,
}

impl MailboxRegisters {
    /// Uses `regs` (the mailbox block) and `buffer`, whose bus address is `buffer_bus`.
    pub fn new(regs: Mapping, buffer: Mapping, buffer_bus: u32) -> Self {
        MailboxRegisters {
            regs,
            buffer,
            buffer_bus,
            timeout: Duration::from_secs(2),
        }
    }
}

impl MailboxTransport for MailboxRegisters {
    fn call(&self, buf: &mut [u32]) -> Result<(), HwError> {
        if buf.len() * 4 > self.buffer.len() {
            return Err(HwError::Device(format!(
                "mailbox message of {} bytes exceeds the {}-byte buffer",
                buf.len() * 4,
                self.buffer.len()
            )));
        }
        self.buffer.copy_in(0, buf);
        self.regs.write32(mbox::READ, 0);
        let doorbell = (self.buffer_bus & !0xF) | mbox::CHANNEL_PROPERTY;
        self.regs.write32(mbox::WRITE, doorbell);
        let start = Instant::now();
        while self.regs.read32(mbox::READ) != doorbell {
            if start.elapsed() > self.timeout {
                self.regs.write32(mbox::WRITE, 0);
                return Err(HwError::Timeout {
                    what: format!(
                        "the mailbox to answer within {:?} (is the emulator running?)",
                        self.timeout
                    ),
                });
            }
            std::thread::sleep(Duration::from_micros(50));
        }
        self.regs.write32(mbox::READ, 0);
        self.buffer.copy_out(0, buf);
        Ok(())
    }
}

#[cfg(test)]
#[path = "mailbox_tests.rs"]
mod tests;
