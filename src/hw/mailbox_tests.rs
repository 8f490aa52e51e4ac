//! Unit tests of `mailbox`.

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
