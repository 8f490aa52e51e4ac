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
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn messages_have_the_firmware_layout() {
        let m = message(mbox::TAG_ALLOCATE, &[4096, 4096, 0xC], 1);
        assert_eq!(m, vec![36, 0, 0x3000C, 12, 0, 4096, 4096, 0xC, 0]);
        let m = message(mbox::TAG_LOCK, &[7], 1);
        assert_eq!(m, vec![28, 0, 0x3000D, 4, 0, 7, 0]);
    }

    #[test]
    fn answers_are_checked() {
        let ok = [
            28,
            mbox::RESPONSE_OK,
            0x3000D,
            4,
            mbox::TAG_RESPONSE | 4,
            0xC010_0000,
            0,
        ];
        assert_eq!(answer(0x3000D, &ok).unwrap(), &[0xC010_0000]);
        let mut refused = ok;
        refused[1] = mbox::RESPONSE_ERROR;
        assert!(answer(0x3000D, &refused)
            .unwrap_err()
            .to_string()
            .contains("0x80000001"));
        let mut unanswered = ok;
        unanswered[4] = 0;
        assert!(answer(0x3000D, &unanswered).is_err());
        assert!(answer(0x3000C, &ok).is_err());
    }

    #[test]
    fn ioctl_number_matches_the_kernel_header() {
        let expected = if cfg!(target_pointer_width = "64") {
            0xC008_6400
        } else {
            0xC004_6400
        };
        assert_eq!(ioctl_mbox_property(), expected);
    }

    /// A firmware stand-in: hands out handle 5 at bus 0xC0100000, records the tags.
    struct Fake(Mutex<Vec<u32>>);
    impl MailboxTransport for Fake {
        fn call(&self, buf: &mut [u32]) -> Result<(), HwError> {
            self.0.lock().unwrap().push(buf[2]);
            buf[1] = mbox::RESPONSE_OK;
            buf[4] = mbox::TAG_RESPONSE | 4;
            buf[5] = match buf[2] {
                mbox::TAG_ALLOCATE => 5,
                mbox::TAG_LOCK => 0xC010_0000,
                _ => 0,
            };
            Ok(())
        }
    }

    #[test]
    fn memory_calls_round_trip() {
        let mb = Mailbox::new(Fake(Mutex::new(Vec::new())));
        let h = mb.allocate(8192, 4096, 4).unwrap();
        assert_eq!(mb.lock(h).unwrap(), 0xC010_0000);
        mb.unlock(h).unwrap();
        mb.release(h).unwrap();
        let tags = mb.transport.0.lock().unwrap().clone();
        assert_eq!(tags, vec![0x3000C, 0x3000D, 0x3000E, 0x3000F]);
    }

    #[test]
    fn missing_vcio_is_named() {
        let e = Vcio::open(Path::new("/nonexistent/vcio")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/vcio"));
    }
}
